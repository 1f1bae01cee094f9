import { beforeAll, describe, expect, it } from 'vitest';
import { GET as cohortsRoute } from '@/app/api/analytics/cohorts/route';
import { GET as trendsRoute } from '@/app/api/analytics/trends/route';
import { GET as storeGet, PUT as storePut } from '@/app/api/settings/store/route';
import type { Cohorts, Trends } from '@/lib/analytics/schemas';
import { cohortsSchema, trendsSchema } from '@/lib/analytics/schemas';
import { db, jsonb, withSystem } from '@/lib/db';
import { call } from '@/tests/helpers/http';
import { applyOrder, applyRefund, evaluateStages, track } from '@/tests/helpers/journey';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { closeRacePools, openRacePools, raceOn } from '@/tests/helpers/race';

let a: TestMerchant;
let b: TestMerchant;
const at = (iso: string) => new Date(iso);
const cancel = (userId: string, shopOrderId: string, cancelledAt: string) =>
  withSystem((tx) => tx`select private.apply_cancellation(${userId}, ${jsonb(tx, { shopOrderId, cancelledAt })}, ${at(cancelledAt)})`);

/** The rollup as a read sees it (folded totals plus pending deltas), per day and per cohort cell. */
async function rolled(userId: string) {
  const days = await db()<{ day: string; figures: string }[]>`
    select to_char(day, 'YYYY-MM-DD') as day,
           concat_ws('/', sum(orders), sum(revenue), sum(first_orders), sum(new_customers), sum(leads),
                     sum(into_at_risk), sum(won_back), sum(into_churned)) as figures
      from (select day, orders, revenue, first_orders, new_customers, leads, into_at_risk, won_back, into_churned
              from public.daily_metrics where user_id = ${userId}
            union all
            select day, orders, revenue, first_orders, new_customers, leads, into_at_risk, won_back, into_churned
              from public.daily_metric_deltas where user_id = ${userId}) d
     group by day
    having sum(orders) <> 0 or sum(revenue) <> 0 or sum(first_orders) <> 0 or sum(new_customers) <> 0 or sum(leads) <> 0
        or sum(into_at_risk) <> 0 or sum(won_back) <> 0 or sum(into_churned) <> 0
     order by day`;
  const cohorts = await db()<{ cell: string; n: number }[]>`
    select to_char(cohort, 'YYYY-MM') || '>' || to_char(month, 'YYYY-MM') as cell, sum(customers)::int as n
      from (select cohort, month, customers from public.cohort_months where user_id = ${userId}
            union all select cohort, month, customers from public.cohort_month_deltas where user_id = ${userId}) c
     group by cohort, month having sum(customers) <> 0 order by cohort, month`;
  return { days, cohorts };
}

/** What the incremental figures must equal: the rollup recomputed from the stored rows. */
async function rebuilt(userId: string) {
  await withSystem((tx) => tx`select private.rebuild_trends(${userId})`);
  return rolled(userId);
}

// A fixed set of days, figures worked out by hand in the comments.
beforeAll(async () => {
  a = await createMerchant('trends-a');
  b = await createMerchant('trends-b');
  const now = at('2026-03-20T12:00:00Z');
  // Before the period (the week before: 2026-02-22 .. 2026-02-28): one order of 50 by an old customer.
  await applyOrder(a.userId, { shopOrderId: 't-0', email: 'old@example.test', total: 50, orderedAt: at('2026-02-25T10:00:00Z') }, now);
  // 2026-03-01: two orders, 100 and 40, by two new customers (two first orders).
  await applyOrder(a.userId, { shopOrderId: 't-1', email: 'ann@example.test', total: 100, orderedAt: at('2026-03-01T09:00:00Z') }, now);
  await applyOrder(a.userId, { shopOrderId: 't-2', email: 'bob@example.test', total: 40, orderedAt: at('2026-03-01T23:59:00Z') }, now);
  // 2026-03-03: ann again (a repeat order), 60, refunded 20 later: revenue 40 that day.
  await applyOrder(a.userId, { shopOrderId: 't-3', email: 'ann@example.test', total: 60, orderedAt: at('2026-03-03T12:00:00Z') }, now);
  await applyRefund(a.userId, 'r-3', 't-3', 20, at('2026-03-05T12:00:00Z'));
  // 2026-03-04: an order of 70, then cancelled: counts nowhere (cat is still a new customer).
  await applyOrder(a.userId, { shopOrderId: 't-4', email: 'cat@example.test', total: 70, orderedAt: at('2026-03-04T08:00:00Z') }, now);
  await cancel(a.userId, 't-4', '2026-03-04T09:00:00Z');
  // 2026-03-06: two leads from the storefront (one of them new that day).
  await track(a.userId, [
    { email: 'dee@example.test', type: 'lead_capture', occurredAt: at('2026-03-06T10:00:00Z') },
    { email: 'bob@example.test', type: 'lead_capture', occurredAt: at('2026-03-06T11:00:00Z') },
  ], at('2026-03-06T12:00:00Z'));
  // 2026-06-01: the timed review moves old (90 days after one order), bob (the same) and dee
  // (a lead 30 days quiet) into at risk; 2026-06-02: old orders again and is won back.
  await evaluateStages(a.userId, at('2026-06-01T08:00:00Z'));
  await applyOrder(a.userId, { shopOrderId: 't-5', email: 'old@example.test', total: 30, orderedAt: at('2026-06-02T10:00:00Z') });
  // Another merchant's order on the same day changes nothing for A.
  await applyOrder(b.userId, { shopOrderId: 'b-1', email: 'x@example.test', total: 999, orderedAt: at('2026-03-01T10:00:00Z') }, now);
});

const get = (qs: string, m = a) => call<Trends & { field?: string }>(trendsRoute, `/api/analytics/trends${qs}`, { cookie: m.cookie });
const figures = (p: Trends['points'][number]) => [p.revenue, p.orders, p.repeatOrders, p.newCustomers, p.leads];

describe('GET /api/analytics/trends', () => {
  it('gives revenue, orders, repeat orders, new customers and leads per day, matching the hand-worked figures', async () => {
    const res = await get('?from=2026-03-01&to=2026-03-07');
    expect(res.status).toBe(200);
    expect(trendsSchema.parse(res.body)).toEqual(res.body);
    expect(res.body.timeZone).toBe('UTC');
    expect(Object.fromEntries(res.body.points.map((p) => [p.bucket, figures(p)]))).toEqual({
      '2026-03-01': [140, 2, 0, 2, 0],
      '2026-03-02': [0, 0, 0, 0, 0],
      '2026-03-03': [40, 1, 1, 0, 0],
      '2026-03-04': [0, 0, 0, 1, 0],
      '2026-03-05': [0, 0, 0, 0, 0],
      '2026-03-06': [0, 0, 0, 1, 2],
      '2026-03-07': [0, 0, 0, 0, 0],
    });
    expect(res.body.points[2]?.repeatRate).toBe(1);
    expect(res.body.points[1]?.repeatRate).toBeNull();
    expect(res.body.totals).toEqual({
      revenue: 180, orders: 3, repeatOrders: 1, repeatRate: 0.3333, newCustomers: 4, leads: 2, intoAtRisk: 0, wonBack: 0, churned: 0,
    });
    expect(res.body.previous).toEqual({
      from: '2026-02-22', to: '2026-02-28', revenue: 50, orders: 1, repeatOrders: 0, repeatRate: 0, newCustomers: 1, leads: 0,
      intoAtRisk: 0, wonBack: 0, churned: 0,
    });
  });

  it('counts stage movements on the day they happened: into at risk, and back', async () => {
    const res = await get('?from=2026-06-01&to=2026-06-02');
    const moves = res.body.points.map((p) => [p.bucket, p.intoAtRisk, p.wonBack, p.churned, p.repeatOrders]);
    expect(moves).toEqual([['2026-06-01', 3, 0, 0, 0], ['2026-06-02', 0, 1, 0, 1]]);
  });

  it('groups by week (weeks start on Monday) and keeps merchants apart', async () => {
    const res = await get('?from=2026-03-02&to=2026-03-08&interval=week');
    expect(res.body.points.map((p) => [p.bucket, ...figures(p)])).toEqual([['2026-03-02', 40, 1, 1, 2, 2]]);
    const other = await get('?from=2026-03-01&to=2026-03-01', b);
    expect(figures(other.body.totals as Trends['points'][number])).toEqual([999, 1, 0, 1, 0]);
  });

  it('takes the last N days up to today in the merchant time zone', async () => {
    const res = await get('?days=7');
    expect(res.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(res.body.to).toBe(today);
    expect(res.body.points).toHaveLength(7);
    expect(res.body.previous.to).toBe(new Date(Date.parse(res.body.from) - 86_400_000).toISOString().slice(0, 10));
  });

  it.each([
    ['?from=2026-03-07&to=2026-03-01', 'from'],
    ['?from=2025-01-01&to=2026-03-01', 'to'],
    ['?from=2026-13-01&to=2026-03-01', 'from'],
    ['?to=2026-03-01', 'from'],
    ['?from=2026-03-01', 'to'],
    ['?days=0', 'days'],
    ['?days=400', 'days'],
    ['?days=1.5', 'days'],
    ['?from=2026-03-01&to=2026-03-02&interval=hour', 'interval'],
  ])('answers 400 for %s', async (qs, field) => {
    const res = await get(qs);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });

  it('needs a session', async () => {
    const res = await call(trendsRoute, '/api/analytics/trends?days=7');
    expect(res.status).toBe(401);
  });
});

describe('the trend rollup', () => {
  it('equals the figures recomputed from the stored rows, before and after the cron folds it', async () => {
    const incremental = await rolled(a.userId);
    expect(incremental.days.length).toBeGreaterThan(5);
    await withSystem((tx) => tx`select private.compact_trends(100000)`);
    const [pending] = await db()<{ n: number }[]>`select count(*)::int as n from public.daily_metric_deltas where user_id = ${a.userId}`;
    expect(pending?.n).toBe(0);
    expect(await rolled(a.userId)).toEqual(incremental);
    expect(await rebuilt(a.userId)).toEqual(incremental);
  });

  it('stays exact when orders arrive out of order and a first order is cancelled', async () => {
    const m = await createMerchant('trends-order');
    // The later order first, then an earlier one: the first-order day and the cohort move back.
    await applyOrder(m.userId, { shopOrderId: 'o-2', email: 'p@example.test', total: 20, orderedAt: at('2026-04-10T10:00:00Z') });
    await applyOrder(m.userId, { shopOrderId: 'o-1', email: 'p@example.test', total: 10, orderedAt: at('2026-02-10T10:00:00Z') });
    await applyOrder(m.userId, { shopOrderId: 'o-3', email: 'p@example.test', total: 30, orderedAt: at('2026-02-20T10:00:00Z') });
    // The first order cancelled: the customer's first order is now 2026-02-20, still February.
    await cancel(m.userId, 'o-1', '2026-05-01T10:00:00Z');
    // q: first order in March cancelled, the April one stands: q moves to the April cohort.
    await applyOrder(m.userId, { shopOrderId: 'q-1', email: 'q@example.test', total: 5, orderedAt: at('2026-03-05T10:00:00Z') });
    await applyOrder(m.userId, { shopOrderId: 'q-2', email: 'q@example.test', total: 5, orderedAt: at('2026-04-05T10:00:00Z') });
    await cancel(m.userId, 'q-1', '2026-05-01T10:00:00Z');
    const incremental = await rolled(m.userId);
    expect(incremental.cohorts).toEqual([
      { cell: '2026-02>2026-02', n: 1 },
      { cell: '2026-02>2026-04', n: 1 },
      { cell: '2026-04>2026-04', n: 1 },
    ]);
    // Orders that stand: 02-20, 04-05, 04-10; first orders: p on 02-20, q on 04-05. A customer
    // created by an order is first seen at that order: p on 04-10 (the first to arrive), q on 03-05.
    expect(incremental.days).toEqual([
      { day: '2026-02-20', figures: '1/30.00/1/0/0/0/0/0' },
      { day: '2026-03-05', figures: '0/0.00/0/1/0/0/0/0' },
      { day: '2026-04-05', figures: '1/5.00/1/0/0/0/0/0' },
      { day: '2026-04-10', figures: '1/20.00/0/1/0/0/0/0' },
    ]);
    expect(await rebuilt(m.userId)).toEqual(incremental);
  });

  it('counts one first order when two orders of a new customer land at the same moment', async () => {
    const m = await createMerchant('trends-race');
    const pools = openRacePools(4);
    try {
      const results = await raceOn(pools, 4, (tx, i) => tx`
        select private.apply_order(${m.userId}, ${tx.json({ shopOrderId: `race-${i}`, email: 'same@example.test', total: 10, orderedAt: `2026-05-0${i + 1}T10:00:00Z` })})`);
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    } finally {
      await closeRacePools(pools);
    }
    const incremental = await rolled(m.userId);
    const firstOrders = incremental.days.reduce((s, d) => s + Number(d.figures.split('/')[2]), 0);
    expect(firstOrders).toBe(1);
    expect(await rebuilt(m.userId)).toEqual(incremental);
  });
});

describe('the store time zone', () => {
  let c: TestMerchant;
  beforeAll(async () => {
    c = await createMerchant('trends-tz');
    // 02:00 UTC on 1 March is the evening of 28 February in New York.
    await applyOrder(c.userId, { shopOrderId: 'z-1', email: 'z@example.test', total: 25, orderedAt: at('2026-03-01T02:00:00Z') });
  });
  const put = (timeZone: unknown, m = c) => call<{ timeZone: string; field?: string }>(storePut, '/api/settings/store', { method: 'PUT', body: { timeZone }, cookie: m.cookie });

  it('moves every figure to the days and months of the new zone, at once', async () => {
    const before = await get('?from=2026-02-28&to=2026-03-01', c);
    expect(before.body.points.map((p) => [p.bucket, p.orders])).toEqual([['2026-02-28', 0], ['2026-03-01', 1]]);
    const res = await put('America/New_York');
    expect(res.status).toBe(200);
    expect(res.body.timeZone).toBe('America/New_York');
    const after = await get('?from=2026-02-28&to=2026-03-01', c);
    expect(after.body.timeZone).toBe('America/New_York');
    expect(after.body.points.map((p) => [p.bucket, p.orders, p.newCustomers])).toEqual([['2026-02-28', 1, 1], ['2026-03-01', 0, 0]]);
    expect((await rolled(c.userId)).cohorts).toEqual([{ cell: '2026-02>2026-02', n: 1 }]);
    // A new order is counted in the new zone too.
    await applyOrder(c.userId, { shopOrderId: 'z-2', email: 'z2@example.test', total: 5, orderedAt: at('2026-03-01T03:00:00Z') });
    const later = await get('?from=2026-02-28&to=2026-02-28', c);
    expect(later.body.totals.orders).toBe(2);
    expect(await rolled(c.userId)).toEqual(await rebuilt(c.userId));
  });

  it('refuses a name that is not a time zone, and changes nothing', async () => {
    for (const bad of ['Mars/Olympus_Mons', 'not a zone', '', 42, 'Europe/Paris'.repeat(10)]) {
      const res = await put(bad);
      expect(res.status).toBe(400);
      expect(res.body.field).toBe('timeZone');
    }
    const res = await call<{ timeZone: string; timeZones: string[] }>(storeGet, '/api/settings/store', { cookie: c.cookie });
    expect(res.body.timeZone).toBe('America/New_York');
    expect(res.body.timeZones).toContain('Europe/Paris');
    expect(res.body.timeZones).not.toContain('posixrules');
  });

  it('waits for an order in flight, so no figure is left in the old zone', async () => {
    const m = await createMerchant('trends-tz-race');
    const pools = openRacePools(2);
    try {
      // An order is applied (in UTC days) and not yet committed when the zone changes.
      const order = pools.pool.begin(async (tx) => {
        await tx`select private.apply_order(${m.userId}, ${tx.json({ shopOrderId: 'f-1', email: 'f@example.test', total: 9, orderedAt: '2026-03-01T02:00:00Z' })})`;
        await new Promise((r) => setTimeout(r, 300));
      });
      await new Promise((r) => setTimeout(r, 100));
      await pools.gate.begin((tx) => tx`select private.set_time_zone(${m.userId}, 'America/New_York')`);
      await order;
    } finally {
      await closeRacePools(pools);
    }
    // The order counts on 28 February (New York); applied today, the customer is churned today.
    const incremental = await rolled(m.userId);
    expect(incremental.days.find((x) => x.figures.startsWith('1/'))?.day).toBe('2026-02-28');
    expect(incremental.days.some((x) => x.day === '2026-03-01')).toBe(false);
    expect(await rebuilt(m.userId)).toEqual(incremental);
  });
});

describe('GET /api/analytics/cohorts', () => {
  let d: TestMerchant;
  // Months counted back from the current one (UTC, the merchant's zone).
  const month = (back: number, day = 10) => {
    const t = new Date();
    return new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - back, day, 0, 0, 0));
  };
  const ym = (back: number) => month(back).toISOString().slice(0, 7);
  beforeAll(async () => {
    d = await createMerchant('cohorts');
    const o = (id: string, email: string, when: Date) => applyOrder(d.userId, { shopOrderId: id, email, total: 10, orderedAt: when }, new Date());
    // Three months back: p1 and p2 first order. p1 orders again two and zero months back, p2 one month back.
    await o('c-1', 'p1@example.test', month(3));
    await o('c-2', 'p2@example.test', month(3, 15));
    await o('c-3', 'p1@example.test', month(2));
    await o('c-4', 'p2@example.test', month(1));
    await o('c-5', 'p1@example.test', month(0, 1));
    // Two months back: p3's first order. p4's order that month is cancelled: no cohort.
    await o('c-6', 'p3@example.test', month(2, 5));
    await o('c-7', 'p4@example.test', month(2, 6));
    await cancel(d.userId, 'c-7', month(2, 7).toISOString());
    // Five months back: p5, outside a four-month table.
    await o('c-8', 'p5@example.test', month(5));
  });

  it('gives each first-order month and the share who ordered in every later month', async () => {
    const res = await call<Cohorts>(cohortsRoute, '/api/analytics/cohorts?months=4', { cookie: d.cookie });
    expect(res.status).toBe(200);
    expect(cohortsSchema.parse(res.body)).toEqual(res.body);
    expect(res.body.currentMonth).toBe(ym(0));
    expect(res.body.cohorts).toEqual([
      { cohort: ym(3), customers: 2, retained: [{ offset: 1, customers: 1, share: 0.5 }, { offset: 2, customers: 1, share: 0.5 }, { offset: 3, customers: 1, share: 0.5 }] },
      { cohort: ym(2), customers: 1, retained: [{ offset: 1, customers: 0, share: 0 }, { offset: 2, customers: 0, share: 0 }] },
      { cohort: ym(1), customers: 0, retained: [{ offset: 1, customers: 0, share: null }] },
      { cohort: ym(0), customers: 0, retained: [] },
    ]);
  });

  it('keeps merchants apart and rejects a bad window', async () => {
    const other = await call<Cohorts>(cohortsRoute, '/api/analytics/cohorts?months=4', { cookie: b.cookie });
    expect(other.body.cohorts.every((x) => x.customers === 0)).toBe(true);
    for (const qs of ['?months=1', '?months=25', '?months=x']) {
      const res = await call<{ field: string }>(cohortsRoute, `/api/analytics/cohorts${qs}`, { cookie: d.cookie });
      expect(res.status).toBe(400);
      expect(res.body.field).toBe('months');
    }
  });
});
