import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { collectionPatch, collectionSlug } from '@/lib/collections/schemas';
import { deleteCollection, updateCollection } from '@/lib/collections/service';

const params = z.object({ slug: collectionSlug });

// PATCH renames or moves a collection; DELETE removes it with its mappings and scores.
export const PATCH = withMerchant({ params, body: collectionPatch }, ({ tx, merchant, params: { slug }, body }) =>
  updateCollection(tx, merchant.userId, slug, body));
export const DELETE = withMerchant({ params }, ({ tx, merchant, params: { slug } }) => deleteCollection(tx, merchant.userId, slug));
