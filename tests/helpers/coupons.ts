import { withSystem, withTenant } from '@/lib/db';
import type { CouponCreate, CouponValidation } from '@/lib/coupons/schemas';
import { createCoupon, validateCoupon } from '@/lib/coupons/service';

/** Create a coupon through the real service as the merchant (RLS on). */
export async function makeCoupon(userId: string, input: Partial<CouponCreate> & { code: string }) {
  return withTenant(userId, (tx) =>
    createCoupon(tx, userId, { status: 'active', discountType: 'percentage', discountValue: 10, ...input } as CouponCreate));
}

export async function validate(userId: string, input: { code: string; email: string; cartTotal: number; quantity?: number; productIds?: string[] }): Promise<CouponValidation> {
  return withTenant(userId, (tx) => validateCoupon(tx, userId, { quantity: 1, productIds: [], ...input }));
}

/** Redeem through the real order flow: an order carrying the code. */
export async function orderWithCode(
  userId: string,
  o: { id: string; email: string; total: number; code: string; quantity?: number; productIds?: string[]; at?: Date; amount?: number },
) {
  const at = o.at ?? new Date();
  // Line items add up to the cart total, as the shop's order does before discounts.
  const products = o.productIds ?? ['p-any'];
  const quantity = o.quantity ?? 1;
  const lineItems = products.map((productId) => ({ productId, quantity, price: o.total / (products.length * quantity) }));
  return withSystem(async (tx) => {
    const [r] = await tx<{ r: { applied: boolean; effects?: { coupons?: { accepted: number; rejected: number } } } }[]>`
      select private.apply_order(${userId}, ${tx.json({
        shopOrderId: o.id, email: o.email, total: o.total, orderedAt: at.toISOString(), lineItems,
        discountCodes: [{ code: o.code, ...(o.amount !== undefined ? { amount: o.amount } : {}) }],
      })}, ${at}) as r`;
    return r?.r;
  });
}

export async function lastUse(userId: string, shopOrderId: string) {
  const [u] = await withSystem((tx) => tx<{ status: string; reason: string | null; discountAmount: number }[]>`
    select status, reason, discount_amount from public.coupon_uses where user_id = ${userId} and shop_order_id = ${shopOrderId}`);
  return u;
}
