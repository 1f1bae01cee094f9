import { withMerchant } from '@/lib/api/handler';
import { journeyAnalytics } from '@/lib/customers/service';

// GET /api/customers/analytics -> stage and collection distribution, funnel, KPIs (computed in SQL).
export const GET = withMerchant({}, ({ tx, merchant }) => journeyAnalytics(tx, merchant.userId));
