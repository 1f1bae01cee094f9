import { withMerchant } from '@/lib/api/handler';
import { giftParams } from '@/lib/gifts/schemas';
import { getGift } from '@/lib/gifts/service';

// GET /api/gifts/:id -> the gift with its coupon and latest announcement (404 for another merchant's).
export const GET = withMerchant({ params: giftParams }, ({ tx, merchant, params }) => getGift(tx, merchant.userId, params.id));
