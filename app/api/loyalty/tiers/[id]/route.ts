import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { tierPatch } from '@/lib/loyalty/schemas';
import { deleteTier, updateTier } from '@/lib/loyalty/service';

const params = z.object({ id: z.uuid('Not a tier id') });

export const PATCH = withMerchant({ params, body: tierPatch }, ({ tx, merchant, params: { id }, body }) => updateTier(tx, merchant.userId, id, body));

// DELETE: refused (409) while a reward requires the tier; its members move to the tiers that remain.
export const DELETE = withMerchant({ params }, ({ tx, merchant, params: { id } }) => deleteTier(tx, merchant.userId, id));
