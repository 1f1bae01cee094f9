import { json, withMerchant } from '@/lib/api/handler';
import { couponCreate, couponListQuery } from '@/lib/coupons/schemas';
import { createCoupon, listCoupons } from '@/lib/coupons/service';

// GET /api/coupons?status&source&search&stats=true -> {coupons, total, stats?}
export const GET = withMerchant({ query: couponListQuery }, ({ tx, merchant, query }) => listCoupons(tx, merchant.userId, query));

// POST /api/coupons -> 201 coupon; a duplicate code is 409.
export const POST = withMerchant({ body: couponCreate }, async ({ tx, merchant, body }) =>
  json(await createCoupon(tx, merchant.userId, body), 201));
