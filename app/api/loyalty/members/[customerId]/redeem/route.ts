import { z } from 'zod';
import { json, withMerchant } from '@/lib/api/handler';
import { redeemBody } from '@/lib/loyalty/schemas';
import { redeemReward } from '@/lib/loyalty/service';

const params = z.object({ customerId: z.uuid('Not a customer id') });

// POST /api/loyalty/members/[customerId]/redeem {rewardId, requestId?} -> 201 {redemptionId, code, pointsSpent, balance, ...};
// 409 (balance, sold out) or 422 (tier, orders, limit, window) with the reason.
export const POST = withMerchant({ params, body: redeemBody }, async ({ tx, merchant, params: { customerId }, body }) =>
  json(await redeemReward(tx, merchant.userId, customerId, body.rewardId, body.requestId), 201));
