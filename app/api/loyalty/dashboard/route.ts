import { withMerchant } from '@/lib/api/handler';
import { loyaltyDashboard } from '@/lib/loyalty/dashboard';

// GET /api/loyalty/dashboard -> members, points issued / redeemed / expired / clawed back, outstanding
// points and liability, tier distribution, 12 weeks of points, recent redemptions.
export const GET = withMerchant({}, ({ tx, merchant }) => loyaltyDashboard(tx, merchant.userId));
