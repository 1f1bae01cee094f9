import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Sql } from '@/lib/db';
import { makeCoupon } from '@/tests/helpers/coupons';
import { createMerchant } from '@/tests/helpers/merchants';

let userId: string;
let pool: Sql;

beforeAll(async () => {
  userId = (await createMerchant('coupon-race')).userId;
  pool = connect(process.env.DATABASE_URL ?? '', 25);
});
afterAll(() => pool.end());

describe('a limited coupon never oversells', () => {
  it('50 orders on separate connections at once, limit 10: exactly 10 accepted, 40 rejected, depleted', async () => {
    await makeCoupon(userId, { code: 'LIMITED10', usageLimit: 10, perCustomerLimit: null });
    // Hold the gate so all 50 transactions start together.
    const gate = await pool.reserve();
    await gate`select pg_advisory_lock(4242)`;
    const orders = Array.from({ length: 50 }, (_, i) =>
      pool.begin(async (tx) => {
        await tx`select pg_advisory_lock_shared(4242)`;
        await tx`select pg_advisory_unlock_shared(4242)`;
        return tx`select private.apply_order(${userId}, ${tx.json({
          shopOrderId: `race-${i}`, email: `buyer${i}@example.test`, total: 40, orderedAt: new Date().toISOString(),
          discountCodes: [{ code: 'limited10' }],
        })})`;
      }));
    await new Promise((r) => setTimeout(r, 300));
    await gate`select pg_advisory_unlock(4242)`;
    gate.release();
    const results = await Promise.allSettled(orders);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);

    const [c] = await pool<{ usageCount: number; rejectedCount: number; status: string; accepted: number; rejected: number }[]>`
      select c.usage_count, c.rejected_count, c.status,
             (select count(*)::int from public.coupon_uses u where u.coupon_id = c.id and u.status = 'accepted') as accepted,
             (select count(*)::int from public.coupon_uses u where u.coupon_id = c.id and u.status = 'rejected') as rejected
        from public.coupons_counted c where c.user_id = ${userId} and c.code = 'LIMITED10'`;
    expect(c).toEqual({ usageCount: 10, rejectedCount: 40, status: 'depleted', accepted: 10, rejected: 40 });
    const reasons = await pool<{ reason: string }[]>`
      select distinct reason from public.coupon_uses u join public.coupons c on c.id = u.coupon_id
       where c.code = 'LIMITED10' and u.status = 'rejected'`;
    expect(reasons.map((r) => r.reason)).toEqual(['depleted']);
  });
});
