import { json, withServerKey } from '@/lib/api/handler';
import { storefrontRedeemBody } from '@/lib/loyalty/schemas';
import { storefrontRedeem } from '@/lib/loyalty/storefront';
import { merchantForServerKey } from '@/lib/settings/server-key';

// POST /api/loyalty/storefront/redeem {email, rewardId, requestId?} (server key) -> 201 {code, balance, ...}; 409 / 422 with the reason.
export const POST = withServerKey({ body: storefrontRedeemBody }, merchantForServerKey, async ({ tx, userId, body }) =>
  json(await storefrontRedeem(tx, userId, body.email, body.rewardId, body.requestId), 201));
