import { withMerchant } from '@/lib/api/handler';
import { giftStats } from '@/lib/gifts/service';

// GET /api/gifts/stats -> counts by status, claim rate, value claimed and outstanding, announcements held.
export const GET = withMerchant({}, ({ tx, merchant }) => giftStats(tx, merchant.userId));
