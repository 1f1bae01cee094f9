import { withMerchant } from '@/lib/api/handler';
import { collectionMappingsUpdate } from '@/lib/collections/schemas';
import { getCollectionMappings, putCollectionMappings } from '@/lib/collections/service';

// GET /api/collections/products -> {mappings}; PUT replaces the product -> collection map.
export const GET = withMerchant({}, ({ tx, merchant }) => getCollectionMappings(tx, merchant.userId));
export const PUT = withMerchant({ body: collectionMappingsUpdate }, ({ tx, merchant, body }) =>
  putCollectionMappings(tx, merchant.userId, body));
