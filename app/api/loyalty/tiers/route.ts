import { json, withMerchant } from '@/lib/api/handler';
import { tierCreate } from '@/lib/loyalty/schemas';
import { createTier, listTiers } from '@/lib/loyalty/service';

// GET /api/loyalty/tiers -> {tiers: [...with members]} in tier order.
export const GET = withMerchant({}, ({ tx, merchant }) => listTiers(tx, merchant.userId));

// POST /api/loyalty/tiers {name, tierOrder, threshold, pointsMultiplier?, perks?, badgeColor?, description?} -> 201
export const POST = withMerchant({ body: tierCreate }, async ({ tx, merchant, body }) => json(await createTier(tx, merchant.userId, body), 201));
