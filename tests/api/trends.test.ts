import { beforeAll, describe, expect, it } from 'vitest';
import { GET as trendsRoute } from '@/app/api/analytics/trends/route';
import type { Trends } from '@/lib/analytics/schemas';
import { trendsSchema } from '@/lib/analytics/schemas';
import { jsonb, withSystem } from '@/lib/db';
import { call } from '@/tests/helpers/http';
import { applyOrder, applyRefund, track } from '@/tests/helpers/journey';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

let a: TestMerchant;
let b: TestMerchant;
const at = (iso: string) => new Date(iso);

// A fixed week, figures worked out by hand in the comments.
beforeAll(async () => {
  a = await createMerchant('trends-a');
  b = await createMerchant('trends-b');
  const now = at('2026-03-20T12:00:00Z');
  // Before the period (the week before: 2026-02-22 .. 2026-02-28): one order of 50 by an old customer.
  await applyOrder(a.userId, { shopOrderId: 't-0', email: 'old@example.test', total: 50, orderedAt: at('2026-02-25T10:00:00Z') }, now);
  // 2026-03-01: two orders, 100 and 40, by two new customers.
  await applyOrder(a.userId, { shopOrderId: 't-1', email: 'ann@example.test', total: 100, orderedAt: at('2026-03-01T09:00:00Z') }, now);
  await applyOrder(a.userId, { shopOrderId: 't-2', email: 'bob@example.test', total: 40, orderedAt: at('2026-03-01T23:59:00Z') }, now);
  // 2026-03-03: ann again, 60, refunded 20 later: revenue 40 that day.
  await applyOrder(a.userId, { shopOrderId: 't-3', email: 'ann@example.test', total: 60, orderedAt: at('2026-03-03T12:00:00Z') }, now);
  await applyRefund(a.userId, 'r-3', 't-3', 20, at('2026-03-05T12:00:00Z'));
  // 2026-03-04: an order of 70, then cancelled: counts nowhere.
  await applyOrder(a.userId, { shopOrderId: 't-4', email: 'cat@example.test', total: 70, orderedAt: at('2026-03-04T08:00:00Z') }, now);
  await withSystem((tx) => tx`select private.apply_cancellation(${a.userId}, ${jsonb(tx, { shopOrderId: 't-4', cancelledAt: '2026-03-04T09:00:00Z' })}, ${at('2026-03-04T09:00:00Z')})`);
  // 2026-03-06: two leads from the storefront (one of them new that day).
  await track(a.userId, [
    { email: 'dee@example.test', type: 'lead_capture', occurredAt: at('2026-03-06T10:00:00Z') },
    { email: 'bob@example.test', type: 'lead_capture', occurredAt: at('2026-03-06T11:00:00Z') },
  ], at('2026-03-06T12:00:00Z'));
  // Another merchant's order on the same day changes nothing for A.
  await applyOrder(b.userId, { shopOrderId: 'b-1', email: 'x@example.test', total: 999, orderedAt: at('2026-03-01T10:00:00Z') }, now);
});

const get = (qs: string, m = a) => call<Trends & { field?: string }>(trendsRoute, `/api/analytics/trends${qs}`, { cookie: m.cookie });

describe('GET /api/analytics/trends', () => {
  it('gives revenue, orders, new customers and leads per day, matching the hand-worked figures', async () => {
    const res = await get('?from=2026-03-01&to=2026-03-07');
    expect(res.status).toBe(200);
    expect(trendsSchema.parse(res.body)).toEqual(res.body);
    const byDay = Object.fromEntries(res.body.points.map((p) => [p.bucket, [p.revenue, p.orders, p.newCustomers, p.leads]]));
    expect(byDay).toEqual({
      '2026-03-01': [140, 2, 2, 0],
      '2026-03-02': [0, 0, 0, 0],
      '2026-03-03': [40, 1, 0, 0],
      '2026-03-04': [0, 0, 1, 0],
      '2026-03-05': [0, 0, 0, 0],
      '2026-03-06': [0, 0, 1, 2],
      '2026-03-07': [0, 0, 0, 0],
    });
    expect(res.body.totals).toEqual({ revenue: 180, orders: 3, newCustomers: 4, leads: 2 });
    expect(res.body.previous).toEqual({ from: '2026-02-22', to: '2026-02-28', revenue: 50, orders: 1, newCustomers: 1, leads: 0 });
  });

  it('groups by week (weeks start on Monday) and keeps merchants apart', async () => {
    const res = await get('?from=2026-03-02&to=2026-03-08&interval=week');
    expect(res.body.points).toEqual([{ bucket: '2026-03-02', revenue: 40, orders: 1, newCustomers: 2, leads: 2 }]);
    const other = await get('?from=2026-03-01&to=2026-03-01', b);
    expect(other.body.totals).toEqual({ revenue: 999, orders: 1, newCustomers: 1, leads: 0 });
  });

  it.each([
    ['?from=2026-03-07&to=2026-03-01', 'from'],
    ['?from=2025-01-01&to=2026-03-01', 'to'],
    ['?from=2026-13-01&to=2026-03-01', 'from'],
    ['?to=2026-03-01', 'from'],
    ['?from=2026-03-01&to=2026-03-02&interval=hour', 'interval'],
  ])('answers 400 for %s', async (qs, field) => {
    const res = await get(qs);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });
});
