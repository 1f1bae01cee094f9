import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRON_JOBS } from '@/lib/cron/jobs';
import { db, jsonb, withSystem } from '@/lib/db';
import { createMerchant } from '@/tests/helpers/merchants';
import { closeRacePools, openRacePools, raceOn, type RacePools } from '@/tests/helpers/race';

/**
 * Storefront batches are stored at once and folded into their customers later
 * (private.queue_touchpoints, then private.fold_touchpoints from the touchpoints cron). A queued
 * fold must give exactly what folding in the call gives (private.record_touchpoints), once per
 * batch whatever folds overlap, for the store that sent it and no other.
 */
interface Event {
  email: string;
  type: string;
  channel: string;
  occurredAt: string;
  collection?: string;
}

const queue = (userId: string, events: Event[], now: Date) =>
  withSystem(async (tx) => (await tx<{ n: number }[]>`select private.queue_touchpoints(${userId}, ${jsonb(tx, events)}, ${now}) as n`)[0]?.n);
const record = (userId: string, events: Event[], now: Date) =>
  withSystem(async (tx) => (await tx<{ n: number }[]>`select private.record_touchpoints(${userId}, ${jsonb(tx, events)}, ${now}) as n`)[0]?.n);
const fold = (userId: string, limit: number, now: Date) =>
  withSystem(async (tx) => (await tx<{ r: { batches: number; events: number } }[]>`
    select private.fold_touchpoints(${limit}, ${now}, ${userId}) as r`)[0]?.r);
const queued = async (userId: string) =>
  (await db()<{ n: number }[]>`select count(*)::int as n from private.touchpoint_folds where user_id = ${userId}`)[0]?.n;

/** What the fold writes, per customer by email, and the stage log: comparable across stores. */
async function journeyOf(userId: string) {
  const customers = await db()`
    select email, stage, stage_changed_at, became_lead_at, engaged_after_lead_at, last_site_visit_at, last_email_open_at,
           last_email_click_at, last_engaged_at, collection_scores, primary_collection, created_at,
           (select count(*)::int from public.touchpoints t where t.user_id = c.user_id and t.customer_id = c.id) as touchpoints
      from public.customers c where c.user_id = ${userId} order by email`;
  const log = await db()`
    select c.email, s.from_stage, s.to_stage, s.trigger_type, s.rule, s.transitioned_at
      from public.stage_transitions s join public.customers c on c.user_id = s.user_id and c.id = s.customer_id
     where s.user_id = ${userId} order by c.email, s.transitioned_at, s.to_stage`;
  return { customers, log };
}

/** A seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const TYPES = ['page_view', 'page_view', 'cart_add', 'pin_save', 'lead_capture', 'email_open', 'email_click', 'quiz_start'];
const COLLECTIONS = ['grounding', 'wholeness', 'growth', 'no-such-collection', undefined];

/** Batches over a small pool of shoppers, events out of order within the last day. */
function batches(seed: number, count: number, size: number, now: Date): Event[][] {
  const next = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  return Array.from({ length: count }, () =>
    Array.from({ length: size }, () => {
      const collection = pick(COLLECTIONS);
      return {
        email: `shopper-${Math.floor(next() * 25)}@example.test`,
        type: pick(TYPES),
        channel: 'organic',
        occurredAt: new Date(now.getTime() - Math.floor(next() * 86_400_000)).toISOString(),
        ...(collection ? { collection } : {}),
      };
    }));
}

describe('storefront batches folded after they are stored', () => {
  it('folds a queue of batches into exactly what folding each in its call gives', async () => {
    const inCall = await createMerchant('fold-in-call');
    const later = await createMerchant('fold-later');
    const now = new Date();
    const all = batches(20261205, 12, 40, now);
    for (const b of all) await record(inCall.userId, b, now);
    for (const b of all) expect(await queue(later.userId, b, now)).toBe(b.length);

    // Stored, not folded: every touchpoint is there, no customer has moved yet.
    expect(await queued(later.userId)).toBe(12);
    const before = await journeyOf(later.userId);
    expect(before.customers.reduce((n, c) => n + Number(c.touchpoints), 0)).toBe(12 * 40);
    expect(before.customers.every((c) => c.stage === 'visitor' && c.lastEngagedAt === null && c.primaryCollection === null)).toBe(true);
    expect(before.log).toEqual([]);

    // Folded in two calls, the way the cron's steps take them.
    expect(await fold(later.userId, 5, now)).toEqual({ batches: 5, events: 200 });
    expect(await fold(later.userId, 100, now)).toEqual({ batches: 7, events: 280 });
    expect(await queued(later.userId)).toBe(0);

    const expected = await journeyOf(inCall.userId);
    const got = await journeyOf(later.userId);
    expect(expected.log.length).toBeGreaterThan(10);
    expect(expected.customers.some((c) => c.stage === 'prospect')).toBe(true);
    expect(got).toEqual(expected);
  });

  it('folds each batch once when several folds run at once (every point counted once)', async () => {
    const m = await createMerchant('fold-race');
    const now = new Date();
    const emails = Array.from({ length: 10 }, (_, i) => `racer-${i}@example.test`);
    // 16 batches, each two cart adds (3 points) in growth for each of the same 10 shoppers.
    for (let b = 0; b < 16; b++) {
      await queue(m.userId, emails.flatMap((email) => [0, 1].map((k) => ({
        email, type: 'cart_add', channel: 'direct', collection: 'growth', occurredAt: new Date(now.getTime() - (b * 2 + k) * 1000).toISOString(),
      }))), now);
    }
    const pools: RacePools = openRacePools(4);
    try {
      const results = await raceOn(pools, 4, async (tx) =>
        (await tx<{ r: { batches: number } }[]>`select private.fold_touchpoints(16, ${now}, ${m.userId}) as r`)[0]?.r.batches ?? 0);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(results.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value : 0), 0)).toBe(16);
    } finally {
      await closeRacePools(pools);
    }
    const scores = await db()<{ growth: string }[]>`
      select collection_scores ->> 'growth' as growth from public.customers where user_id = ${m.userId} order by email`;
    expect(scores.map((s) => Number(s.growth))).toEqual(emails.map(() => 16 * 2 * 3));
    expect(await queued(m.userId)).toBe(0);
  });

  it('folds a batch whose shopper was erased while it waited into the erased record, as the call would have', async () => {
    // An erasure keeps the record's id, stage and counters and the touchpoints' type and time
    // (private.journey_shopper_erase): the fold's figures are of that kind, so the record ends
    // as if the batch had been folded before the erasure, and who the shopper was stays gone.
    const m = await createMerchant('fold-erased');
    const now = new Date();
    const at = new Date(now.getTime() - 60_000).toISOString();
    await queue(m.userId, [
      { email: 'gone@example.test', type: 'lead_capture', channel: 'direct', occurredAt: at, collection: 'growth' },
      { email: 'stays@example.test', type: 'lead_capture', channel: 'direct', occurredAt: at, collection: 'wholeness' },
    ], now);
    await withSystem((tx) => tx`select private.shopper_erase(${m.userId}, 'gone@example.test')`);
    expect(await fold(m.userId, 10, now)).toEqual({ batches: 1, events: 2 });
    const rows = await db()<{ email: string; erased: boolean; stage: string; primaryCollection: string | null }[]>`
      select email, erased_at is not null as erased, stage, primary_collection from public.customers
       where user_id = ${m.userId} order by erased_at nulls last`;
    expect(rows).toEqual([
      { email: expect.stringMatching(/^erased-.*@erased\.invalid$/), erased: true, stage: 'lead', primaryCollection: 'growth' },
      { email: 'stays@example.test', erased: false, stage: 'lead', primaryCollection: 'wholeness' },
    ]);
  });

  it('counts a collection deleted while the batch waited as none', async () => {
    const m = await createMerchant('fold-collection-gone');
    const now = new Date();
    const at = new Date(now.getTime() - 60_000).toISOString();
    await queue(m.userId, [
      { email: 'pat@example.test', type: 'cart_add', channel: 'direct', occurredAt: at, collection: 'growth' },
      { email: 'pat@example.test', type: 'page_view', channel: 'direct', occurredAt: at, collection: 'grounding' },
    ], now);
    await withSystem((tx) => tx`delete from public.collections where user_id = ${m.userId} and slug = 'growth'`);
    await fold(m.userId, 10, now);
    const [c] = await db()<{ scores: Record<string, number>; primaryCollection: string }[]>`
      select collection_scores as scores, primary_collection from public.customers where user_id = ${m.userId}`;
    expect(c).toEqual({ scores: { grounding: 0.5 }, primaryCollection: 'grounding' });
  });

  it("folds a store's batch into that store's customers only, and one store's fold leaves another's queue", async () => {
    const a = await createMerchant('fold-tenant-a');
    const b = await createMerchant('fold-tenant-b');
    const now = new Date();
    const at = new Date(now.getTime() - 60_000).toISOString();
    await queue(b.userId, [{ email: 'bee@example.test', type: 'cart_add', channel: 'direct', occurredAt: at, collection: 'growth' }], now);
    const [bee] = await db()<{ id: string }[]>`select id from public.customers where user_id = ${b.userId}`;
    // A queued row of store A naming store B's customer (as no intake would write it).
    await withSystem((tx) => tx`
      insert into private.touchpoint_folds (user_id, customer_ids, types, occurred_ats, collections)
      values (${a.userId}, ${[bee?.id ?? '']}::uuid[], '{cart_add}', ${[at]}::timestamptz[], '{growth}')`);
    expect(await fold(a.userId, 10, now)).toEqual({ batches: 1, events: 1 });
    expect(await queued(b.userId)).toBe(1);
    const untouched = await db()<{ scores: Record<string, number> }[]>`
      select collection_scores as scores from public.customers where user_id = ${b.userId}`;
    expect(untouched).toEqual([{ scores: {} }]);
    await fold(b.userId, 10, now);
    const folded = await db()<{ scores: Record<string, number> }[]>`
      select collection_scores as scores from public.customers where user_id = ${b.userId}`;
    expect(folded).toEqual([{ scores: { growth: 3 } }]);
  });
});

describe('the touchpoints cron job', () => {
  let m: Awaited<ReturnType<typeof createMerchant>>;
  beforeAll(async () => {
    m = await createMerchant('fold-cron');
  });
  afterAll(async () => {
    await db()`delete from private.touchpoint_folds where user_id = ${m.userId}`;
  });

  it('folds what is queued in steps of a few batches and says when nothing is left', async () => {
    const now = new Date();
    for (const b of batches(7, 9, 20, now)) await queue(m.userId, b, now);
    const job = CRON_JOBS.touchpoints;
    if (!job) throw new Error('no touchpoints job');
    const r = await job(now);
    // Other test files' stores may have batches queued too: at least ours were folded.
    expect(r.batches).toBeGreaterThanOrEqual(9);
    expect(r.steps).toBeGreaterThanOrEqual(3);
    expect(r.behind).toBe(0);
    expect(await queued(m.userId)).toBe(0);
    const [c] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.customers where user_id = ${m.userId} and last_engaged_at is not null`;
    expect(c?.n).toBeGreaterThan(0);
  });
});
