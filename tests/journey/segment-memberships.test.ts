import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, db, jsonb, type Sql, withSystem } from '@/lib/db';
import { applyOrder } from '@/tests/helpers/journey';
import { createMerchant } from '@/tests/helpers/merchants';
import { pidOf, waitsForLock } from '@/tests/helpers/race';

/**
 * Memberships carry no foreign keys (migration 20261206000100): writers of a segment take turns
 * on its row, and deletes of segments and customers cascade through statement triggers that
 * wait for them (migrations 20261206000100 and 20261206000300). Each race below runs on real
 * connections, one transaction held open while the other acts; each fails without the trigger
 * or the lock it covers.
 */

let pool: Sql;
beforeAll(() => {
  pool = connect(process.env.DATABASE_URL ?? '', 6);
});
afterAll(() => pool.end());

async function buyers(name: string, n: number) {
  const { userId } = await createMerchant(name);
  const now = new Date();
  for (let i = 0; i < n; i++) await applyOrder(userId, { shopOrderId: `${name}-${i}`, email: `${name}${i}@example.test`, total: 20, orderedAt: now }, now);
  // The orders' queued changes are drained before any segment exists: nothing is pending.
  await db()`delete from private.segment_changes where user_id = ${userId}`;
  const [s] = await db()<{ id: string }[]>`
    insert into public.customer_segments (user_id, name, criteria) values (${userId}, 'Buyers', ${jsonb(db(), { min_orders: 1 })}) returning id`;
  return { userId, segmentId: s?.id ?? '', now };
}

/** Rows of the segment, removed ones included, and of no segment or customer that exists. */
async function rows(userId: string, segmentId: string) {
  const [r] = await db()<{ all: number; orphans: number }[]>`
    select (select count(*)::int from public.segment_memberships where user_id = ${userId} and segment_id = ${segmentId}) as all,
           (select count(*)::int from public.segment_memberships m
             where m.user_id = ${userId}
               and (not exists (select 1 from public.customer_segments s where s.user_id = m.user_id and s.id = m.segment_id)
                    or not exists (select 1 from public.customers c where c.user_id = m.user_id and c.id = m.customer_id))) as orphans`;
  return r ?? { all: -1, orphans: -1 };
}

/** A build step of the whole store, held open on its own connection. */
async function holdBuildStep(userId: string, segmentId: string, now: Date) {
  const conn = await pool.reserve();
  await conn`begin`;
  await conn`update public.customer_segments set build_started_at = ${now}, build_after = null where user_id = ${userId} and id = ${segmentId}`;
  const [r] = await conn<{ added: number }[]>`select added from private.segment_build_step(${userId}, ${segmentId}, ${now})`;
  return { conn, added: r?.added ?? 0 };
}

describe('segment memberships without per-row checks', () => {
  it('a segment deleted while a step writes its members waits for it, then takes every member with it', async () => {
    const { userId, segmentId, now } = await buyers('mdel', 4);
    const step = await holdBuildStep(userId, segmentId, now);
    expect(step.added).toBe(4);
    const deleter = await pool.reserve();
    try {
      const pid = await pidOf(deleter);
      const deleting = deleter`delete from public.customer_segments where user_id = ${userId} and id = ${segmentId}`.execute();
      await waitsForLock(pid);
      await step.conn`commit`;
      await deleting;
    } finally {
      step.conn.release();
      deleter.release();
    }
    expect(await rows(userId, segmentId)).toEqual({ all: 0, orphans: 0 });
  });

  it('a customer deleted while a step adds them waits for the step, then takes the membership with them', async () => {
    const { userId, segmentId, now } = await buyers('cdel', 3);
    const step = await holdBuildStep(userId, segmentId, now);
    expect(step.added).toBe(3);
    const deleter = await pool.reserve();
    try {
      const pid = await pidOf(deleter);
      await deleter`begin`;
      const deleting = deleter`delete from public.customers where user_id = ${userId} and email = 'cdel0@example.test'`.execute();
      // The customer is deleted (and locked); the statement trigger after it waits for the step.
      await waitsForLock(pid);
      await step.conn`commit`;
      await deleting;
      await deleter`commit`;
    } finally {
      step.conn.release();
      deleter.release();
    }
    expect(await rows(userId, segmentId)).toEqual({ all: 2, orphans: 0 });
    const [n] = await db()<{ n: number }[]>`select public.segment_member_count(${userId}, ${segmentId}) as n`;
    expect(n?.n).toBe(2);
  });

  it('a drain meeting a build step of the same segment waits for it and adds no member twice', async () => {
    const { userId, segmentId, now } = await buyers('mdup', 3);
    const step = await holdBuildStep(userId, segmentId, now);
    // Every buyer changes meanwhile (queued for the drain), still matching.
    await db()`update public.customers set email_subscribed = not email_subscribed where user_id = ${userId}`;
    const drainer = await pool.reserve();
    try {
      const pid = await pidOf(drainer);
      const draining = drainer<{ taken: number; added: number }[]>`select * from private.segments_drain(${now})`
        .execute().then((r) => r[0], (e: Error) => e.message);
      await waitsForLock(pid);
      await step.conn`commit`;
      expect(await draining).toEqual({ taken: 3, added: 0, removed: 0 });
    } finally {
      step.conn.release();
      drainer.release();
    }
    expect(await rows(userId, segmentId)).toEqual({ all: 3, orphans: 0 });
  });

  it('a customer deleted while a new segment is built in its open transaction waits for it, then takes the membership', async () => {
    const { userId, now } = await buyers('cnew', 2);
    const creator = await pool.reserve();
    const deleter = await pool.reserve();
    try {
      // A merchant's new segment is inserted and built in one transaction (lib/segments/service.ts).
      await creator`begin`;
      const [n] = await creator<{ id: string }[]>`
        insert into public.customer_segments (user_id, name, criteria) values (${userId}, 'New', ${jsonb(db(), { min_orders: 1 })}) returning id`;
      const [built] = await creator<{ added: number }[]>`select added from public.evaluate_segment(${userId}, ${n?.id ?? ''}, ${now})`;
      expect(built?.added).toBe(2);
      const pid = await pidOf(deleter);
      await deleter`begin`;
      // The delete cannot see the new segment: it waits for the store's segment lock the insert holds.
      const deleting = deleter`delete from public.customers where user_id = ${userId} and email = 'cnew0@example.test'`.execute();
      await waitsForLock(pid);
      await creator`commit`;
      await deleting;
      await deleter`commit`;
      expect(await rows(userId, n?.id ?? '')).toEqual({ all: 1, orphans: 0 });
    } finally {
      creator.release();
      deleter.release();
    }
  });

  it('a segment created while a customer delete is open waits for it, and its build does not see the customer', async () => {
    const { userId, now } = await buyers('cfirst', 2);
    const deleter = await pool.reserve();
    const creator = await pool.reserve();
    try {
      await deleter`begin`;
      await deleter`delete from public.customers where user_id = ${userId} and email = 'cfirst0@example.test'`;
      const pid = await pidOf(creator);
      await creator`begin`;
      const creating = creator<{ id: string }[]>`
        insert into public.customer_segments (user_id, name, criteria) values (${userId}, 'New', ${jsonb(db(), { min_orders: 1 })}) returning id`
        .execute().then(async ([n]) => {
          const [built] = await creator<{ added: number }[]>`select added from public.evaluate_segment(${userId}, ${n?.id ?? ''}, ${now})`;
          return { id: n?.id ?? '', added: built?.added ?? -1 };
        });
      await waitsForLock(pid);
      await deleter`commit`;
      const made = await creating;
      await creator`commit`;
      expect(made.added).toBe(1);
      expect(await rows(userId, made.id)).toEqual({ all: 1, orphans: 0 });
    } finally {
      deleter.release();
      creator.release();
    }
  });

  it('a customer deleted while a step of a segment synced to Klaviyo holds it: no deadlock, and its membership and queued list change go', async () => {
    const { userId, segmentId, now } = await buyers('csync', 2);
    await db()`update public.customer_segments set sync_enabled = true where user_id = ${userId} and id = ${segmentId}`;
    const writer = await pool.reserve();
    const deleter = await pool.reserve();
    try {
      // The step's first statement: the segment held, no customer read yet.
      await writer`begin`;
      await writer`update public.customer_segments set build_started_at = ${now}, build_after = null where user_id = ${userId} and id = ${segmentId}`;
      const pid = await pidOf(deleter);
      await deleter`begin`;
      const deleting = deleter`delete from public.customers where user_id = ${userId} and email = 'csync0@example.test'`
        .execute().then(() => 'deleted', (e: Error) => e.message);
      await waitsForLock(pid);
      // The step adds both buyers; each queued list change's foreign key locks its customer.
      const [step] = await writer<{ added: number }[]>`select added from private.segment_build_step(${userId}, ${segmentId}, ${now})`;
      expect(step?.added).toBe(2);
      await writer`commit`;
      expect(await deleting).toBe('deleted');
      await deleter`commit`;
    } finally {
      writer.release();
      deleter.release();
    }
    expect(await rows(userId, segmentId)).toEqual({ all: 1, orphans: 0 });
    const [queued] = await db()<{ n: number; gone: number }[]>`
      select count(*)::int as n,
             count(*) filter (where not exists (select 1 from public.customers c where c.user_id = q.user_id and c.id = q.customer_id))::int as gone
        from private.klaviyo_list_changes q where q.user_id = ${userId} and q.segment_id = ${segmentId}`;
    expect(queued).toEqual({ n: 1, gone: 0 });
  });

  it("a merchant's account deleted takes its segments' memberships with it, and no other store's", async () => {
    const gone = await buyers('mgone', 2);
    const stays = await buyers('mstays', 2);
    for (const m of [gone, stays]) await withSystem((tx) => tx`select * from public.evaluate_segment(${m.userId}, ${m.segmentId}, ${m.now})`);
    await withSystem((tx) => tx`delete from auth.users where id = ${gone.userId}`);
    const [left] = await db()<{ n: number }[]>`select count(*)::int as n from public.segment_memberships where user_id = ${gone.userId}`;
    expect(left?.n).toBe(0);
    expect(await rows(stays.userId, stays.segmentId)).toEqual({ all: 2, orphans: 0 });
  });

  it('a member who leaves and matches again is one row, back with a new added_at, counted once', async () => {
    const { userId, segmentId, now } = await buyers('mback', 1);
    const evaluate = (at: Date) => withSystem((tx) => tx<{ added: number; removed: number; total: number }[]>`
      select * from public.evaluate_segment(${userId}, ${segmentId}, ${at})`);
    expect((await evaluate(now))[0]).toEqual({ added: 1, removed: 0, total: 1 });
    await db()`update public.customers set total_orders = 0 where user_id = ${userId}`;
    expect((await evaluate(new Date(now.getTime() + 1000)))[0]).toEqual({ added: 0, removed: 1, total: 0 });
    await db()`update public.customers set total_orders = 1 where user_id = ${userId}`;
    const back = new Date(now.getTime() + 2000);
    expect((await evaluate(back))[0]).toEqual({ added: 1, removed: 0, total: 1 });
    const [m] = await db()<{ n: number; addedAt: string; removedAt: string | null }[]>`
      select count(*) over ()::int as n, added_at, removed_at from public.segment_memberships where user_id = ${userId} and segment_id = ${segmentId}`;
    expect(m).toEqual({ n: 1, addedAt: back.toISOString(), removedAt: null });
  });
});
