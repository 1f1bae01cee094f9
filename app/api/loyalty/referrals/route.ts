import { withMerchant } from '@/lib/api/handler';
import { referralListQuery } from '@/lib/loyalty/schemas';
import { listReferrals } from '@/lib/loyalty/dashboard';

// GET /api/loyalty/referrals?status&referrerId&limit&offset -> a page of referrals, newest first.
export const GET = withMerchant({ query: referralListQuery }, ({ tx, merchant, query }) => listReferrals(tx, merchant.userId, query));
