import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db, jsonb, withSystem, type Tx } from '@/lib/db';
import { makeCoupon } from '@/tests/helpers/coupons';
import { applyOrder, applyRefund, DAY, at } from '@/tests/helpers/journey';
import { createMerchant } from '@/tests/helpers/merchants';
import { closeRacePools, openRacePools, raceOn, type RacePools } from '@/tests/helpers/race';

let userId: string;
let pools: RacePools;
const T0 = new Date('2026-06-01T12:00:00Z');

// A probe module registered in this file's own database: it records every call it gets.
beforeAll(async () => {
  userId = (await createMerchant('pipeline')).userId;
  pools = openRacePools(8);
  await db().unsafe(`
    create table private.probe_calls (event text, subject uuid, called_at timestamptz default clock_timestamp());
    create function private.probe_on(p_event text, p_subject uuid) returns jsonb language sql as
      $$ insert into private.probe_calls (event, subject) values (p_event, p_subject) returning jsonb_build_object('seen', true) $$;
    create function private.probe_order(p_user_id uuid, p_id uuid, p_now timestamptz) returns jsonb language sql as $$ select private.probe_on('order', p_id) $$;
    create function private.probe_refund(p_user_id uuid, p_id uuid, p_now timestamptz) returns jsonb language sql as $$ select private.probe_on('refund', p_id) $$;
    create function private.probe_cancel(p_user_id uuid, p_id uuid, p_now timestamptz) returns jsonb language sql as $$ select private.probe_on('cancel', p_id) $$;
    select private.register_order_handler('order', 'probe', 900, 'private.probe_order(uuid,uuid,timestamptz)');
    select private.register_order_handler('refund', 'probe', 900, 'private.probe_refund(uuid,uuid,timestamptz)');
    select private.register_order_handler('cancel', 'probe', 900, 'private.probe_cancel(uuid,uuid,timestamptz)');`);
});
afterAll(() => closeRacePools(pools));

const calls = async (event: string) =>
  (await db()<{ n: number }[]>`select count(*)::int as n from private.probe_calls where event = ${event}`)[0]?.n ?? 0;

async function cancel(shopOrderId: string, extra: Record<string, unknown> = {}, now = T0) {
  return withSystem(async (tx) => {
    const [r] = await tx<{ r: Record<string, unknown> }[]>`
      select private.apply_cancellation(${userId}, ${jsonb(tx, { shopOrderId, cancelledAt: now.toISOString(), ...extra })}, ${now}) as r`;
    return r?.r ?? {};
  });
}

async function customer(email: string) {
  const [c] = await db()<{ totalOrders: number; lifetimeValue: number; averageOrderValue: number | null; stage: string; lastPurchaseAt: string | null }[]>`
    select total_orders, lifetime_value, average_order_value, stage, last_purchase_at from public.customers
     where user_id = ${userId} and email = ${email}`;
  return c;
}

describe('the order pipeline', () => {
  it('lists each module once per event, in position order, each declared in its own migration', async () => {
    const rows = await db()<{ event: string; module: string; position: number; handler: string }[]>`
      select event, module, position, handler::text from private.order_handlers order by event, position`;
    expect(rows).toEqual([
      { event: 'cancel', module: 'journey', position: 100, handler: 'private.journey_on_cancel(uuid,uuid,timestamp with time zone)' },
      { event: 'cancel', module: 'trends', position: 150, handler: 'private.trends_on_cancel(uuid,uuid,timestamp with time zone)' },
      { event: 'cancel', module: 'coupons', position: 200, handler: 'private.coupons_on_cancel(uuid,uuid,timestamp with time zone)' },
      { event: 'cancel', module: 'winback', position: 250, handler: 'private.winback_on_cancel(uuid,uuid,timestamp with time zone)' },
      { event: 'cancel', module: 'loyalty', position: 300, handler: 'private.loyalty_on_cancel(uuid,uuid,timestamp with time zone)' },
      { event: 'cancel', module: 'referrals', position: 310, handler: 'private.referrals_on_cancel(uuid,uuid,timestamp with time zone)' },
      { event: 'cancel', module: 'gifts', position: 400, handler: 'private.gifts_on_cancel(uuid,uuid,timestamp with time zone)' },
      { event: 'cancel', module: 'probe', position: 900, handler: 'private.probe_cancel(uuid,uuid,timestamp with time zone)' },
      { event: 'order', module: 'journey', position: 100, handler: 'private.journey_on_order(uuid,uuid,timestamp with time zone)' },
      { event: 'order', module: 'trends', position: 150, handler: 'private.trends_on_order(uuid,uuid,timestamp with time zone)' },
      { event: 'order', module: 'coupons', position: 200, handler: 'private.coupons_on_order(uuid,uuid,timestamp with time zone)' },
      { event: 'order', module: 'winback', position: 250, handler: 'private.winback_on_order(uuid,uuid,timestamp with time zone)' },
      { event: 'order', module: 'loyalty', position: 300, handler: 'private.loyalty_on_order(uuid,uuid,timestamp with time zone)' },
      { event: 'order', module: 'referrals', position: 310, handler: 'private.referrals_on_order(uuid,uuid,timestamp with time zone)' },
      { event: 'order', module: 'gifts', position: 400, handler: 'private.gifts_on_order(uuid,uuid,timestamp with time zone)' },
      { event: 'order', module: 'probe', position: 900, handler: 'private.probe_order(uuid,uuid,timestamp with time zone)' },
      { event: 'refund', module: 'journey', position: 100, handler: 'private.journey_on_refund(uuid,uuid,timestamp with time zone)' },
      { event: 'refund', module: 'trends', position: 150, handler: 'private.trends_on_refund(uuid,uuid,timestamp with time zone)' },
      { event: 'refund', module: 'winback', position: 250, handler: 'private.winback_on_refund(uuid,uuid,timestamp with time zone)' },
      { event: 'refund', module: 'loyalty', position: 300, handler: 'private.loyalty_on_refund(uuid,uuid,timestamp with time zone)' },
      { event: 'refund', module: 'referrals', position: 310, handler: 'private.referrals_on_refund(uuid,uuid,timestamp with time zone)' },
      { event: 'refund', module: 'probe', position: 900, handler: 'private.probe_refund(uuid,uuid,timestamp with time zone)' },
    ]);
  });

  it('refuses a handler of the wrong shape and a second module at a taken position', async () => {
    await expect(db()`select private.register_order_handler('order', 'bad', 950, 'private.probe_on(text,uuid)')`).rejects.toThrow(
      /must take \(uuid, uuid, timestamptz\) and return jsonb/);
    await expect(db()`select private.register_order_handler('order', 'other', 900, 'private.probe_order(uuid,uuid,timestamptz)')`).rejects.toThrow(
      /order_handlers_pkey/);
  });

  it('runs every handler once per order, refund and cancellation, and a replay of each changes nothing', async () => {
    const before = await Promise.all(['order', 'refund', 'cancel'].map(calls));
    const first = await applyOrder(userId, { shopOrderId: 'p-1', email: 'once@example.test', total: 100, orderedAt: T0 });
    expect(first).toMatchObject({ applied: true, effects: { journey: { stage: 'customer' }, coupons: { accepted: 0 }, probe: { seen: true } } });
    expect(await applyOrder(userId, { shopOrderId: 'p-1', email: 'once@example.test', total: 100, orderedAt: T0 })).toEqual({
      applied: false, reason: 'duplicate_order' });
    expect(await applyRefund(userId, 'r-1', 'p-1', 30, at(T0, DAY))).toMatchObject({ applied: true, amount: 30 });
    expect(await applyRefund(userId, 'r-1', 'p-1', 30, at(T0, DAY))).toMatchObject({ applied: false, reason: 'duplicate_refund' });
    expect(await cancel('p-1')).toMatchObject({ applied: true });
    expect(await cancel('p-1')).toEqual({ applied: false, reason: 'already_cancelled' });
    const after = await Promise.all(['order', 'refund', 'cancel'].map(calls));
    expect(after.map((n, i) => n - (before[i] ?? 0))).toEqual([1, 1, 1]);
  });

  it('the same new order from 8 connections at once runs its handlers once', async () => {
    const before = await calls('order');
    const results = await raceOn(pools, 8, (tx: Tx) => tx`
      select private.apply_order(${userId}, ${tx.json({ shopOrderId: 'p-race', email: 'race@example.test', total: 20, orderedAt: T0.toISOString() })}, ${T0})`);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await calls('order')) - before).toBe(1);
    expect(await customer('race@example.test')).toMatchObject({ totalOrders: 1, lifetimeValue: 20 });
  });

  it('a refund racing its own order is applied, never left waiting for an order that already came', async () => {
    for (let round = 0; round < 10; round++) {
      const id = `p-rr-${round}`;
      const results = await raceOn(pools, 2, (tx: Tx, i) => i === 0
        ? tx`select private.apply_order(${userId}, ${tx.json({ shopOrderId: id, email: 'rr@example.test', total: 50, orderedAt: T0.toISOString() })}, ${T0})`
        : tx`select private.apply_refund(${userId}, ${tx.json({ shopRefundId: `rr-${round}`, shopOrderId: id, amount: 10 })}, ${T0})`);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    }
    const [r] = await db()<{ pending: number; refunded: string }[]>`
      select count(*) filter (where r.order_id is null)::int as pending,
             (select sum(o.refunded_total)::text from public.orders o where o.user_id = ${userId} and o.shop_order_id like 'p-rr-%') as refunded
        from public.order_refunds r where r.user_id = ${userId} and r.shop_refund_id like 'rr-%'`;
    expect(r).toEqual({ pending: 0, refunded: '100.00' });
    expect(await customer('rr@example.test')).toMatchObject({ totalOrders: 10, lifetimeValue: 400 });
  });
});

describe('cancellation', () => {
  it('takes back the order count, what the order still counted, the stage and the coupon use', async () => {
    await makeCoupon(userId, { code: 'ONCEONLY', usageLimit: 1, perCustomerLimit: null, startsAt: '2026-01-01T00:00:00Z' });
    const email = 'cancel@example.test';
    await applyOrder(userId, { shopOrderId: 'c-1', email, total: 300, orderedAt: T0 });
    await withSystem((tx) => tx`
      select private.apply_order(${userId}, ${tx.json({ shopOrderId: 'c-2', email, total: 250, orderedAt: at(T0, 10 * DAY).toISOString(),
        discountCodes: [{ code: 'ONCEONLY', amount: 25 }] })}, ${at(T0, 10 * DAY)})`);
    expect(await customer(email)).toMatchObject({ totalOrders: 2, lifetimeValue: 550, stage: 'vip' });
    const [used] = await db()<{ status: string; usageCount: number }[]>`
      select status, usage_count from public.coupons_counted where user_id = ${userId} and code = 'ONCEONLY'`;
    expect(used).toEqual({ status: 'depleted', usageCount: 1 });

    await applyRefund(userId, 'c-2-r', 'c-2', 50, at(T0, 11 * DAY));
    expect(await cancel('c-2', {}, at(T0, 12 * DAY))).toMatchObject({ applied: true, effects: { journey: { orders: -1, lifetimeValue: -200 }, coupons: { released: 1 } } });
    expect(await customer(email)).toMatchObject({ totalOrders: 1, lifetimeValue: 300, averageOrderValue: 300, stage: 'customer',
      lastPurchaseAt: T0.toISOString() });
    const [coupon] = await db()<{ status: string; usageCount: number; totalOrders: number; totalDiscountAmount: number }[]>`
      select status, usage_count, total_orders, total_discount_amount from public.coupons_counted where user_id = ${userId} and code = 'ONCEONLY'`;
    expect(coupon).toEqual({ status: 'active', usageCount: 0, totalOrders: 0, totalDiscountAmount: 0 });
    const [use] = await db()<{ status: string; reason: string }[]>`
      select status, reason from public.coupon_uses where user_id = ${userId} and shop_order_id = 'c-2'`;
    expect(use).toEqual({ status: 'cancelled', reason: 'order_cancelled' });
    const [t] = await db()<{ fromStage: string; toStage: string; triggerType: string }[]>`
      select from_stage, to_stage, trigger_type from public.stage_transitions t join public.customers c on c.user_id = t.user_id and c.id = t.customer_id
       where c.user_id = ${userId} and c.email = ${email} order by t.transitioned_at desc limit 1`;
    expect(t).toEqual({ fromStage: 'vip', toStage: 'customer', triggerType: 'cancellation' });

    // A refund of the cancelled order (the shop often sends one) changes nothing more.
    await applyRefund(userId, 'c-2-r2', 'c-2', 100, at(T0, 13 * DAY));
    expect(await customer(email)).toMatchObject({ totalOrders: 1, lifetimeValue: 300 });
    // The freed coupon can be used again.
    const again = await withSystem((tx) => tx<{ r: { effects: { coupons: { accepted: number } } } }[]>`
      select private.apply_order(${userId}, ${tx.json({ shopOrderId: 'c-3', email: 'other@example.test', total: 80, orderedAt: at(T0, 14 * DAY).toISOString(),
        discountCodes: [{ code: 'ONCEONLY' }] })}, ${at(T0, 14 * DAY)}) as r`);
    expect(again[0]?.r.effects.coupons.accepted).toBe(1);
  });

  it("takes back the order's affinity points, never below zero", async () => {
    await db()`insert into public.product_collections (user_id, product_id, collection) values (${userId}, 'grow-1', 'growth')`;
    await applyOrder(userId, { shopOrderId: 'c-aff', email: 'aff@example.test', total: 30, orderedAt: T0,
      lineItems: [{ productId: 'grow-1', quantity: 1, price: 30 }] });
    const scores = async () => (await db()<{ primaryCollection: string | null; collectionScores: Record<string, number> }[]>`
      select primary_collection, collection_scores from public.customers where user_id = ${userId} and email = 'aff@example.test'`)[0];
    expect(await scores()).toEqual({ primaryCollection: 'growth', collectionScores: { growth: 10 } });
    await cancel('c-aff');
    expect(await scores()).toEqual({ primaryCollection: null, collectionScores: { growth: 0 } });
  });

  it('applies a cancellation that arrives before its order, then cancels it', async () => {
    const r = await cancel('c-early', { email: 'early@example.test', total: 60, orderedAt: T0.toISOString() }, at(T0, DAY));
    expect(r).toMatchObject({ applied: true });
    expect(await customer('early@example.test')).toMatchObject({ totalOrders: 0, lifetimeValue: 0, stage: 'visitor' });
    expect(await applyOrder(userId, { shopOrderId: 'c-early', email: 'early@example.test', total: 60, orderedAt: T0 })).toEqual({
      applied: false, reason: 'duplicate_order' });
    expect(await cancel('c-unknown')).toEqual({ applied: false, reason: 'unknown_order' });
  });

  // Every column the lists sort or filter by is indexed, so no customer write is a HOT update:
  // each one more is eleven index entries and the row's statement triggers, on every order.
  it('an order, a refund and a cancellation each write their customer once, stage included', async () => {
    // The backend's own counters, read before and after within one transaction (they also hold
    // earlier transactions' counts until the backend reports them).
    const counters = async (tx: Tx) => (await tx<{ inserted: number; updated: number }[]>`
      select n_tup_ins::int as inserted, n_tup_upd::int as updated from pg_stat_xact_user_tables
       where relid = 'public.customers'::regclass`)[0] ?? { inserted: 0, updated: 0 };
    const writes = (event: (tx: Tx) => Promise<unknown>) => withSystem(async (tx) => {
      const before = await counters(tx);
      await event(tx);
      const after = await counters(tx);
      return { inserted: after.inserted - before.inserted, updated: after.updated - before.updated };
    });
    const order = (shopOrderId: string, total: number) => (tx: Tx) => tx`select private.apply_order(${userId},
      ${jsonb(tx, { shopOrderId, email: 'once-write@example.test', firstName: 'Ona', total, orderedAt: T0.toISOString() })}, ${T0})`;
    // New customer: created, then its figures and its first stage (customer) in one update.
    expect(await writes(order('w-1', 300))).toEqual({ inserted: 1, updated: 1 });
    // Second order moves it to repeat; third to vip (lifetime value 600): one update each.
    expect(await writes(order('w-2', 150))).toEqual({ inserted: 0, updated: 1 });
    expect(await writes(order('w-3', 150))).toEqual({ inserted: 0, updated: 1 });
    expect((await customer('once-write@example.test'))?.stage).toBe('vip');
    // A refund that takes it below vip, and a cancellation.
    expect(await writes((tx) => tx`select private.apply_refund(${userId},
      ${jsonb(tx, { shopRefundId: 'w-r', shopOrderId: 'w-3', amount: 150, refundedAt: T0.toISOString() })}, ${T0})`))
      .toEqual({ inserted: 0, updated: 1 });
    expect((await customer('once-write@example.test'))?.stage).toBe('repeat');
    expect(await writes((tx) => tx`select private.apply_cancellation(${userId},
      ${jsonb(tx, { shopOrderId: 'w-2', cancelledAt: T0.toISOString() })}, ${T0})`)).toEqual({ inserted: 0, updated: 1 });
    expect(await customer('once-write@example.test')).toMatchObject({ stage: 'repeat', totalOrders: 2, lifetimeValue: 300 });
  });

  it('a later order fills the name and shop id a customer lacks, and never overwrites them', async () => {
    const order = (shopOrderId: string, extra: Record<string, unknown>) =>
      applyOrder(userId, { shopOrderId, email: 'fill@example.test', total: 20, orderedAt: T0, ...extra });
    await order('f-1', {});
    await order('f-2', { firstName: 'Ada', shopCustomerId: 'sc-fill' });
    await order('f-3', { firstName: 'Other', lastName: 'Lovelace', shopCustomerId: 'sc-other' });
    const [c] = await db()<{ firstName: string | null; lastName: string | null; shopifyCustomerId: string | null; totalOrders: number }[]>`
      select first_name, last_name, shopify_customer_id, total_orders from public.customers
       where user_id = ${userId} and email = 'fill@example.test'`;
    expect(c).toEqual({ firstName: 'Ada', lastName: 'Lovelace', shopifyCustomerId: 'sc-fill', totalOrders: 3 });
  });

  it("settles only the merchant's own customers: a row of another merchant passed in is left alone", async () => {
    const other = await createMerchant('pipeline-other');
    await applyOrder(other.userId, { shopOrderId: 'x-1', email: 'theirs@example.test', total: 20, orderedAt: T0 });
    const changed = await withSystem(async (tx) => {
      const [r] = await tx<{ n: number }[]>`
        select private.settle_customers(${userId}, array(
          -- A second order's figures: settled, this row would move to repeat.
          select jsonb_populate_record(c, '{"total_orders": 2, "lifetime_value": 40}'::jsonb)
            from public.customers c where c.user_id = ${other.userId} and c.email = 'theirs@example.test'
        ), ${T0}, 'purchase') as n`;
      return r?.n;
    });
    expect(changed).toBe(0);
    const [t] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.stage_transitions where user_id = ${userId}
         and customer_id in (select id from public.customers where user_id = ${other.userId})`;
    expect(t?.n).toBe(0);
    const [c] = await db()<{ stage: string; totalOrders: number }[]>`
      select stage, total_orders from public.customers where user_id = ${other.userId} and email = 'theirs@example.test'`;
    expect(c).toEqual({ stage: 'customer', totalOrders: 1 });
  });
});
