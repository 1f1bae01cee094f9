import { beforeAll, describe, expect, it } from 'vitest';
import { db, withSystem } from '@/lib/db';
import { COUPON_SOURCES } from '@/lib/coupons/schemas';
import { lastUse, makeCoupon, orderWithCode, validate } from '@/tests/helpers/coupons';
import { createMerchant } from '@/tests/helpers/merchants';

let userId: string;
let n = 0;
const DAY = 86_400_000;

beforeAll(async () => {
  userId = (await createMerchant('coupon-rules')).userId;
  await withSystem((tx) => tx`
    insert into public.product_collections (user_id, product_id, collection) values (${userId}, 'g-1', 'growth'), (${userId}, 'w-1', 'wholeness')`);
});

interface Case {
  name: string;
  coupon: Record<string, unknown>;
  cart: { total: number; quantity?: number; productIds?: string[]; email?: string };
  before?: (code: string) => Promise<unknown>;
  expect: { valid: true; discount: number } | { valid: false; reason: string };
}

const soon = () => new Date(Date.now() + DAY).toISOString();
const past = () => new Date(Date.now() - DAY).toISOString();

// Each rule alone, at its boundary; validation and redemption must agree on every case.
const CASES: Case[] = [
  { name: 'percentage on the cart', coupon: { discountValue: 15 }, cart: { total: 80 }, expect: { valid: true, discount: 12 } },
  { name: 'fixed amount capped at the cart', coupon: { discountType: 'fixed_amount', discountValue: 50 }, cart: { total: 30 }, expect: { valid: true, discount: 30 } },
  { name: 'free shipping gives no cart discount', coupon: { discountType: 'free_shipping', discountValue: null }, cart: { total: 30 }, expect: { valid: true, discount: 0 } },
  { name: 'buy 2 get 1 on 6 items', coupon: { discountType: 'buy_x_get_y', discountValue: null, buyQuantity: 2, getQuantity: 1 }, cart: { total: 60, quantity: 6 }, expect: { valid: true, discount: 20 } },
  { name: 'draft', coupon: { status: 'draft' }, cart: { total: 50 }, expect: { valid: false, reason: 'not_active' } },
  { name: 'not started yet', coupon: { startsAt: soon() }, cart: { total: 50 }, expect: { valid: false, reason: 'not_started' } },
  { name: 'expired', coupon: { startsAt: new Date(Date.now() - 2 * DAY).toISOString(), expiresAt: past() }, cart: { total: 50 }, expect: { valid: false, reason: 'expired' } },
  { name: 'exact minimum purchase is enough', coupon: { minimumPurchase: 50 }, cart: { total: 50 }, expect: { valid: true, discount: 5 } },
  { name: 'a cent under the minimum', coupon: { minimumPurchase: 50 }, cart: { total: 49.99 }, expect: { valid: false, reason: 'minimum_purchase' } },
  { name: 'exact minimum quantity', coupon: { minimumQuantity: 3 }, cart: { total: 50, quantity: 3 }, expect: { valid: true, discount: 5 } },
  { name: 'below minimum quantity', coupon: { minimumQuantity: 3 }, cart: { total: 50, quantity: 2 }, expect: { valid: false, reason: 'minimum_quantity' } },
  { name: 'product restriction met', coupon: { productIds: ['g-1'] }, cart: { total: 50, productIds: ['g-1'] }, expect: { valid: true, discount: 5 } },
  { name: 'product restriction missed', coupon: { productIds: ['g-1'] }, cart: { total: 50, productIds: ['w-1'] }, expect: { valid: false, reason: 'product_restriction' } },
  { name: 'collection restriction met', coupon: { collections: ['wholeness'] }, cart: { total: 50, productIds: ['w-1'] }, expect: { valid: true, discount: 5 } },
  { name: 'collection restriction missed', coupon: { collections: ['wholeness'] }, cart: { total: 50, productIds: ['g-1'] }, expect: { valid: false, reason: 'collection_restriction' } },
  {
    name: 'first-time only, for someone who ordered before', coupon: { firstTimeOnly: true }, cart: { total: 50, email: 'returning@example.test' },
    before: () => orderWithCode(userId, { id: `prior-${++n}`, email: 'returning@example.test', total: 10, code: 'NONE' }),
    expect: { valid: false, reason: 'first_time_only' },
  },
  { name: 'first-time only, for a new customer', coupon: { firstTimeOnly: true }, cart: { total: 50, email: 'brand-new@example.test' }, expect: { valid: true, discount: 5 } },
  {
    name: 'usage limit reached', coupon: { usageLimit: 1 }, cart: { total: 50 },
    before: (code) => orderWithCode(userId, { id: `fill-${++n}`, email: 'other@example.test', total: 50, code }),
    expect: { valid: false, reason: 'depleted' },
  },
  {
    name: 'per-customer limit, with the email written differently', coupon: { perCustomerLimit: 1 }, cart: { total: 50, email: ' Foo@X.test ' },
    before: (code) => orderWithCode(userId, { id: `foo-${++n}`, email: 'foo@x.test', total: 50, code }),
    expect: { valid: false, reason: 'customer_limit' },
  },
];

describe('one coupon rule set for validation and redemption', () => {
  it.each(CASES)('$name', async (c) => {
    const code = `RULE${++n}`;
    await makeCoupon(userId, { code, ...c.coupon });
    if (c.before) await c.before(code);
    const email = c.cart.email ?? `cart${n}@example.test`;
    const cart = { code, email, cartTotal: c.cart.total, quantity: c.cart.quantity ?? 1, productIds: c.cart.productIds ?? [] };

    const v = await validate(userId, cart);
    if (c.expect.valid) expect(v).toMatchObject({ valid: true, discountAmount: c.expect.discount });
    else {
      expect(v).toMatchObject({ valid: false, reason: c.expect.reason });
      expect(v.message).toEqual(expect.any(String));
    }

    // The same cart as a real order: accepted exactly when validation said valid, same reason.
    const orderId = `order-${n}`;
    await orderWithCode(userId, { id: orderId, email, total: c.cart.total, code: code.toLowerCase(), quantity: c.cart.quantity, productIds: c.cart.productIds });
    const use = await lastUse(userId, orderId);
    if (c.expect.valid) expect(use).toMatchObject({ status: 'accepted', reason: null, discountAmount: c.expect.discount });
    else expect(use).toMatchObject({ status: 'rejected', reason: c.expect.reason });
  });

  it('expires at the exact second', async () => {
    const code = `EDGE${++n}`;
    const expiresAt = new Date(Date.now() + 60_000);
    await makeCoupon(userId, { code, startsAt: new Date(Date.now() - DAY).toISOString(), expiresAt: expiresAt.toISOString() });
    const at = async (t: Date) => withSystem(async (tx) => {
      const [r] = await tx<{ valid: boolean; reason: string | null }[]>`
        select valid, reason from public.validate_coupon(${userId}, ${code}, 'edge@example.test', 50, 1, '{}', ${t})`;
      return r;
    });
    expect(await at(new Date(expiresAt.getTime() - 1000))).toEqual({ valid: true, reason: null });
    expect(await at(expiresAt)).toEqual({ valid: false, reason: 'expired' });
  });

  it('an unknown code is not_found, and orders with codes we do not manage change nothing', async () => {
    expect(await validate(userId, { code: 'NOPE', email: 'x@example.test', cartTotal: 10 })).toMatchObject({ valid: false, reason: 'not_found' });
    const r = await orderWithCode(userId, { id: `unknown-${++n}`, email: 'x@example.test', total: 10, code: 'SHOPONLY' });
    expect(r).toMatchObject({ applied: true, effects: { coupons: { accepted: 0, rejected: 0 } } });
  });

  it('a replayed order records one use', async () => {
    const code = `REPLAY${++n}`;
    await makeCoupon(userId, { code });
    await orderWithCode(userId, { id: 'replayed-order', email: 'r@example.test', total: 40, code });
    await orderWithCode(userId, { id: 'replayed-order', email: 'r@example.test', total: 40, code });
    const [c] = await withSystem((tx) => tx<{ usageCount: number; uses: number }[]>`
      select usage_count, (select count(*)::int from public.coupon_uses u where u.coupon_id = c.id) as uses
        from public.coupons_counted c where c.user_id = ${userId} and c.code = ${code}`);
    expect(c).toEqual({ usageCount: 1, uses: 1 });
  });

  it('judges an order by when it was placed: placed before the end date, processed after it, still counts', async () => {
    const code = `LATE${++n}`;
    const expiresAt = new Date(Date.now() - 60_000);
    await makeCoupon(userId, { code, startsAt: new Date(Date.now() - DAY).toISOString(), expiresAt: expiresAt.toISOString() });
    await withSystem((tx) => tx`select private.expire_coupons(now())`);
    await orderWithCode(userId, { id: `late-${n}`, email: 'late@example.test', total: 40, code, at: new Date(expiresAt.getTime() - 60_000) });
    expect(await lastUse(userId, `late-${n}`)).toMatchObject({ status: 'accepted' });
  });

  it('uses the cart before discounts, as checkout validation did (minimum 100, 10% off, charged 90)', async () => {
    const code = `SUB${++n}`;
    await makeCoupon(userId, { code, minimumPurchase: 100 });
    expect(await validate(userId, { code, email: 'sub@example.test', cartTotal: 100 })).toMatchObject({ valid: true, discountAmount: 10 });
    await withSystem((tx) => tx`select private.apply_order(${userId}, ${tx.json({
      shopOrderId: `sub-${n}`, email: 'sub@example.test', total: 90, orderedAt: new Date().toISOString(),
      lineItems: [{ productId: 'p-x', quantity: 2, price: 50 }], discountCodes: [{ code, amount: 10 }],
    })})`);
    expect(await lastUse(userId, `sub-${n}`)).toMatchObject({ status: 'accepted', discountAmount: 10 });
  });
});

describe('the discount terms a coupon row must carry', () => {
  it('refuses a percentage or fixed coupon without a value, and buy X get Y without quantities, whoever writes it', async () => {
    const m = await createMerchant('coupon-terms');
    for (const type of ['percentage', 'fixed_amount', 'buy_x_get_y']) {
      await expect(db()`insert into public.coupons (user_id, code, discount_type) values (${m.userId}, ${`BAD-${type.toUpperCase()}`}, ${type})`)
        .rejects.toThrow(/coupons_discount_terms_present/);
    }
  });
});

describe('where coupons come from', () => {
  it('names only registered sources, the same list the app reads rows with, and issues only for a module\u2019s', async () => {
    const rows = await db()<{ source: string; issued: boolean }[]>`select source, issued from private.coupon_sources order by source`;
    expect(rows.map((r) => r.source).sort()).toEqual([...COUPON_SOURCES].sort());
    expect(rows.filter((r) => !r.issued).map((r) => r.source)).toEqual(['bulk', 'manual']);
    const m = await createMerchant('coupon-sources');
    await expect(db()`insert into public.coupons (user_id, code, source, discount_type, discount_value) values (${m.userId}, 'NOSUCH1', 'nosuch', 'percentage', 10)`)
      .rejects.toMatchObject({ code: '23503' });
    await expect(db()`select * from private.issue_coupon(${m.userId}, 'manual', 'MAN', '{"discountType": "percentage", "discountValue": 5}'::jsonb)`)
      .rejects.toThrow('Coupons issued for other modules come from a registered source, not manual');
  });
});
