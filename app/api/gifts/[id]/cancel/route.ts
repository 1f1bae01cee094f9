import { withMerchant } from '@/lib/api/handler';
import { giftParams } from '@/lib/gifts/schemas';
import { cancelGift } from '@/lib/gifts/service';

// POST /api/gifts/:id/cancel -> the gift, cancelled with its waiting announcement (409 once claimed or over).
export const POST = withMerchant({ params: giftParams }, ({ tx, merchant, params }) => cancelGift(tx, merchant.userId, params.id));
