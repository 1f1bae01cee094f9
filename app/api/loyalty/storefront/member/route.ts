import { withServerKey } from '@/lib/api/handler';
import { storefrontMemberQuery } from '@/lib/loyalty/schemas';
import { storefrontMember } from '@/lib/loyalty/storefront';
import { merchantForServerKey } from '@/lib/settings/server-key';

// GET /api/loyalty/storefront/member?email= (Authorization: Bearer sk_...) -> balance, tier, progress,
// rewards the member can redeem now, referral code and link.
export const GET = withServerKey({ query: storefrontMemberQuery }, merchantForServerKey, ({ tx, userId, query }) =>
  storefrontMember(tx, userId, query.email));
