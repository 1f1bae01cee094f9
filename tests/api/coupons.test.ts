import { beforeAll, describe, expect, it } from 'vitest';
import { POST as pause } from '@/app/api/coupons/[id]/pause/route';
import { POST as resume } from '@/app/api/coupons/[id]/resume/route';
import { DELETE as del, GET as getOne, PATCH as patch } from '@/app/api/coupons/[id]/route';
import { GET as uses } from '@/app/api/coupons/[id]/uses/route';
import { GET as batchCodes } from '@/app/api/coupons/batches/[id]/codes/route';
import { GET as batchList } from '@/app/api/coupons/batches/route';
import { POST as bulk } from '@/app/api/coupons/bulk/route';
import { GET as list, POST as create } from '@/app/api/coupons/route';
import { POST as validateRoute } from '@/app/api/coupons/validate/route';
import { GET as cron } from '@/app/api/cron/[job]/route';
import { POST as rotateServerKey } from '@/app/api/settings/server-key/rotate/route';
import type { Coupon, CouponBatch, CouponBatchList, CouponList, CouponUses } from '@/lib/coupons/schemas';
import { db, withSystem } from '@/lib/db';
import { call } from '@/tests/helpers/http';
import { orderWithCode } from '@/tests/helpers/coupons';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

let a: TestMerchant;
let b: TestMerchant;
beforeAll(async () => {
  a = await createMerchant('coupons-a');
  b = await createMerchant('coupons-b');
});

const post = (m: TestMerchant, body: unknown) => call<Coupon & { error?: string; field?: string }>(create, '/api/coupons', { cookie: m.cookie, body });

describe('POST /api/coupons', () => {
  it('creates a coupon with the code upper-cased, ignoring fields a client may not set', async () => {
    const res = await post(a, {
      code: ' welcome10 ', discountType: 'percentage', discountValue: 10, usageLimit: 100,
      usage_count: 99, usageCount: 99, user_id: b.userId, userId: b.userId, status: 'depleted',
      id: '00000000-0000-4000-8000-000000000000', totalDiscountAmount: 1e6, source: 'loyalty',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ code: 'WELCOME10', status: 'active', usageCount: 0, totalDiscountAmount: 0, source: 'manual', usageLimit: 100 });
    expect(res.body.id).not.toBe('00000000-0000-4000-8000-000000000000');
    const [row] = await db()<{ userId: string }[]>`select user_id from public.coupons where id = ${res.body.id}`;
    expect(row?.userId).toBe(a.userId);
  });

  it('answers 409 with a message for a duplicate code (any case)', async () => {
    await post(a, { code: 'DUPE', discountType: 'fixed_amount', discountValue: 5 });
    const res = await post(a, { code: 'dupe', discountType: 'fixed_amount', discountValue: 5 });
    expect(res).toMatchObject({ status: 409, body: { error: 'A coupon with that code already exists', field: 'code', code: 'conflict' } });
    // Another merchant may use the same code.
    expect((await post(b, { code: 'DUPE', discountType: 'fixed_amount', discountValue: 5 })).status).toBe(201);
  });

  it.each([
    [{ code: 'P1', discountType: 'percentage', discountValue: 10 }, 'code'],
    [{ code: 'PCT', discountType: 'percentage', discountValue: 101 }, 'discountValue'],
    [{ code: 'PCT0', discountType: 'percentage', discountValue: 0 }, 'discountValue'],
    [{ code: 'PCTNONE', discountType: 'percentage' }, 'discountValue'],
    [{ code: 'NEG', discountType: 'fixed_amount', discountValue: -5 }, 'discountValue'],
    [{ code: 'BXGY', discountType: 'buy_x_get_y', buyQuantity: 2 }, 'getQuantity'],
    [{ code: 'BXGY2', discountType: 'buy_x_get_y', getQuantity: 1 }, 'buyQuantity'],
    [{ code: 'DATES', discountType: 'fixed_amount', discountValue: 5, startsAt: '2026-12-01T00:00:00Z', expiresAt: '2026-11-01T00:00:00Z' }, 'expiresAt'],
    [{ code: 'LIMIT', discountType: 'fixed_amount', discountValue: 5, usageLimit: 0 }, 'usageLimit'],
    [{ code: 'TYPE', discountType: 'bogus', discountValue: 5 }, 'discountType'],
    [{ code: 'BAD CODE!', discountType: 'fixed_amount', discountValue: 5 }, 'code'],
  ])('answers 400 naming the field for %j and creates nothing', async (body, field) => {
    const res = await post(a, body);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
    const [n] = await db()<{ n: number }[]>`select count(*)::int as n from public.coupons where user_id = ${a.userId} and code = ${String(body.code).toUpperCase()}`;
    expect(n?.n).toBe(0);
  });
});

describe('coupon lifecycle', () => {
  it('lists with stats, edits, pauses, resumes and filters by status', async () => {
    const created = await post(a, { code: 'LIFE', discountType: 'percentage', discountValue: 10, usageLimit: 2 });
    const id = created.body.id;
    const edited = await call<Coupon>(patch, `/api/coupons/${id}`, { method: 'PATCH', cookie: a.cookie, params: { id }, body: { discountValue: 15, description: 'Spring' } });
    expect(edited.body).toMatchObject({ discountValue: 15, description: 'Spring', code: 'LIFE' });
    const paused = await call<Coupon>(pause, `/api/coupons/${id}/pause`, { method: 'POST', cookie: a.cookie, params: { id } });
    expect(paused.body.status).toBe('paused');
    expect((await call(pause, `/api/coupons/${id}/pause`, { method: 'POST', cookie: a.cookie, params: { id } })).status).toBe(409);
    const listed = await call<CouponList>(list, '/api/coupons?status=paused&stats=true', { cookie: a.cookie });
    expect(listed.body.coupons.map((c) => c.code)).toContain('LIFE');
    expect(listed.body.stats).toMatchObject({ total: expect.any(Number), active: expect.any(Number) });
    expect((await call<Coupon>(resume, `/api/coupons/${id}/resume`, { method: 'POST', cookie: a.cookie, params: { id } })).body.status).toBe('active');
  });

  it('judges a partial edit against the stored coupon', async () => {
    const c = await post(a, { code: 'PARTIAL', discountType: 'percentage', discountValue: 10 });
    const id = c.body.id;
    const tooMuch = await call(patch, `/api/coupons/${id}`, { method: 'PATCH', cookie: a.cookie, params: { id }, body: { discountValue: 150 } });
    expect(tooMuch).toMatchObject({ status: 400, body: { field: 'discountValue' } });
    const toFixed = await call<Coupon>(patch, `/api/coupons/${id}`, { method: 'PATCH', cookie: a.cookie, params: { id }, body: { discountType: 'fixed_amount' } });
    expect(toFixed.body).toMatchObject({ discountType: 'fixed_amount', discountValue: 10 });
    const badDates = await call(patch, `/api/coupons/${id}`, { method: 'PATCH', cookie: a.cookie, params: { id }, body: { expiresAt: '2000-01-01T00:00:00Z' } });
    expect(badDates).toMatchObject({ status: 400, body: { field: 'expiresAt' } });
  });

  it('refuses a limit below the uses so far; raising the limit of a depleted coupon reactivates it', async () => {
    const c = await post(a, { code: 'ONEUSE', discountType: 'fixed_amount', discountValue: 5, usageLimit: 1 });
    await orderWithCode(a.userId, { id: 'oneuse-1', email: 'u1@example.test', total: 20, code: 'ONEUSE' });
    const id = c.body.id;
    expect((await call<Coupon>(getOne, `/api/coupons/${id}`, { cookie: a.cookie, params: { id } })).body).toMatchObject({ status: 'depleted', usageCount: 1 });
    const tooLow = await call(patch, `/api/coupons/${id}`, { method: 'PATCH', cookie: a.cookie, params: { id }, body: { usageLimit: 1, discountValue: 6 } });
    expect(tooLow.status).toBe(200);
    const raised = await call<Coupon>(patch, `/api/coupons/${id}`, { method: 'PATCH', cookie: a.cookie, params: { id }, body: { usageLimit: 5 } });
    expect(raised.body).toMatchObject({ status: 'active', usageLimit: 5 });
  });

  it('deletes an unused coupon; archives a used one and says so', async () => {
    const unused = await post(a, { code: 'GONE', discountType: 'fixed_amount', discountValue: 5 });
    const d1 = await call<{ deleted: boolean; archived: boolean }>(del, `/api/coupons/${unused.body.id}`, { method: 'DELETE', cookie: a.cookie, params: { id: unused.body.id } });
    expect(d1.body).toMatchObject({ deleted: true, archived: false });
    expect((await call(getOne, `/api/coupons/${unused.body.id}`, { cookie: a.cookie, params: { id: unused.body.id } })).status).toBe(404);

    const used = await post(a, { code: 'KEPT', discountType: 'fixed_amount', discountValue: 5 });
    await orderWithCode(a.userId, { id: 'kept-1', email: 'k@example.test', total: 20, code: 'KEPT' });
    const d2 = await call<{ deleted: boolean; archived: boolean; message: string }>(del, `/api/coupons/${used.body.id}`, { method: 'DELETE', cookie: a.cookie, params: { id: used.body.id } });
    expect(d2.body).toMatchObject({ deleted: false, archived: true });
    expect(d2.body.message).toMatch(/archived/);
    const page = await call<CouponUses>(uses, `/api/coupons/${used.body.id}/uses`, { cookie: a.cookie, params: { id: used.body.id } });
    expect(page.body.uses).toHaveLength(1);
    const csv = await call<string>(uses, `/api/coupons/${used.body.id}/uses?format=csv`, { cookie: a.cookie, params: { id: used.body.id } });
    expect(csv.body.split('\n')[1]).toContain('k@example.test');
  });
});

describe('POST /api/coupons/validate', () => {
  it('answers for the dashboard session and for a checkout with the server key, never across merchants', async () => {
    await post(a, { code: 'CHECKOUT', discountType: 'percentage', discountValue: 20, minimumPurchase: 30 });
    const cart = { code: 'checkout', email: 'Shopper@Example.test', cartTotal: 50 };
    expect((await call(validateRoute, '/api/coupons/validate', { cookie: a.cookie, body: cart })).body).toEqual({ valid: true, discountAmount: 10, freeShipping: false });
    const small = await call(validateRoute, '/api/coupons/validate', { cookie: a.cookie, body: { ...cart, cartTotal: 29.99 } });
    expect(small.body).toEqual({ valid: false, reason: 'minimum_purchase', message: 'Spend at least 30.00 to use this code' });

    const key = (await call<{ serverKey: string }>(rotateServerKey, '/api/settings/server-key/rotate', { method: 'POST', cookie: a.cookie })).body.serverKey;
    expect(key).toMatch(/^sk_/);
    const server = await call(validateRoute, '/api/coupons/validate', { body: cart, noOrigin: true, headers: { authorization: `Bearer ${key}` } });
    expect(server.body).toEqual({ valid: true, discountAmount: 10, freeShipping: false });
    const badKey = await call(validateRoute, '/api/coupons/validate', { body: cart, noOrigin: true, headers: { authorization: 'Bearer sk_wrongwrongwrongwrongwrongwrongwr' } });
    expect(badKey.status).toBe(401);
    expect((await call(validateRoute, '/api/coupons/validate', { body: cart })).status).toBe(401);
    // B asking about A's code learns nothing.
    expect((await call(validateRoute, '/api/coupons/validate', { cookie: b.cookie, body: cart })).body).toMatchObject({ valid: false, reason: 'not_found' });
    const [stored] = await db()<{ serverKeyHash: string }[]>`select server_key_hash from public.merchant_settings where user_id = ${a.userId}`;
    expect(stored?.serverKeyHash).not.toContain(key.slice(3));
  });
});

describe('POST /api/coupons/bulk', () => {
  it('creates unique single-use codes in one batch with a CSV', async () => {
    const res = await call<CouponBatch>(bulk, '/api/coupons/bulk', { cookie: a.cookie, body: { prefix: 'vip', count: 500, discountType: 'fixed_amount', discountValue: 10 } });
    expect(res.status).toBe(201);
    expect(res.body.count).toBe(500);
    const csv = await call<string>(batchCodes, res.body.csvUrl, { cookie: a.cookie, params: { id: res.body.batchId } });
    const codes = csv.body.trim().split('\n').slice(1).map((l) => l.split(',')[0] ?? '');
    expect(codes).toHaveLength(500);
    expect(new Set(codes).size).toBe(500);
    expect(codes.every((c) => /^VIP-[A-HJ-NP-Z2-9]{10}$/.test(c))).toBe(true);
    const [limits] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.coupons where batch_id = ${res.body.batchId} and usage_limit = 1 and per_customer_limit = 1 and source = 'bulk'`;
    expect(limits?.n).toBe(500);
    expect((await call(bulk, '/api/coupons/bulk', { cookie: a.cookie, body: { prefix: 'X', count: 10001, discountType: 'free_shipping' } })).status).toBe(400);
    expect((await call(batchCodes, res.body.csvUrl, { cookie: b.cookie, params: { id: res.body.batchId } })).status).toBe(404);
  });

  it('lists a batch as one row with its counts, keeps its codes out of the coupon list, and finds them by search or batch', async () => {
    const m = await createMerchant('batches');
    const made = await call<CouponBatch>(bulk, '/api/coupons/bulk', { cookie: m.cookie, body: { prefix: 'SPRING', count: 250, discountType: 'percentage', discountValue: 15 } });
    await post(m, { code: 'MANUAL5', discountType: 'fixed_amount', discountValue: 5 });
    const csv = await call<string>(batchCodes, made.body.csvUrl, { cookie: m.cookie, params: { id: made.body.batchId } });
    expect(csv.headers.get('content-disposition')).toMatch(/filename="spring-codes-\d{4}-\d{2}-\d{2}\.csv"/);
    const [first, second] = csv.body.trim().split('\n').slice(1).map((l) => l.split(',')[0] ?? '');
    await orderWithCode(m.userId, { id: 'spring-1', email: 'one@example.test', total: 100, code: first ?? '' });
    await orderWithCode(m.userId, { id: 'spring-2', email: 'two@example.test', total: 40, code: second ?? '' });

    const coupons = await call<CouponList>(list, '/api/coupons', { cookie: m.cookie });
    expect(coupons.body.coupons.map((c) => c.code)).toEqual(['MANUAL5']);
    expect(coupons.body.total).toBe(1);
    const batches = await call<CouponBatchList>(batchList, '/api/coupons/batches', { cookie: m.cookie });
    expect(batches.body).toMatchObject({ total: 1, batches: [{
      id: made.body.batchId, prefix: 'SPRING', codes: 250, usedCodes: 2, uses: 2, totalDiscountAmount: 21,
      terms: { discountType: 'percentage', discountValue: 15, expiresAt: null },
    }] });
    const inBatch = await call<CouponList>(list, `/api/coupons?batchId=${made.body.batchId}&limit=10`, { cookie: m.cookie });
    expect(inBatch.body).toMatchObject({ total: 250 });
    const found = await call<CouponList>(list, `/api/coupons?search=${first}`, { cookie: m.cookie });
    expect(found.body.coupons.map((c) => c.code)).toEqual([first]);
    expect((await call<CouponBatchList>(batchList, '/api/coupons/batches', { cookie: b.cookie })).body.batches.map((x) => x.id)).not.toContain(made.body.batchId);
  });
});

describe('tenants and cron', () => {
  it("B cannot list, read, change, pause, delete or see uses of A's coupons", async () => {
    const c = await post(a, { code: 'PRIVATE', discountType: 'fixed_amount', discountValue: 5 });
    const id = c.body.id;
    const opts = { cookie: b.cookie, params: { id } };
    expect((await call<CouponList>(list, '/api/coupons', { cookie: b.cookie })).body.coupons.map((x) => x.code)).not.toContain('PRIVATE');
    expect((await call(getOne, `/api/coupons/${id}`, opts)).status).toBe(404);
    expect((await call(patch, `/api/coupons/${id}`, { ...opts, method: 'PATCH', body: { discountValue: 99 } })).status).toBe(404);
    expect((await call(pause, `/api/coupons/${id}/pause`, { ...opts, method: 'POST' })).status).toBe(404);
    expect((await call(del, `/api/coupons/${id}`, { ...opts, method: 'DELETE' })).status).toBe(404);
    expect((await call(uses, `/api/coupons/${id}/uses`, opts)).status).toBe(404);
    // An order in B's shop carrying A's code does not redeem it.
    await orderWithCode(b.userId, { id: 'b-order', email: 'b@example.test', total: 20, code: 'PRIVATE' });
    expect((await call<Coupon>(getOne, `/api/coupons/${id}`, { cookie: a.cookie, params: { id } })).body).toMatchObject({ usageCount: 0, discountValue: 5, status: 'active' });
  });

  it('the coupons cron expires active coupons past their end date', async () => {
    const c = await post(a, { code: 'SOONGONE', discountType: 'fixed_amount', discountValue: 5, expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await withSystem((tx) => tx`update public.coupons set starts_at = now() - interval '2 days', expires_at = now() - interval '1 second' where id = ${c.body.id}`);
    const res = await call(cron, '/api/cron/coupons', { params: { job: 'coupons' }, headers: { authorization: `Bearer ${process.env.CRON_SECRET}` } });
    expect(res).toMatchObject({ status: 200, body: { job: 'coupons', expired: 1 } });
    expect((await call<Coupon>(getOne, `/api/coupons/${c.body.id}`, { cookie: a.cookie, params: { id: c.body.id } })).body.status).toBe('expired');
  });
});
