import { withMerchant } from '@/lib/api/handler';
import { getCollectionMappings, putCollectionMappings } from '@/lib/settings/collections';
import { collectionMappingsUpdate } from '@/lib/settings/schemas';

// GET /api/settings/collections -> {mappings}; PUT replaces the product -> collection map.
export const GET = withMerchant({}, ({ tx, merchant }) => getCollectionMappings(tx, merchant.userId));
export const PUT = withMerchant({ body: collectionMappingsUpdate }, ({ tx, merchant, body }) =>
  putCollectionMappings(tx, merchant.userId, body));
