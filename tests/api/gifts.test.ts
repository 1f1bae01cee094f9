import { beforeAll, describe, expect, it } from 'vitest';
import { POST as cancelRoute } from '@/app/api/gifts/[id]/cancel/route';
import { POST as linkRoute } from '@/app/api/gifts/[id]/link/route';
import { POST as resendRoute } from '@/app/api/gifts/[id]/resend/route';
import { GET as giftRoute } from '@/app/api/gifts/[id]/route';
import { GET as claimGet, POST as claimPost } from '@/app/api/gifts/claim/[code]/route';
import { GET as listRoute, POST as createRoute } from '@/app/api/gifts/route';
import { GET as statsRoute } from '@/app/api/gifts/stats/route';
import { GET as storeGet, PUT as storeRoute } from '@/app/api/settings/store/route';
import type { RouteHandler } from '@/lib/api/handler';
import { db } from '@/lib/db';
import { mintGiftCode } from '@/lib/gifts/codes';
import { claimResultSchema, giftPageSchema, giftStatsSchema, giftWithDeliverySchema, linkResultSchema, publicGiftResponse } from '@/lib/gifts/schemas';
import { gifts } from '@/tests/helpers/gifts';
import { call } from '@/tests/helpers/http';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

type Body = Record<string, unknown> & { error?: string; field?: string; code?: string; id?: string; status?: string };
let a: TestMerchant;
let b: TestMerchant;
const as = (m: TestMerchant) => ({ cookie: m.cookie });
const create = (m: TestMerchant, body: unknown) => call<Body>(createRoute, '/api/gifts', { ...as(m), body });
const action = (handler: RouteHandler, m: TestMerchant, id: string) =>
  call<Body>(handler, `/api/gifts/${id}/x`, { method: 'POST', ...as(m), params: { id } });
const lookup = (code: string, ip = '203.0.113.7') =>
  call<Body>(claimGet, `/api/gifts/claim/${encodeURIComponent(code)}`, { params: { code }, headers: { 'x-forwarded-for': ip } });
const claim = (code: string, email: unknown, ip = `192.0.2.${Math.floor(Math.random() * 250)}`) =>
  call<Body>(claimPost, `/api/gifts/claim/${encodeURIComponent(code)}`, { params: { code }, body: { email }, headers: { 'x-forwarded-for': ip } });
const countGifts = async (m: TestMerchant) =>
  (await db()<{ n: number }[]>`select count(*)::int as n from public.gifts where user_id = ${m.userId}`)[0]?.n ?? -1;

beforeAll(async () => {
  a = await createMerchant('gift-api-a');
  b = await createMerchant('gift-api-b');
  await call(storeRoute, '/api/settings/store', { method: 'PUT', ...as(a), body: { storeName: 'Haven & Hearth' } });
});

describe('the store\u2019s name, which the claim page shows', () => {
  it('is set and cleared in the store settings, and refused when it is not text, leaving the time zone alone', async () => {
    const m = await createMerchant('gift-api-store');
    const put = (body: unknown) => call<Body>(storeRoute, '/api/settings/store', { method: 'PUT', ...as(m), body });
    expect((await put({ storeName: '  Fern & Fable  ' })).body).toMatchObject({ storeName: 'Fern & Fable', timeZone: 'UTC' });
    for (const bad of [{ storeName: 'x'.repeat(81) }, { storeName: 'a\u0000b' }, { storeName: 7 }, {}]) {
      expect((await put(bad)).status, JSON.stringify(bad)).toBe(400);
    }
    expect((await call<Body>(storeGet, '/api/settings/store', { ...as(m) })).body).toMatchObject({ storeName: 'Fern & Fable' });
    expect((await put({ storeName: '' })).body).toMatchObject({ storeName: null });
  });
});

describe('making gifts', () => {
  it('creates a gift from named fields, and refuses bad input with the field named, changing nothing', async () => {
    const res = await create(a, { recipientEmail: ' Pat@Example.test ', recipientName: 'Pat Doe', senderName: 'Lee Smith', message: 'For you', value: 30 });
    expect(res.status).toBe(201);
    expect(giftWithDeliverySchema.parse(res.body)).toEqual(res.body);
    expect(res.body).toMatchObject({
      origin: 'dashboard', status: 'pending', recipientEmail: 'pat@example.test', senderName: 'Lee Smith', value: 30, currency: 'USD',
      scheduledDeliveryAt: null, announcement: { status: 'pending', attempts: 0 },
    });
    const before = await countGifts(a);
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    const bad: [unknown, string][] = [
      [{ senderName: 'x' }, 'recipientEmail'],
      [{ recipientEmail: 'not-an-email', senderName: 'x' }, 'recipientEmail'],
      [{ recipientEmail: 'p@example.test' }, 'senderName'],
      [{ recipientEmail: 'p@example.test', senderName: 'x', value: -5 }, 'value'],
      [{ recipientEmail: 'p@example.test', senderName: 'x', value: 10.555 }, 'value'],
      [{ recipientEmail: 'p@example.test', senderName: 'x', value: 1e9 }, 'value'],
      [{ recipientEmail: 'p@example.test', senderName: 'x', message: 'x'.repeat(1001) }, 'message'],
      [{ recipientEmail: 'p@example.test', senderName: 'a\u0000b' }, 'senderName'],
      [{ recipientEmail: 'p@example.test', senderName: 'x', scheduledDeliveryAt: '2020-01-01T00:00:00Z' }, 'scheduledDeliveryAt'],
      [{ recipientEmail: 'p@example.test', senderName: 'x', scheduledDeliveryAt: 'tomorrow' }, 'scheduledDeliveryAt'],
      [{ recipientEmail: 'p@example.test', senderName: 'x', expiresInDays: 0 }, 'expiresInDays'],
      // Named fields only (S11): nothing a client sends sets the code, status, tenant or claim.
      [{ recipientEmail: 'p@example.test', senderName: 'x', status: 'claimed' }, ''],
      [{ recipientEmail: 'p@example.test', senderName: 'x', gift_code: 'GIFT-AAAA-BBBB-CCCC-DDDD' }, ''],
      [{ recipientEmail: 'p@example.test', senderName: 'x', user_id: b.userId }, ''],
      [{ recipientEmail: 'p@example.test', senderName: 'x', claimed: true }, ''],
      [{ recipientEmail: 'p@example.test', senderName: 'x', scheduledDeliveryAt: soon, id: '00000000-0000-4000-8000-000000000000' }, ''],
    ];
    for (const [body, field] of bad) {
      const r = await create(a, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      if (field) expect(r.body.field, JSON.stringify(body)).toBe(field);
    }
    expect(await countGifts(a)).toBe(before);
  });

  it('lists newest first by status in keyset pages, with figures that follow the gifts', async () => {
    const m = await createMerchant('gift-api-list');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(String((await create(m, { recipientEmail: `r${i}@example.test`, senderName: 'S', value: 10 })).body.id));
    await action(cancelRoute, m, ids[0] ?? '');
    const linked = await action(linkRoute, m, ids[1] ?? '');
    const code = String(linked.body.code);
    expect((await claim(code, 'r1@example.test')).status).toBe(200);

    const first = await call<Body>(listRoute, '/api/gifts?limit=2', { ...as(m) });
    const page = giftPageSchema.parse(first.body);
    expect(page.gifts.map((g) => g.id)).toEqual([ids[4], ids[3]]);
    const second = giftPageSchema.parse((await call<Body>(listRoute, `/api/gifts?limit=2&after=${page.next}`, { ...as(m) })).body);
    expect(second.gifts.map((g) => g.id)).toEqual([ids[2], ids[1]]);
    const third = giftPageSchema.parse((await call<Body>(listRoute, `/api/gifts?limit=2&after=${second.next}`, { ...as(m) })).body);
    expect(third).toMatchObject({ gifts: [{ id: ids[0], status: 'cancelled' }], next: null });
    const claimed = giftPageSchema.parse((await call<Body>(listRoute, '/api/gifts?status=claimed', { ...as(m) })).body);
    expect(claimed.gifts).toMatchObject([{ id: ids[1], status: 'claimed', deliveredVia: 'link', couponCode: expect.stringMatching(/^GIFTED-/) }]);
    expect((await call<Body>(listRoute, '/api/gifts?status=lost', { ...as(m) })).status).toBe(400);

    const stats = giftStatsSchema.parse((await call<Body>(statsRoute, '/api/gifts/stats', { ...as(m) })).body);
    expect(stats).toMatchObject({
      total: 5, byStatus: { pending: 3, delivered: 0, claimed: 1, expired: 0, cancelled: 1 },
      announced: 1, claimRate: 1, valueClaimed: 10, valueOutstanding: 30,
    });
  });
});

describe('resend, cancel and links', () => {
  it('resends what can go again and refuses what cannot, with words the merchant can act on', async () => {
    const m = await createMerchant('gift-api-resend');
    const later = await create(m, { recipientEmail: 'later@example.test', senderName: 'S', scheduledDeliveryAt: new Date(Date.now() + 86_400_000).toISOString() });
    const forward = await action(resendRoute, m, String(later.body.id));
    expect(forward.status).toBe(200);
    expect(forward.body).toMatchObject({ action: 'brought_forward', gift: { scheduledDeliveryAt: null } });
    // Due now: the announcement is going; a second press does not queue another.
    expect((await action(resendRoute, m, String(later.body.id))).body).toMatchObject({ code: 'conflict', error: 'The announcement is being sent now' });

    const held = await create(m, { recipientEmail: 'held@example.test', senderName: 'S' });
    await db()`update public.klaviyo_messages set status = 'held', hold = 'no_key', reason = 'No Klaviyo API key: add one in Settings, Integrations'
                where user_id = ${m.userId} and source_id = ${String(held.body.id)}`;
    expect((await action(resendRoute, m, String(held.body.id))).body).toMatchObject({
      code: 'conflict', error: 'The announcement is held: No Klaviyo API key: add one in Settings, Integrations',
    });

    const sent = await create(m, { recipientEmail: 'sent@example.test', senderName: 'S' });
    await db()`update public.klaviyo_messages set status = 'sent', sent_at = now() where user_id = ${m.userId} and source_id = ${String(sent.body.id)}`;
    const again = await action(resendRoute, m, String(sent.body.id));
    expect(again.body).toMatchObject({ action: 'sent', gift: { announcement: { status: 'pending' } } });

    const cancelled = await action(cancelRoute, m, String(sent.body.id));
    expect(cancelled.body).toMatchObject({ status: 'cancelled', announcement: { status: 'cancelled' } });
    expect((await action(cancelRoute, m, String(sent.body.id))).status).toBe(409);
    expect((await action(resendRoute, m, String(sent.body.id))).body).toMatchObject({ code: 'conflict', error: 'This gift is cancelled and cannot be sent again' });
    expect((await action(linkRoute, m, String(sent.body.id))).status).toBe(409);
  });

  it('keeps merchant B out of A\u2019s gifts: no read, resend, cancel or link, and none in B\u2019s list', async () => {
    const gift = await create(a, { recipientEmail: 'tenant@example.test', senderName: 'A' });
    const id = String(gift.body.id);
    expect((await call<Body>(giftRoute, `/api/gifts/${id}`, { ...as(b), params: { id } })).status).toBe(404);
    for (const handler of [resendRoute, cancelRoute, linkRoute]) expect((await action(handler, b, id)).status).toBe(404);
    expect(giftPageSchema.parse((await call<Body>(listRoute, '/api/gifts', { ...as(b) })).body).gifts.map((g) => g.id)).not.toContain(id);
    expect((await call<Body>(giftRoute, `/api/gifts/${id}`, { ...as(a), params: { id } })).body).toMatchObject({ id, status: 'pending' });
    // Unchanged by B's attempts; no session at all is 401.
    expect(await gifts(a.userId)).toEqual(expect.arrayContaining([expect.objectContaining({ id, status: 'pending', deliveredAt: null })]));
    expect((await call<Body>(listRoute, '/api/gifts')).status).toBe(401);
    expect((await call<Body>(giftRoute, '/api/gifts/not-a-uuid', { ...as(a), params: { id: 'not-a-uuid' } })).status).toBe(400);
  });

  it('hands out a link once: its code works, the link shown is this app\u2019s claim page, and the gift counts as delivered', async () => {
    const gift = await create(a, { recipientEmail: 'link@example.test', senderName: 'Lee Smith', value: 12 });
    const res = await action(linkRoute, a, String(gift.body.id));
    const link = linkResultSchema.parse(res.body);
    expect(link.url).toBe(`http://localhost:3000/gift/claim/${link.code}`);
    expect(link.gift).toMatchObject({ status: 'delivered', deliveredVia: 'link' });
    const view = publicGiftResponse.parse((await lookup(link.code)).body);
    expect(view.gift).toEqual({
      storeName: 'Haven & Hearth', storeUrl: null, status: 'ready', from: 'Lee Smith', message: null, value: 12, currency: 'USD', expiresAt: expect.any(String),
    });
  });
});

describe('the public claim endpoints', () => {
  it('never answer with an email, and answer an unknown and a malformed code alike', async () => {
    const gift = await create(a, { recipientEmail: 'secret-recipient@example.test', senderName: 'Lee Smith', senderEmail: 'secret-sender@example.test', message: 'Hi' });
    const { body } = await action(linkRoute, a, String(gift.body.id));
    const found = await lookup(String(body.code), '203.0.113.20');
    expect(found.status).toBe(200);
    expect(JSON.stringify(found.body)).not.toContain('@');
    const unknown = await lookup(mintGiftCode(), '203.0.113.21');
    const malformed = await lookup('../../etc/passwd\u0000', '203.0.113.21');
    expect(unknown.status).toBe(404);
    expect(malformed.status).toBe(404);
    expect(malformed.body).toEqual(unknown.body);
    expect(unknown.body).toEqual({ code: 'not_found', error: 'This gift link is not valid. Check that it is the whole link from your email.' });
    const claimed = await claim(String(body.code), 'Secret-Recipient@Example.test');
    expect(claimResultSchema.parse(claimed.body)).toMatchObject({ gift: { status: 'claimed' }, coupon: null, again: false });
    expect(JSON.stringify(claimed.body)).not.toContain('@');
  });

  it('limits guessing: 30 wrong codes from one address get 429 after 10, with Retry-After; a found gift is not counted', async () => {
    const ip = '203.0.113.99';
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 30; i++) {
      const r = await lookup(mintGiftCode(), ip);
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses.slice(0, 10).every((s) => s === 404)).toBe(true);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThan(0);

    // Another address looking up a real gift over and over is never limited.
    const gift = await create(a, { recipientEmail: 'reload@example.test', senderName: 'S' });
    const code = String((await action(linkRoute, a, String(gift.body.id))).body.code);
    for (let i = 0; i < 15; i++) expect((await lookup(code, '203.0.113.98')).status).toBe(200);
  });

  it('limits claims per code across addresses, and refuses a wrong email with a clear 403', async () => {
    const gift = await create(a, { recipientEmail: 'target@example.test', senderName: 'S', value: 5 });
    const code = String((await action(linkRoute, a, String(gift.body.id))).body.code);
    const wrong = await claim(code, 'someone@example.test');
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ code: 'forbidden', field: 'email', error: 'Use the email address this gift was sent to.' });
    for (let i = 0; i < 9; i++) await claim(code.toLowerCase(), `guess${i}@example.test`);
    const limited = await claim(code, 'target@example.test');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await gifts(a.userId)).toEqual(expect.arrayContaining([expect.objectContaining({ id: gift.body.id, status: 'delivered' })]));
    expect((await claim(code, 'not an email')).status).toBe(400);
  });

  it('answers refused claims with what the recipient needs to know', async () => {
    const gift = await create(a, { recipientEmail: 'late@example.test', senderName: 'S' });
    const code = String((await action(linkRoute, a, String(gift.body.id))).body.code);
    await action(cancelRoute, a, String(gift.body.id));
    expect(publicGiftResponse.parse((await lookup(code, '203.0.113.50')).body).gift).toEqual({ storeName: 'Haven & Hearth', storeUrl: null, status: 'cancelled', expiresAt: expect.any(String) });
    expect((await claim(code, 'late@example.test')).body).toMatchObject({ code: 'conflict', error: 'This gift was cancelled by the store.' });
  });
});
