import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { GET as cohorts } from '@/app/api/analytics/cohorts/route';
import { GET as trends } from '@/app/api/analytics/trends/route';
import { GET as listCollections } from '@/app/api/collections/route';
import { GET as couponUses } from '@/app/api/coupons/[id]/uses/route';
import { GET as getCoupon } from '@/app/api/coupons/[id]/route';
import { GET as listBatches } from '@/app/api/coupons/batches/route';
import { POST as bulk } from '@/app/api/coupons/bulk/route';
import { GET as listCoupons } from '@/app/api/coupons/route';
import { POST as validateCoupon } from '@/app/api/coupons/validate/route';
import { GET as analytics } from '@/app/api/customers/analytics/route';
import { GET as journey } from '@/app/api/customers/[id]/journey/route';
import { PATCH as patchCustomer } from '@/app/api/customers/[id]/route';
import { GET as listCustomers } from '@/app/api/customers/route';
import { GET as members } from '@/app/api/segments/[id]/members/route';
import { GET as listSegments, POST as createSegment } from '@/app/api/segments/route';
import { GET as storeSettings } from '@/app/api/settings/store/route';
import { cohortsSchema, trendsSchema } from '@/lib/analytics/schemas';
import { collectionSchema } from '@/lib/collections/schemas';
import { couponBatchListSchema, couponListSchema, couponSchema, couponUsesSchema, couponValidationSchema } from '@/lib/coupons/schemas';
import { customerListSchema, customerSchema, journeyAnalyticsSchema, journeySchema } from '@/lib/customers/schemas';
import { segmentListSchema, segmentMembersSchema, segmentSchema } from '@/lib/segments/schemas';
import { storeSettingsSchema } from '@/lib/settings/schemas';
import { makeCoupon, orderWithCode } from '@/tests/helpers/coupons';
import { call } from '@/tests/helpers/http';
import { DAY, track } from '@/tests/helpers/journey';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

/**
 * Every entity's shape is written once, as a zod schema: the SELECT lists its fields and rows
 * come back from postgres.js in that shape. These tests hold the routes to it: a response that
 * parses to itself has every field the schema names, with its type (numbers, ISO times, enums),
 * and nothing the schema does not name (zod drops unknown keys, so an extra one would differ).
 */
function expectShape<S extends z.ZodType>(schema: S, body: unknown): void {
  const parsed = schema.safeParse(body);
  expect(parsed.error?.issues ?? []).toEqual([]);
  expect(parsed.data).toEqual(body);
}

let m: TestMerchant;
let customerId: string;
let couponId: string;

beforeAll(async () => {
  m = await createMerchant('contracts');
  const now = new Date();
  await track(m.userId, [
    { email: 'shape@example.test', type: 'lead_capture', occurredAt: new Date(now.getTime() - 3 * DAY) },
    { email: 'shape@example.test', type: 'cart_add', collection: 'growth', occurredAt: new Date(now.getTime() - 2 * DAY) },
  ], now);
  const coupon = await makeCoupon(m.userId, { code: 'SHAPE10', usageLimit: 5, minimumPurchase: 20, expiresAt: new Date(now.getTime() + 30 * DAY).toISOString() });
  couponId = coupon.id;
  await orderWithCode(m.userId, { id: 'shape-1', email: 'shape@example.test', total: 80.5, code: 'SHAPE10' });
  await orderWithCode(m.userId, { id: 'shape-2', email: 'shape@example.test', total: 10, code: 'SHAPE10' });
  const list = await call<{ customers: { id: string }[] }>(listCustomers, '/api/customers', { cookie: m.cookie });
  customerId = list.body.customers[0]?.id ?? '';
});

describe('responses have exactly the shape their schema declares', () => {
  it('customers, a customer, a journey and the analytics', async () => {
    const list = await call(listCustomers, '/api/customers', { cookie: m.cookie });
    expectShape(customerListSchema, list.body);
    const one = await call(patchCustomer, `/api/customers/${customerId}`, {
      method: 'PATCH', cookie: m.cookie, params: { id: customerId }, body: { firstName: 'Shape' },
    });
    expectShape(customerSchema, one.body);
    // Money is a number and times are ISO strings, straight from the row (the refused code's order still counts).
    expect(one.body).toMatchObject({ lifetimeValue: 90.5, totalOrders: 2, firstName: 'Shape', lastPurchaseAt: expect.stringMatching(/Z$/) });
    const j = await call<{ touchpoints: unknown[]; transitions: unknown[] }>(journey, `/api/customers/${customerId}/journey`, { cookie: m.cookie, params: { id: customerId } });
    expectShape(journeySchema, j.body);
    expect(j.body.touchpoints.length).toBeGreaterThan(0);
    expect(j.body.transitions.length).toBeGreaterThan(0);
    expectShape(journeyAnalyticsSchema, (await call(analytics, '/api/customers/analytics', { cookie: m.cookie })).body);
  });

  it('coupons, a coupon, its uses (accepted and refused) and a validation', async () => {
    expectShape(couponListSchema, (await call(listCoupons, '/api/coupons?stats=true', { cookie: m.cookie })).body);
    const one = await call(getCoupon, `/api/coupons/${couponId}`, { cookie: m.cookie, params: { id: couponId } });
    expectShape(couponSchema, one.body);
    expect(one.body).toMatchObject({ minimumPurchase: 20, usageCount: 1, rejectedCount: 1 });
    const uses = await call<{ uses: { status: string }[] }>(couponUses, `/api/coupons/${couponId}/uses`, { cookie: m.cookie, params: { id: couponId } });
    expectShape(couponUsesSchema, uses.body);
    expect(uses.body.uses.map((u) => u.status).sort()).toEqual(['accepted', 'rejected']);
    const v = await call(validateCoupon, '/api/coupons/validate', {
      cookie: m.cookie, body: { code: 'SHAPE10', email: 'new@example.test', cartTotal: 50 },
    });
    expectShape(couponValidationSchema, v.body);
    await call(bulk, '/api/coupons/bulk', { cookie: m.cookie, body: { prefix: 'SHAPE', count: 3, discountType: 'free_shipping', expiresAt: '2099-01-01T00:00:00Z' } });
    const batches = await call<{ batches: unknown[] }>(listBatches, '/api/coupons/batches', { cookie: m.cookie });
    expectShape(couponBatchListSchema, batches.body);
    expect(batches.body.batches).toHaveLength(1);
  });

  it('segments and their members', async () => {
    const created = await call<{ id: string }>(createSegment, '/api/segments', { cookie: m.cookie, body: { name: 'Buyers', criteria: { min_orders: 1 } } });
    expectShape(segmentSchema, created.body);
    expectShape(segmentListSchema, (await call(listSegments, '/api/segments', { cookie: m.cookie })).body);
    const page = await call(members, `/api/segments/${created.body.id}/members`, { cookie: m.cookie, params: { id: created.body.id } });
    expectShape(segmentMembersSchema, page.body);
  });

  it('collections', async () => {
    const res = await call<{ collections: unknown[] }>(listCollections, '/api/collections', { cookie: m.cookie });
    expect(res.body.collections.length).toBe(3);
    for (const c of res.body.collections) expectShape(collectionSchema, c);
  });

  it('trends, cohorts and the store settings', async () => {
    const t = await call<{ totals: { orders: number } }>(trends, '/api/analytics/trends?days=7', { cookie: m.cookie });
    expectShape(trendsSchema, t.body);
    expect(t.body.totals.orders).toBe(2);
    expectShape(cohortsSchema, (await call(cohorts, '/api/analytics/cohorts', { cookie: m.cookie })).body);
    expectShape(storeSettingsSchema, (await call(storeSettings, '/api/settings/store', { cookie: m.cookie })).body);
  });
});
