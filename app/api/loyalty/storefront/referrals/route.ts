import { json, withServerKey } from '@/lib/api/handler';
import { storefrontReferralBody } from '@/lib/loyalty/schemas';
import { storefrontReferral } from '@/lib/loyalty/storefront';
import { merchantForServerKey } from '@/lib/settings/server-key';

// POST /api/loyalty/storefront/referrals {code, email} (server key) -> 201 {referralId, code (the friend's coupon), status}.
export const POST = withServerKey({ body: storefrontReferralBody }, merchantForServerKey, async ({ tx, userId, body }) =>
  json(await storefrontReferral(tx, userId, body.code, body.email), 201));
