import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, db, type Sql, type Tx } from '@/lib/db';
import { createMerchant } from '@/tests/helpers/merchants';
import { closeRacePools, openRacePools, pidOf, raceOn, type RacePools, waitsForLock } from '@/tests/helpers/race';

let userId: string;
let pools: RacePools;
const race = <T>(n: number, fn: (tx: Tx, i: number) => Promise<T>) => raceOn(pools, n, fn);

beforeAll(async () => {
  userId = (await createMerchant('race')).userId;
  pools = openRacePools(8);
});
afterAll(() => closeRacePools(pools));

describe('intake under concurrency (real connections)', () => {
  it('the same new email from 8 connections at once makes one customer', async () => {
    const email = 'Race.Same@Example.test';
    const results = await race(8, (tx, i) =>
      tx`select private.record_touchpoint(${userId}, ${tx.json({ email: i % 2 ? email : ` ${email.toLowerCase()} `, type: 'page_view', channel: 'direct', occurredAt: new Date().toISOString() })})`);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const [c] = await db()<{ n: number; tps: number }[]>`
      select count(distinct c.id)::int as n, count(t.id)::int as tps
        from public.customers c join public.touchpoints t on t.customer_id = c.id
       where c.user_id = ${userId} and c.email = 'race.same@example.test'`;
    expect(c).toEqual({ n: 1, tps: 8 });
  });

  it('8 different orders for one new customer at once: counters are exact', async () => {
    const results = await race(8, (tx, i) =>
      tx`select private.apply_order(${userId}, ${tx.json({ shopOrderId: `race-${i}`, email: 'buyer@example.test', total: 10 + i, orderedAt: new Date().toISOString() })})`);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const [c] = await db()<{ totalOrders: number; lifetimeValue: number; stage: string }[]>`
      select total_orders, lifetime_value, stage from public.customers where user_id = ${userId} and email = 'buyer@example.test'`;
    expect(c).toEqual({ totalOrders: 8, lifetimeValue: 108, stage: 'repeat' });
  });

  it('the same order delivered 8 times at once is applied once', async () => {
    const results = await race(8, (tx) =>
      tx<{ r: { applied: boolean } }[]>`select private.apply_order(${userId}, ${tx.json({ shopOrderId: 'race-dup', email: 'dup@example.test', total: 50, orderedAt: new Date().toISOString() })}) as r`);
    const applied = results.map((r) => (r.status === 'fulfilled' ? r.value[0]?.r.applied : 'rejected'));
    expect(applied.filter((a) => a === true)).toHaveLength(1);
    expect(applied.filter((a) => a === false)).toHaveLength(7);
    const [c] = await db()<{ totalOrders: number; lifetimeValue: number }[]>`
      select total_orders, lifetime_value from public.customers where user_id = ${userId} and email = 'dup@example.test'`;
    expect(c).toEqual({ totalOrders: 1, lifetimeValue: 50 });
  });

  it('overlapping event batches for the same customers neither deadlock nor lose affinity points', async () => {
    const emails = ['o1@example.test', 'o2@example.test', 'o3@example.test', 'o4@example.test'];
    const results = await race(6, (tx, i) => {
      const order = i % 2 ? [...emails].reverse() : emails;
      const events = order.map((email) => ({ email, type: 'cart_add', channel: 'direct', collection: 'growth', occurredAt: new Date().toISOString() }));
      return tx`select private.record_touchpoints(${userId}, ${tx.json(events)})`;
    });
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const rows = await db()<{ growth: string }[]>`
      select collection_scores ->> 'growth' as growth from public.customers where user_id = ${userId} and email = any(${emails})`;
    expect(rows.map((r) => Number(r.growth))).toEqual([18, 18, 18, 18]);
  });

  it('two overlapping stage crons and live orders share the due customers: each moves once, no deadlock', async () => {
    const t0 = new Date('2025-01-01T00:00:00Z');
    const emails = Array.from({ length: 40 }, (_, i) => `due${i}@example.test`);
    await pools.pool.begin((tx) => tx`
      select private.apply_order(${userId}, o.v, ${t0})
        from jsonb_array_elements(${tx.json(emails.map((email, i) => ({ shopOrderId: `due-${i}`, email, total: 30, orderedAt: t0.toISOString() })))}) as o(v)`);
    const later = new Date(t0.getTime() + 100 * 24 * 3600 * 1000);
    const results = await race(6, (tx, i) =>
      i < 4
        ? tx`select private.evaluate_stages(${userId}, ${later}, 15)`
        : tx`select private.record_touchpoints(${userId}, ${tx.json(emails.slice(0, 20).map((email) => ({ email, type: 'page_view', channel: 'direct', occurredAt: later.toISOString() })))}, ${later})`);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    // Whatever ran first, every customer is at risk once now, with exactly one such transition.
    await pools.pool`select private.evaluate_stages(${userId}, ${later}, 1000)`;
    const rows = await db()<{ stage: string; n: number }[]>`
      select c.stage, (select count(*)::int from public.stage_transitions t where t.customer_id = c.id and t.to_stage = 'at_risk') as n
        from public.customers c where c.user_id = ${userId} and c.email = any(${emails})`;
    expect(rows).toHaveLength(40);
    expect(rows.every((r) => r.stage === 'at_risk' && r.n === 1)).toBe(true);
  });
});

describe('intake and a merchant account deleted (real connections)', () => {
  let pool: Sql;
  beforeAll(() => {
    pool = connect(process.env.DATABASE_URL ?? '', 3);
  });
  afterAll(() => pool.end());

  it('a batch holding known customers while it inserts a new one, and the account deleted meanwhile: no deadlock', async () => {
    const { userId: gone } = await createMerchant('race-gone');
    const event = (email: string) => ({ email, type: 'page_view', channel: 'direct', occurredAt: new Date().toISOString() });
    await db()`select private.queue_touchpoints(${gone}, ${db().json([event('known@example.test')])})`;
    const other = await pool.reserve();
    const batch = await pool.reserve();
    const deleter = await pool.reserve();
    try {
      // Another transaction has just inserted the batch's new email: the batch's insert waits on it.
      await other`begin`;
      await other`insert into public.customers (user_id, email) values (${gone}, 'new@example.test')`;
      const batchPid = await pidOf(batch);
      await batch`begin`;
      const recording = batch`select private.queue_touchpoints(${gone}, ${batch.json([event('known@example.test'), event('new@example.test')])}) as n`
        .execute().then((r) => r[0]?.n, (e: Error) => e.message);
      await waitsForLock(batchPid);
      // The account goes meanwhile: its delete waits for the batch.
      const deleterPid = await pidOf(deleter);
      const deleting = deleter`delete from auth.users where id = ${gone}`.execute().then(() => 'deleted', (e: Error) => e.message);
      await waitsForLock(deleterPid);
      await other`rollback`;
      expect(await recording).toBe(2);
      await batch`commit`;
      expect(await deleting).toBe('deleted');
    } finally {
      other.release();
      batch.release();
      deleter.release();
    }
    const [left] = await db()<{ n: number }[]>`select count(*)::int as n from public.customers where user_id = ${gone}`;
    expect(left?.n).toBe(0);
  });
});
