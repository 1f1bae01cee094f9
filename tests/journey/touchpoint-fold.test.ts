import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRON_JOBS } from '@/lib/cron/jobs';
import { db, jsonb, type Tx, withSystem } from '@/lib/db';
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

/**
 * The functions, each run on the given transaction. Other test files run the cron's fold, which
 * takes any store's committed batches: a test that checks what is queued queues, folds and
 * checks in one transaction, which no other fold can see into.
 */
const on = (tx: Tx) => ({
  queue: async (userId: string, events: Event[], now: Date) =>
    (await tx<{ n: number }[]>`select private.queue_touchpoints(${userId}, ${jsonb(tx, events)}, ${now}) as n`)[0]?.n,
  record: async (userId: string, events: Event[], now: Date) =>
    (await tx<{ n: number }[]>`select private.record_touchpoints(${userId}, ${jsonb(tx, events)}, ${now}) as n`)[0]?.n,
  fold: async (userId: string | null, limit: number, now: Date) =>
    (await tx<{ r: { batches: number; events: number } }[]>`select private.fold_touchpoints(${limit}, ${now}, ${userId}) as r`)[0]?.r,
  queued: async (userId: string) =>
    (await tx<{ n: number }[]>`select count(*)::int as n from private.touchpoint_folds where user_id = ${userId}`)[0]?.n,
});
const isolated = <T>(fn: (h: ReturnType<typeof on>, tx: Tx) => Promise<T>) => withSystem((tx) => fn(on(tx), tx));

/** What the fold writes, per customer by email, and the stage log: comparable across stores. */
async function journeyOf(tx: Tx, userId: string) {
  const customers = await tx`
    select email, stage, stage_changed_at, became_lead_at, engaged_after_lead_at, last_site_visit_at, last_email_open_at,
           last_email_click_at, last_engaged_at, collection_scores, primary_collection, created_at,
           (select count(*)::int from public.touchpoints t where t.user_id = c.user_id and t.customer_id = c.id) as touchpoints
      from public.customers c where c.user_id = ${userId} order by email`;
  const log = await tx`
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
    await isolated(async (h) => {
      for (const b of all) await h.record(inCall.userId, b, now);
    });
    await isolated(async (h, tx) => {
      for (const b of all) expect(await h.queue(later.userId, b, now)).toBe(b.length);
      // Stored, not folded: every touchpoint is there, no customer has moved yet.
      expect(await h.queued(later.userId)).toBe(12);
      const before = await journeyOf(tx, later.userId);
      expect(before.customers.reduce((n, c) => n + Number(c.touchpoints), 0)).toBe(12 * 40);
      expect(before.customers.every((c) => c.stage === 'visitor' && c.lastEngagedAt === null && c.primaryCollection === null)).toBe(true);
      expect(before.log).toEqual([]);
      // Folded in two calls, the way the cron's steps take them.
      expect(await h.fold(later.userId, 5, now)).toEqual({ batches: 5, events: 200 });
      expect(await h.fold(later.userId, 100, now)).toEqual({ batches: 7, events: 280 });
      expect(await h.queued(later.userId)).toBe(0);
    });
    const expected = await withSystem((tx) => journeyOf(tx, inCall.userId));
    const got = await withSystem((tx) => journeyOf(tx, later.userId));
    expect(expected.log.length).toBeGreaterThan(10);
    expect(expected.customers.some((c) => c.stage === 'prospect')).toBe(true);
    expect(got).toEqual(expected);
  });

  it('folds each batch once when several folds run at once, their customers crossing (every point counted once, no deadlock)', async () => {
    const m = await createMerchant('fold-race');
    const now = new Date();
    const emails = Array.from({ length: 10 }, (_, i) => `racer-${i}@example.test`);
    // 16 batches, each a cart add (3 points, growth) for two shoppers, every shopper in several
    // batches: four folds take four batches each at once, so a fold's later batch needs a shopper
    // another fold's earlier batch holds. Each must take all its locks before it folds any, in one
    // order, or two of them wait on each other (a deadlock, which PostgreSQL breaks by failing one).
    const named = (b: number) => [(b + 4) % 10, b % 10];
    const expected = emails.map(() => 0);
    await isolated(async (h) => {
      for (let b = 0; b < 16; b++) {
        for (const k of named(b)) expected[k] = (expected[k] ?? 0) + 3;
        await h.queue(m.userId, named(b).map((k, j) => ({
          email: emails[k] ?? '', type: 'cart_add', channel: 'direct', collection: 'growth',
          occurredAt: new Date(now.getTime() - (b * 3 + j) * 1000).toISOString(),
        })), now);
      }
    });
    const pools: RacePools = openRacePools(4);
    try {
      const results = await raceOn(pools, 4, async (tx) =>
        (await tx<{ r: { batches: number } }[]>`select private.fold_touchpoints(4, ${now}, ${m.userId}) as r`)[0]?.r.batches ?? 0);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      // Each batch folded once (the cron of another test file may have taken some of them).
      expect(results.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value : 0), 0)).toBeLessThanOrEqual(16);
    } finally {
      await closeRacePools(pools);
    }
    const scores = await db()<{ growth: string }[]>`
      select collection_scores ->> 'growth' as growth from public.customers where user_id = ${m.userId} order by email`;
    expect(scores.map((x) => Number(x.growth))).toEqual(expected);
    expect(await withSystem((tx) => on(tx).queued(m.userId))).toBe(0);
  });

  it('folds the oldest batch of each store first, so one busy store does not hold back the others', async () => {
    const busy = await createMerchant('fold-busy');
    const quiet = await createMerchant('fold-quiet');
    const now = new Date();
    const at = new Date(now.getTime() - 60_000).toISOString();
    await isolated(async (h) => {
      for (let b = 0; b < 5; b++) await h.queue(busy.userId, [{ email: `b${b}@example.test`, type: 'page_view', channel: 'direct', occurredAt: at }], now);
      await h.queue(quiet.userId, [{ email: 'q@example.test', type: 'page_view', channel: 'direct', occurredAt: at }], now);
      // The cron's claim: one batch of each store with any queued (other files' committed ones too).
      const r = await h.fold(null, 1000, now);
      expect(r?.batches).toBeGreaterThanOrEqual(2);
      expect(await h.queued(busy.userId)).toBe(4);
      expect(await h.queued(quiet.userId)).toBe(0);
    });
  });

  it('folds the oldest batch in the call once a store has a full backlog, so its queue stops growing', async () => {
    const m = await createMerchant('fold-backlog');
    const now = new Date();
    const at = new Date(now.getTime() - 60_000).toISOString();
    await isolated(async (h, tx) => {
      const [cap] = await tx<{ n: number }[]>`select private.touchpoint_backlog() as n`;
      const backlog = cap?.n ?? 0;
      expect(backlog).toBe(100);
      for (let b = 0; b < backlog; b++) {
        await h.queue(m.userId, [{ email: `shopper-${b}@example.test`, type: 'pin_save', channel: 'direct', occurredAt: at, collection: 'growth' }], now);
      }
      expect(await h.queued(m.userId)).toBe(backlog);
      await h.queue(m.userId, [{ email: 'one-more@example.test', type: 'pin_save', channel: 'direct', occurredAt: at, collection: 'growth' }], now);
      expect(await h.queued(m.userId)).toBe(backlog);
      const folded = await tx<{ email: string }[]>`
        select email from public.customers where user_id = ${m.userId} and primary_collection is not null`;
      expect(folded).toEqual([{ email: 'shopper-0@example.test' }]);
    });
  });

  it('folds queued batches naming the same shopper before a batch folded in its call, so events count in the order they came', async () => {
    const m = await createMerchant('fold-order');
    const now = new Date();
    const leadAt = new Date(now.getTime() - 120_000);
    const cartAt = new Date(now.getTime() - 60_000);
    await isolated(async (h, tx) => {
      // The storefront's lead capture waits in the queue; then a call folds a cart add at once
      // (as the gift claim and the win-back click do).
      await h.queue(m.userId, [{ email: 'lee@example.test', type: 'lead_capture', channel: 'direct', occurredAt: leadAt.toISOString() }], now);
      await h.queue(m.userId, [{ email: 'other@example.test', type: 'lead_capture', channel: 'direct', occurredAt: leadAt.toISOString() }], now);
      await h.record(m.userId, [{ email: 'lee@example.test', type: 'cart_add', channel: 'direct', occurredAt: cartAt.toISOString() }], now);
      const [lee] = await tx<{ stage: string; becameLeadAt: string; engagedAfterLeadAt: string }[]>`
        select stage, became_lead_at, engaged_after_lead_at from public.customers where user_id = ${m.userId} and email = 'lee@example.test'`;
      expect(lee).toEqual({ stage: 'prospect', becameLeadAt: leadAt.toISOString(), engagedAfterLeadAt: cartAt.toISOString() });
      // The other shopper's batch was not the call's to fold.
      expect(await h.queued(m.userId)).toBe(1);
    });
  });

  it('logs a stage change no earlier than the call that queued it, whatever time the fold is given', async () => {
    const m = await createMerchant('fold-time');
    const queuedAt = new Date();
    await isolated(async (h, tx) => {
      await h.queue(m.userId, [{ email: 'tim@example.test', type: 'lead_capture', channel: 'direct', occurredAt: new Date(queuedAt.getTime() - 1000).toISOString() }], queuedAt);
      expect(await h.fold(m.userId, 10, new Date(queuedAt.getTime() - 30_000))).toEqual({ batches: 1, events: 1 });
      const [t] = await tx<{ at: string; changed: string }[]>`
        select (select max(transitioned_at) from public.stage_transitions where user_id = ${m.userId}) as at,
               (select stage_changed_at from public.customers where user_id = ${m.userId}) as changed`;
      expect(t).toEqual({ at: queuedAt.toISOString(), changed: queuedAt.toISOString() });
    });
  });

  it('folds a batch whose shopper was erased while it waited into the erased record, as the call would have', async () => {
    // An erasure keeps the record's id, stage and counters and the touchpoints' type and time
    // (private.journey_shopper_erase): the fold's figures are of that kind, so the record ends
    // as if the batch had been folded before the erasure, and who the shopper was stays gone.
    const m = await createMerchant('fold-erased');
    const now = new Date();
    const at = new Date(now.getTime() - 60_000).toISOString();
    await isolated(async (h, tx) => {
      await h.queue(m.userId, [
        { email: 'gone@example.test', type: 'lead_capture', channel: 'direct', occurredAt: at, collection: 'growth' },
        { email: 'stays@example.test', type: 'lead_capture', channel: 'direct', occurredAt: at, collection: 'wholeness' },
      ], now);
      await tx`select private.shopper_erase(${m.userId}, 'gone@example.test')`;
      expect(await h.fold(m.userId, 10, now)).toEqual({ batches: 1, events: 2 });
      const rows = await tx<{ email: string; erased: boolean; stage: string; primaryCollection: string | null }[]>`
        select email, erased_at is not null as erased, stage, primary_collection from public.customers
         where user_id = ${m.userId} order by erased_at nulls last`;
      expect(rows).toEqual([
        { email: expect.stringMatching(/^erased-.*@erased\.invalid$/), erased: true, stage: 'lead', primaryCollection: 'growth' },
        { email: 'stays@example.test', erased: false, stage: 'lead', primaryCollection: 'wholeness' },
      ]);
    });
  });

  it('counts a collection deleted while the batch waited as none', async () => {
    const m = await createMerchant('fold-collection-gone');
    const now = new Date();
    const at = new Date(now.getTime() - 60_000).toISOString();
    await isolated(async (h, tx) => {
      await h.queue(m.userId, [
        { email: 'pat@example.test', type: 'cart_add', channel: 'direct', occurredAt: at, collection: 'growth' },
        { email: 'pat@example.test', type: 'page_view', channel: 'direct', occurredAt: at, collection: 'grounding' },
      ], now);
      await tx`delete from public.collections where user_id = ${m.userId} and slug = 'growth'`;
      expect(await h.fold(m.userId, 10, now)).toEqual({ batches: 1, events: 2 });
      const [c] = await tx<{ scores: Record<string, number>; primaryCollection: string }[]>`
        select collection_scores as scores, primary_collection from public.customers where user_id = ${m.userId}`;
      expect(c).toEqual({ scores: { grounding: 0.5 }, primaryCollection: 'grounding' });
    });
  });

  it("folds a store's batch into that store's customers only, and one store's fold leaves another's queue", async () => {
    const a = await createMerchant('fold-tenant-a');
    const b = await createMerchant('fold-tenant-b');
    const now = new Date();
    const at = new Date(now.getTime() - 60_000).toISOString();
    await isolated(async (h, tx) => {
      await h.queue(b.userId, [{ email: 'bee@example.test', type: 'cart_add', channel: 'direct', occurredAt: at, collection: 'growth' }], now);
      const [bee] = await tx<{ id: string }[]>`select id from public.customers where user_id = ${b.userId}`;
      // A queued row of store A naming store B's customer (as no intake would write it).
      await tx`
        insert into private.touchpoint_folds (user_id, customer_ids, types, occurred_ats, collections)
        values (${a.userId}, ${[bee?.id ?? '']}::uuid[], '{cart_add}', ${[at]}::timestamptz[], '{growth}')`;
      expect(await h.fold(a.userId, 10, now)).toEqual({ batches: 1, events: 1 });
      expect(await h.queued(b.userId)).toBe(1);
      const scores = () => tx<{ scores: Record<string, number> }[]>`select collection_scores as scores from public.customers where user_id = ${b.userId}`;
      expect(await scores()).toEqual([{ scores: {} }]);
      await h.fold(b.userId, 10, now);
      expect(await scores()).toEqual([{ scores: { growth: 3 } }]);
    });
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
    await isolated(async (h) => {
      for (const b of batches(7, 9, 20, now)) await h.queue(m.userId, b, now);
    });
    const job = CRON_JOBS.touchpoints;
    if (!job) throw new Error('no touchpoints job');
    const r = await job(now);
    // Other test files' stores may have batches queued too: at least ours were folded.
    expect(r.batches).toBeGreaterThanOrEqual(9);
    expect(r.steps).toBeGreaterThanOrEqual(3);
    expect(r.behind).toBe(0);
    expect(await withSystem((tx) => on(tx).queued(m.userId))).toBe(0);
    const [c] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.customers where user_id = ${m.userId} and last_engaged_at is not null`;
    expect(c?.n).toBeGreaterThan(0);
  });
});
