import { json, withMerchant } from '@/lib/api/handler';
import { couponBulkCreate, type CouponBatch } from '@/lib/coupons/schemas';
import { bulkCreateCoupons } from '@/lib/coupons/service';

// POST /api/coupons/bulk {prefix, count <= 10000, ...discount} -> 201 {batchId, count, csvUrl}
export const POST = withMerchant({ body: couponBulkCreate }, async ({ tx, merchant, body }) => {
  const batch = await bulkCreateCoupons(tx, merchant.userId, body);
  const result: CouponBatch = { ...batch, csvUrl: `/api/coupons/batches/${batch.batchId}/codes` };
  return json(result, 201);
});
