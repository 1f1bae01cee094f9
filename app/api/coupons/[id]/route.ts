import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { couponPatch } from '@/lib/coupons/schemas';
import { deleteCoupon, getCoupon, updateCoupon } from '@/lib/coupons/service';

const params = z.object({ id: z.uuid('Not a coupon id') });

export const GET = withMerchant({ params }, ({ tx, merchant, params: { id } }) => getCoupon(tx, merchant.userId, id));

export const PATCH = withMerchant({ params, body: couponPatch }, ({ tx, merchant, params: { id }, body }) =>
  updateCoupon(tx, merchant.userId, id, body));

// DELETE removes an unused coupon; a used one is archived, and the answer says so.
export const DELETE = withMerchant({ params }, ({ tx, merchant, params: { id } }) => deleteCoupon(tx, merchant.userId, id));
