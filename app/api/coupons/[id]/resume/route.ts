import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { setCouponActive } from '@/lib/coupons/service';

const params = z.object({ id: z.uuid('Not a coupon id') });

// Resumes a paused coupon or activates a draft.
export const POST = withMerchant({ params }, ({ tx, merchant, params: { id } }) => setCouponActive(tx, merchant.userId, id, true));
