import { json, withMerchant } from '@/lib/api/handler';
import { collectionCreate } from '@/lib/collections/schemas';
import { createCollection, listCollections } from '@/lib/collections/service';

// GET /api/collections -> {collections}, in display order with product counts.
export const GET = withMerchant({}, ({ tx, merchant }) => listCollections(tx, merchant.userId));

// POST /api/collections {name, slug?} -> 201 collection (slug made from the name when left out).
export const POST = withMerchant({ body: collectionCreate }, async ({ tx, merchant, body }) =>
  json(await createCollection(tx, merchant.userId, body), 201));
