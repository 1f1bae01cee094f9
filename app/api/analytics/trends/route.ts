import { withMerchant } from '@/lib/api/handler';
import { trendsQuery } from '@/lib/analytics/schemas';
import { trends } from '@/lib/analytics/service';

// GET /api/analytics/trends?from=YYYY-MM-DD&to=YYYY-MM-DD&interval=day|week -> points and totals,
// with the period of equal length before it for comparison.
export const GET = withMerchant({ query: trendsQuery }, ({ tx, merchant, query }) => trends(tx, merchant.userId, query));
