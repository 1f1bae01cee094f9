import { withMerchant } from '@/lib/api/handler';
import { referralStats } from '@/lib/loyalty/dashboard';

// GET /api/loyalty/referrals/stats -> counts by status and refusal reason, conversion rate, revenue, top referrers.
export const GET = withMerchant({}, ({ tx, merchant }) => referralStats(tx, merchant.userId));
