import { withMerchant } from '@/lib/api/handler';
import { cohortsQuery } from '@/lib/analytics/schemas';
import { cohorts } from '@/lib/analytics/service';

// GET /api/analytics/cohorts?months=12 -> customers by first-order month and the share of each
// who ordered again in every later month (months of the merchant's time zone).
export const GET = withMerchant({ query: cohortsQuery }, ({ tx, merchant, query }) => cohorts(tx, merchant.userId, query));
