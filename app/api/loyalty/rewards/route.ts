import { json, withMerchant } from '@/lib/api/handler';
import { rewardCreate } from '@/lib/loyalty/schemas';
import { createReward, listRewards } from '@/lib/loyalty/service';

// GET /api/loyalty/rewards -> {rewards} by points cost (deleted ones are hidden).
export const GET = withMerchant({}, ({ tx, merchant }) => listRewards(tx, merchant.userId));

// POST /api/loyalty/rewards {name, pointsCost, rewardType, rewardValue?, ...} -> 201
export const POST = withMerchant({ body: rewardCreate }, async ({ tx, merchant, body }) => json(await createReward(tx, merchant.userId, body), 201));
