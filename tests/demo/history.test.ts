import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '@/lib/db';
import { seedHistory } from '@/lib/demo/history';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

let m: TestMerchant;

beforeAll(async () => {
  m = await createMerchant('demo');
  await seedHistory(db(), m.userId, { customers: 400, months: 12 });
}, 120_000);

describe('the demo history tells a story a merchant would believe', () => {
  it('every code is used, gives a discount the shop reported, and is rarely refused', async () => {
    const coupons = await db()<{ code: string; usageCount: number; rejectedCount: number; totalDiscountAmount: number; usageLimit: number | null; status: string }[]>`
      select code, usage_count, rejected_count, total_discount_amount, usage_limit, status
        from public.coupons where user_id = ${m.userId} order by code`;
    expect(coupons.map((c) => c.code)).toEqual(['FREESHIP', 'VIP20', 'WELCOME10']);
    for (const c of coupons) {
      expect(c.usageCount).toBeGreaterThan(0);
      expect(c.totalDiscountAmount).toBeGreaterThan(0);
      expect(c.rejectedCount).toBeLessThanOrEqual(Math.ceil(c.usageCount * 0.05));
      expect(c.status).toBe('active');
    }
    const freeShip = coupons.find((c) => c.code === 'FREESHIP');
    expect(freeShip?.totalDiscountAmount).toBeCloseTo((freeShip?.usageCount ?? 0) * 7.5, 2);
    const vip = coupons.find((c) => c.code === 'VIP20');
    expect(vip?.usageCount).toBeLessThan(vip?.usageLimit ?? 0);
  });

  it('order totals are what the shop charged: the lines, less the code, plus shipping unless it was free', async () => {
    const orders = await db()<{ subtotal: number; total: number; discount: number | null; type: string | null }[]>`
      select o.subtotal, o.total, d.amount as discount, d.type
        from public.orders o
        left join public.order_discount_codes d on d.user_id = o.user_id and d.order_id = o.id
       where o.user_id = ${m.userId}`;
    expect(orders.length).toBeGreaterThan(100);
    for (const o of orders) {
      const expected = o.type === 'shipping' ? o.subtotal : o.subtotal - (o.discount ?? 0) + 7.5;
      expect(o.total).toBeCloseTo(expected, 2);
    }
  });
});
