import { withMerchant } from '@/lib/api/handler';
import { giftParams } from '@/lib/gifts/schemas';
import { resendGift } from '@/lib/gifts/service';

// POST /api/gifts/:id/resend -> {action: sent|brought_forward|retried, gift}: the announcement again, now.
export const POST = withMerchant({ params: giftParams }, ({ tx, merchant, params }) => resendGift(tx, merchant.userId, params.id));
