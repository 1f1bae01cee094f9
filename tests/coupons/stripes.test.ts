import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@/lib/errors';
import { connect, jsonb, withSystem, withTenant, type Sql } from '@/lib/db';
import { setCouponActive, updateCoupon } from '@/lib/coupons/service';
import { makeCoupon, validate } from '@/tests/helpers/coupons';
import { createMerchant } from '@/tests/helpers/merchants';

// A busy code's uses are counted on stripes (coupon_tallies) that hold shares of its limit
// (20261203000100_coupon_stripes.sql). These cases hold the rules that used to rest on one
// row lock: the limit, a pause, a lowered limit, a cancellation, a per-customer limit.

let userId: string;
let pool: Sql;
let n = 0;

beforeAll(async () => {
  userId = (await createMerchant('coupon-stripes')).userId;
  pool = connect(process.env.DATABASE_URL ?? '', 25);
});
afterAll(() => pool.end());

const order = (code: string, email = `s${++n}@example.test`) => ({
  shopOrderId: `stripe-${++n}`, email, total: 40, orderedAt: new Date().toISOString(), discountCodes: [{ code }],
});

async function place(code: string, email?: string) {
  const o = order(code, email);
  await withSystem((tx) => tx`select private.apply_order(${userId}, ${jsonb(tx, o)})`);
  return o.shopOrderId;
}

/** `count` orders at once, each on its own connection, released together by an advisory lock. */
async function placeAtOnce(code: string, count: number, email?: (i: number) => string) {
  const gate = await pool.reserve();
  await gate`select pg_advisory_lock(4343)`;
  const orders = Array.from({ length: count }, (_, i) => pool.begin(async (tx) => {
    await tx`select pg_advisory_lock_shared(4343)`;
    await tx`select pg_advisory_unlock_shared(4343)`;
    await tx`select private.apply_order(${userId}, ${tx.json(order(code, email?.(i)))})`;
  }));
  await new Promise((r) => setTimeout(r, 300));
  await gate`select pg_advisory_unlock(4343)`;
  gate.release();
  return Promise.allSettled(orders);
}

async function counted(code: string) {
  const [c] = await pool<{ usageCount: number; rejectedCount: number; status: string; accepted: number; stripes: number; allowance: number }[]>`
    select c.usage_count, c.rejected_count, c.status,
           (select count(*)::int from public.coupon_uses u where u.coupon_id = c.id and u.status = 'accepted') as accepted,
           (select count(*)::int from public.coupon_tallies t where t.coupon_id = c.id) as stripes,
           (select coalesce(sum(t.allowance), 0)::int from public.coupon_tallies t where t.coupon_id = c.id) as allowance
      from public.coupons_counted c where c.user_id = ${userId} and c.code = ${code}`;
  return c;
}

describe('a busy code counted on stripes', () => {
  it('200 orders at once on 20 connections, limit 150: exactly 150 accepted, on stripes and then its row, depleted', async () => {
    await makeCoupon(userId, { code: 'STRIPED150', usageLimit: 150, perCustomerLimit: null });
    const results = await placeAtOnce('STRIPED150', 200);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await counted('STRIPED150')).toEqual({
      usageCount: 150, rejectedCount: 50, status: 'depleted', accepted: 150, stripes: 8, allowance: 0,
    });
    // Both ways of counting were used: shares on stripes while much was free, the row near the end.
    const [split] = await pool<{ row: number; stripes: number }[]>`
      select c.usage_count as row, (select sum(t.uses)::int from public.coupon_tallies t where t.coupon_id = c.id) as stripes
        from public.coupons c where c.user_id = ${userId} and c.code = 'STRIPED150'`;
    expect(split?.row).toBeGreaterThan(0);
    expect(split?.stripes).toBeGreaterThan(0);
    // A checkout asking about the code is told it is used up.
    expect(await validate(userId, { code: 'STRIPED150', email: 'late@example.test', cartTotal: 40 })).toMatchObject({
      valid: false, reason: 'depleted',
    });
  });

  it('a checkout is told a code is used up once the uses on its stripes reach the limit, before any order is refused', async () => {
    await makeCoupon(userId, { code: 'UPTO64', usageLimit: 64, perCustomerLimit: null });
    await place('UPTO64');
    await pool`update public.coupon_tallies t set uses = t.uses + 63, allowance = 0
                 from public.coupons c where c.id = t.coupon_id and c.user_id = ${userId} and c.code = 'UPTO64' and t.stripe = 0`;
    expect(await validate(userId, { code: 'UPTO64', email: 'late@example.test', cartTotal: 40 })).toMatchObject({
      valid: false, reason: 'depleted',
    });
    expect(await counted('UPTO64')).toMatchObject({ usageCount: 64, status: 'depleted' });
  });

  it('a share a stripe still holds counts as taken: with one held stripe, the code is used exactly to its limit', async () => {
    await makeCoupon(userId, { code: 'HELDSHARE', usageLimit: 70, perCustomerLimit: null });
    await place('HELDSHARE');
    // The first use made the stripes and gave one a share (70 / 16 = 4, one of it used).
    const [share] = await pool<{ stripe: number; allowance: number }[]>`
      select t.stripe, t.allowance from public.coupon_tallies t join public.coupons c on c.id = t.coupon_id
       where c.user_id = ${userId} and c.code = 'HELDSHARE' and t.allowance > 0`;
    expect(share).toEqual({ stripe: 0, allowance: 3 });
    // Another transaction holds that stripe (an order in flight): 66 more orders fit beside its
    // 3 units (67 used + 3 held = 70). The next ones wait for the held units instead of being
    // counted on the row; once it lets go, three of them take those units and the fourth is refused.
    const holder = await pool.reserve();
    await holder`begin`;
    await holder`select 1 from public.coupon_tallies t join public.coupons c on c.id = t.coupon_id
                  where c.user_id = ${userId} and c.code = 'HELDSHARE' and t.stripe = 0 for update of t`;
    for (let i = 0; i < 66; i++) await place('HELDSHARE');
    let finished = 0;
    const waiting = Promise.all(Array.from({ length: 4 }, () => place('HELDSHARE').then(() => { finished++; })));
    await new Promise((r) => setTimeout(r, 300));
    expect(finished).toBe(0);
    await holder`rollback`;
    holder.release();
    await waiting;
    for (let i = 0; i < 6; i++) await place('HELDSHARE');
    expect(await counted('HELDSHARE')).toEqual({
      usageCount: 70, rejectedCount: 7, status: 'depleted', accepted: 70, stripes: 8, allowance: 0,
    });
  });

  it('a pause takes back what the stripes hold: the next order is refused as paused', async () => {
    const coupon = await makeCoupon(userId, { code: 'PAUSEME', usageLimit: null, perCustomerLimit: null });
    await place('PAUSEME');
    await place('PAUSEME');
    expect(await counted('PAUSEME')).toMatchObject({ usageCount: 2, accepted: 2, stripes: 8 });
    expect((await counted('PAUSEME'))?.allowance).toBeGreaterThan(0);
    await withTenant(userId, (tx) => setCouponActive(tx, userId, coupon.id, false));
    expect((await counted('PAUSEME'))?.allowance).toBe(0);
    const refused = await place('PAUSEME');
    const [use] = await pool<{ status: string; reason: string }[]>`
      select status, reason from public.coupon_uses where user_id = ${userId} and shop_order_id = ${refused}`;
    expect(use).toEqual({ status: 'rejected', reason: 'paused' });
    expect(await counted('PAUSEME')).toMatchObject({ usageCount: 2, rejectedCount: 1, status: 'paused' });
  });

  it('a limit below the uses counted on stripes is refused; one equal to them uses the code up', async () => {
    const coupon = await makeCoupon(userId, { code: 'LOWERME', usageLimit: null, perCustomerLimit: null });
    for (let i = 0; i < 3; i++) await place('LOWERME');
    const lower = withTenant(userId, (tx) => updateCoupon(tx, userId, coupon.id, { usageLimit: 2 }));
    await expect(lower).rejects.toThrow(AppError);
    await expect(lower).rejects.toThrow('already been used 3 times');
    const edited = await withTenant(userId, (tx) => updateCoupon(tx, userId, coupon.id, { usageLimit: 3 }));
    expect(edited).toMatchObject({ usageLimit: 3, usageCount: 3, status: 'depleted' });
    await place('LOWERME');
    expect(await counted('LOWERME')).toMatchObject({ usageCount: 3, rejectedCount: 1, accepted: 3, allowance: 0 });
  });

  it('a cancelled order gives its use back from the stripe that counted it', async () => {
    await makeCoupon(userId, { code: 'CANCELME', usageLimit: null, perCustomerLimit: null });
    const first = await place('CANCELME');
    await place('CANCELME');
    const [raw] = await pool<{ row: number }[]>`select usage_count as row from public.coupons where user_id = ${userId} and code = 'CANCELME'`;
    expect(raw?.row).toBe(0);
    await withSystem((tx) => tx`
      select private.apply_cancellation(${userId}, ${jsonb(tx, { shopOrderId: first, cancelledAt: new Date().toISOString() })})`);
    expect(await counted('CANCELME')).toMatchObject({ usageCount: 1, accepted: 1 });
    const [c] = await pool<{ totalDiscountAmount: number; totalOrders: number }[]>`
      select total_discount_amount, total_orders from public.coupons_counted where user_id = ${userId} and code = 'CANCELME'`;
    expect(c).toEqual({ totalDiscountAmount: 4, totalOrders: 1 });
  });

  it('the expiry cron expires a code past its end date while an order using it is in flight', async () => {
    const ends = new Date(Date.now() + 60_000);
    const coupon = await makeCoupon(userId, { code: 'ENDSNOW', usageLimit: null, perCustomerLimit: null, expiresAt: ends.toISOString() });
    // An order in flight holds what its use's foreign key takes on the coupon's row.
    const inFlight = await pool.reserve();
    await inFlight`begin`;
    await inFlight`select 1 from public.coupons where user_id = ${userId} and id = ${coupon.id} for key share`;
    const [r] = await pool<{ n: number }[]>`select private.expire_coupons(${new Date(ends.getTime() + 1)}) as n`;
    await inFlight`rollback`;
    inFlight.release();
    expect(r?.n).toBeGreaterThanOrEqual(1);
    expect(await counted('ENDSNOW')).toMatchObject({ status: 'expired' });
  });

  it("another merchant sees none of a code's stripes or counted figures, and its checkout cannot validate the code", async () => {
    await makeCoupon(userId, { code: 'MINEONLY', usageLimit: null, perCustomerLimit: null });
    await place('MINEONLY');
    const other = await createMerchant('coupon-stripes-other');
    const seen = await withTenant(other.userId, async (tx) => {
      const [counted] = await tx<{ n: number }[]>`select count(*)::int as n from public.coupons_counted where user_id = ${userId}`;
      const [tallies] = await tx<{ n: number }[]>`select count(*)::int as n from public.coupon_tallies where user_id = ${userId}`;
      const [check] = await tx<{ valid: boolean; reason: string }[]>`
        select valid, reason from public.validate_coupon(${userId}, 'MINEONLY', 'x@example.test', 40, 1, '{}')`;
      return { counted: counted?.n, tallies: tallies?.n, check };
    });
    expect(seen).toEqual({ counted: 0, tallies: 0, check: { valid: false, reason: 'not_found' } });
    const mine = await withTenant(userId, (tx) => tx<{ n: number }[]>`
      select count(*)::int as n from public.coupon_tallies t join public.coupons c on c.user_id = t.user_id and c.id = t.coupon_id
       where t.user_id = ${userId} and c.code = 'MINEONLY'`);
    expect(mine[0]?.n).toBe(8);
  });

  it('one shopper placing 10 orders at once with a once-per-customer code gets it once', async () => {
    await makeCoupon(userId, { code: 'ONCEEACH', usageLimit: null, perCustomerLimit: 1 });
    await place('ONCEEACH');
    const results = await placeAtOnce('ONCEEACH', 10, () => 'same-shopper@example.test');
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await counted('ONCEEACH')).toMatchObject({ usageCount: 2, rejectedCount: 9, accepted: 2 });
  });
});
