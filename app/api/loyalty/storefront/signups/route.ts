import { withServerKey } from '@/lib/api/handler';
import { storefrontSignupBody } from '@/lib/loyalty/schemas';
import { storefrontSignup } from '@/lib/loyalty/storefront';
import { merchantForServerKey } from '@/lib/settings/server-key';

// POST /api/loyalty/storefront/signups {email} (server key): the shopper created an account -> {points} (0 for a replay).
export const POST = withServerKey({ body: storefrontSignupBody }, merchantForServerKey, ({ tx, userId, body }) =>
  storefrontSignup(tx, userId, body.email));
