import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteHandler } from '@/lib/api/handler';
import { reloadEnv } from '@/lib/env';
import { db, withSystem } from '@/lib/db';
import { recordDataRequest } from '@/lib/privacy/requests';
import { makeCoupon } from '@/tests/helpers/coupons';
import { call } from '@/tests/helpers/http';
import { applyOrder } from '@/tests/helpers/journey';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { connectShop, shopifyOrder, shopifyWebhook, deliver } from '@/tests/helpers/shopify';
import { clearStandInEnv, installApp, signShopifyQuery, startShopifyStandIn, TEST_APP, useStandInEnv, type ShopifyStandIn } from '@/tests/helpers/shopify-stand-in';

/**
 * Every route, every field: a valid request per route (below), and from it, generated, the same
 * request with each string, number, array and path parameter replaced in turn by what an
 * attacker or a broken client sends (NUL, lone surrogates, control characters, huge text,
 * numbers past any range, Infinity, the wrong type). The answer may be any 2xx, 3xx or 4xx; a
 * 5xx is a bug, since it means bad input reached a place that could not handle it.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const INF = '\u0001__infinity__';
const NEG_INF = '\u0001__-infinity__';

const STRINGS: Json[] = ['\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\u0007\u001b[31m', 'x'.repeat(100_000), '', ' ', 12, null, [], {}];
const NUMBERS: Json[] = [1e308, -1e308, INF, NEG_INF, 2 ** 53 + 1, -1, 0.000001, 1.5, '1', '\u0000', null, [], {}];
const PARAMS = ['\u0000', '%00', '\ud800', 'x'.repeat(5000), '../../etc/passwd', '00000000-0000-0000-0000-000000000000'];
const QUERY = ['\u0000', '\ud800', 'x'.repeat(5000), '-1', '1e309', 'NaN'];

/** JSON text in which the INF markers become numbers JSON.parse reads as ±Infinity. */
function encode(body: Json): string {
  return JSON.stringify(body).replaceAll(`"${INF.replace('\u0001', '\\u0001')}"`, '1e999').replaceAll(`"${NEG_INF.replace('\u0001', '\\u0001')}"`, '-1e999');
}

/** Every leaf of a JSON value with its path, and every array (to be replaced whole). */
function* paths(value: Json, at: (string | number)[] = []): Generator<{ at: (string | number)[]; value: Json }> {
  if (Array.isArray(value)) {
    yield { at, value };
    for (const [i, v] of value.entries()) yield* paths(v, [...at, i]);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) yield* paths(v, [...at, k]);
  } else if (at.length > 0) yield { at, value };
}

function replaced(value: Json, at: (string | number)[], next: Json): Json {
  if (at.length === 0) return next;
  const [head, ...rest] = at;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? replaced(v, rest, next) : v));
  if (value && typeof value === 'object' && typeof head === 'string') return { ...value, [head]: replaced(value[head] ?? null, rest, next) };
  return value;
}

function variants(body: Json): { label: string; body: Json }[] {
  const out: { label: string; body: Json }[] = [];
  for (const leaf of paths(body)) {
    const pool = Array.isArray(leaf.value) ? [...STRINGS.slice(0, 3), null, {}, Array(2000).fill('\u0000')]
      : typeof leaf.value === 'number' ? NUMBERS : STRINGS;
    for (const bad of pool) out.push({ label: `${leaf.at.join('.')} = ${JSON.stringify(bad)?.slice(0, 30)}`, body: replaced(body, leaf.at, bad) });
  }
  return out;
}

interface RouteCase {
  file: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: Json;
  as?: 'merchant' | 'anyone' | 'cron' | 'key';
}

let m: TestMerchant;
let cases: RouteCase[];
let serverKey = '';
let shop: { address: { path: string; key: string }; secret: string; domain: string };

let standIn: ShopifyStandIn;
afterAll(async () => {
  await standIn.close();
  clearStandInEnv();
  reloadEnv();
});

beforeAll(async () => {
  process.env.KLAVIYO_API_URL = 'http://127.0.0.1:9';
  standIn = await startShopifyStandIn(TEST_APP);
  useStandInEnv(standIn);
  reloadEnv();
  m = await createMerchant('fuzz');
  const now = new Date();
  await applyOrder(m.userId, { shopOrderId: 'fz-1', email: 'fz@example.test', total: 40, orderedAt: now }, now);
  const coupon = await makeCoupon(m.userId, { code: 'FUZZ10' });
  const customers = await call<{ customers: { id: string }[] }>((await import('@/app/api/customers/route')).GET, '/api/customers', { cookie: m.cookie });
  const customerId = customers.body.customers[0]?.id ?? '';
  // A customer of their own for the erasure, which leaves the record erased for every later case.
  await applyOrder(m.userId, { shopOrderId: 'fz-erase', email: 'fz-erase@example.test', total: 10, orderedAt: now }, now);
  const [toErase] = await db()<{ id: string }[]>`select id from public.customers where user_id = ${m.userId} and email = 'fz-erase@example.test'`;
  const eraseId = toErase?.id ?? '';
  const { requestId } = await withSystem((tx) => recordDataRequest(tx, m.userId, 'fuzz-data-request',
    { email: 'fz@example.test', shopCustomerId: null, shopOrderIds: [] }));
  const segment = await call<{ id: string }>((await import('@/app/api/segments/route')).POST, '/api/segments', {
    cookie: m.cookie, body: { name: 'Fuzz', criteria: { min_orders: 1 } },
  });
  const batch = await call<{ batchId: string }>((await import('@/app/api/coupons/bulk/route')).POST, '/api/coupons/bulk', {
    cookie: m.cookie, body: { prefix: 'FZ', count: 2, discountType: 'percentage', discountValue: 5 },
  });
  const settings = await call<{ tracking: { publishableKey: string } }>((await import('@/app/api/settings/integrations/route')).GET,
    '/api/settings/integrations', { cookie: m.cookie });
  const secret = 'fuzz-webhook-secret-0123456789';
  shop = { address: await connectShop(m, 'fuzz.myshopify.com', secret), secret, domain: 'fuzz.myshopify.com' };
  // The same store installed through the app (the stand-in), for the app's routes.
  if ((await installApp(standIn, m, shop.domain)).outcome !== 'connected') throw new Error('fuzz install failed');
  const launch = { shop: shop.domain, timestamp: String(Math.floor(Date.now() / 1000)) };
  const callbackQuery = { shop: shop.domain, state: 'fuzz-state', code: 'fuzz-code', timestamp: launch.timestamp };

  // Loyalty: the program, a member with points, a tier and a reward to address.
  await withSystem((tx) => tx`select private.loyalty_setup(${m.userId})`);
  await withSystem((tx) => tx`select private.loyalty_bonus(${m.userId}, ${customerId}, 100000, 'fuzz', ${m.userId})`);
  const [tier] = await withSystem((tx) => tx<{ id: string }[]>`select id from public.loyalty_tiers where user_id = ${m.userId} and name = 'Gold'`);
  const [reward] = await withSystem((tx) => tx<{ id: string }[]>`
    insert into public.loyalty_rewards (user_id, name, points_cost, reward_type, reward_value) values (${m.userId}, 'Fuzz', 10, 'fixed_discount', 5) returning id`);
  const tierId = tier?.id ?? '';
  const rewardId = reward?.id ?? '';
  const [member] = await withSystem((tx) => tx<{ referralCode: string }[]>`
    select referral_code from public.loyalty_members where user_id = ${m.userId} and customer_id = ${customerId}`);
  await rotateKey();

  // Win-back: a draft to edit, and an active campaign (the fuzz customer made at risk) to step through.
  const campaign = await call<{ id: string }>((await import('@/app/api/winback/campaigns/route')).POST, '/api/winback/campaigns', {
    cookie: m.cookie, body: { name: 'Fuzz draft' },
  });
  const running = await call<{ id: string }>((await import('@/app/api/winback/campaigns/route')).POST, '/api/winback/campaigns', {
    cookie: m.cookie, body: { name: 'Fuzz running', holdoutPercent: 0 },
  });
  await withSystem((tx) => tx`select private.winback_activate(${m.userId}, ${running.body.id})`);
  const draftId = campaign.body.id;
  const runningId = running.body.id;
  // A held-back recipient of it, whose tracking token the email links carry.
  const [tracked] = await withSystem((tx) => tx<{ token: string }[]>`
    insert into public.winback_recipients (user_id, campaign_id, customer_id, arm, status, eligible_at, send_at, enrolled_at)
    values (${m.userId}, ${runningId}, ${customerId}, 'control', 'control', now(), now(), now()) returning tracking_token as token`);
  const trackingToken = tracked?.token ?? '';

  // Gifts: one to act on, and a link to its claim page.
  const gift = await call<{ id: string }>((await import('@/app/api/gifts/route')).POST, '/api/gifts', {
    cookie: m.cookie, body: { recipientEmail: 'fz-gift@example.test', senderName: 'Fuzz Sender', value: 10 },
  });
  const giftId = gift.body.id;
  const linked = await call<{ code: string }>((await import('@/app/api/gifts/[id]/link/route')).POST, `/api/gifts/${giftId}/link`, {
    cookie: m.cookie, method: 'POST', params: { id: giftId },
  });
  const giftCode = linked.body.code;
  // Its announcement has gone, so a resend makes another; a second gift to cancel.
  await withSystem((tx) => tx`update public.klaviyo_messages set status = 'sent', sent_at = now() where user_id = ${m.userId} and source_id = ${giftId}`);
  const other = await call<{ id: string }>((await import('@/app/api/gifts/route')).POST, '/api/gifts', {
    cookie: m.cookie, body: { recipientEmail: 'fz-gift2@example.test', senderName: 'Fuzz Sender' },
  });

  const criteria = { stages: ['customer'], collections: ['growth'], min_ltv: 1, max_ltv: 500, min_orders: 1, max_days_since_purchase: 90 };
  const terms = { discountType: 'percentage', discountValue: 10, usageLimit: 5, minimumPurchase: 20, productIds: ['p-1'], description: 'Fuzz', expiresAt: '2099-01-01T00:00:00Z' };
  cases = [
    { file: 'analytics/cohorts', method: 'GET', query: { months: '12' } },
    { file: 'analytics/trends', method: 'GET', query: { from: '2026-03-01', to: '2026-03-07', interval: 'day' } },
    { file: 'analytics/trends', method: 'GET', query: { days: '30', interval: 'week' } },
    { file: 'loyalty/setup', method: 'POST' },
    { file: 'loyalty/storefront/member', method: 'GET', as: 'key', query: { email: 'fz@example.test' } },
    { file: 'loyalty/storefront/redeem', method: 'POST', as: 'key', body: { email: 'fz@example.test', rewardId } },
    { file: 'loyalty/storefront/signups', method: 'POST', as: 'key', body: { email: 'fz-signup@example.test' } },
    { file: 'loyalty/storefront/reviews', method: 'POST', as: 'key', body: { email: 'fz@example.test', reviewId: 'review-1' } },
    { file: 'loyalty/storefront/referrals', method: 'POST', as: 'key', body: { code: member?.referralCode ?? '', email: 'fz-friend@example.test' } },
    { file: 'loyalty/dashboard', method: 'GET' },
    { file: 'loyalty/referrals', method: 'GET', query: { status: 'pending', referrerId: customerId, limit: '10', offset: '0' } },
    { file: 'loyalty/referrals/stats', method: 'GET' },
    { file: 'loyalty/program', method: 'GET' },
    { file: 'loyalty/program', method: 'PATCH', body: { pointsPerUnit: 1, pointValue: 0.01, expiryMonths: 12, signupPoints: 10, tierBasis: 'points', friendRewardType: 'percentage', friendRewardValue: 10 } },
    { file: 'loyalty/tiers', method: 'GET' },
    { file: 'loyalty/tiers', method: 'POST', body: { name: 'Fuzz tier', tierOrder: 9, threshold: 100000, pointsMultiplier: 2, perks: ['p'], badgeColor: '#112233', description: 'd' } },
    { file: 'loyalty/tiers/[id]', method: 'PATCH', params: { id: tierId }, body: { name: 'Gold', threshold: 1500, perks: ['Free shipping'] } },
    { file: 'loyalty/tiers/[id]', method: 'DELETE', params: { id: '00000000-0000-4000-8000-000000000000' } },
    { file: 'loyalty/rewards', method: 'GET' },
    { file: 'loyalty/rewards', method: 'POST', body: { name: 'Fuzz new', pointsCost: 10, rewardType: 'percentage_discount', rewardValue: 5, minOrders: 1, codeValidDays: 30, description: 'd', startsAt: '2026-01-01T00:00:00Z' } },
    { file: 'loyalty/rewards/[id]', method: 'PATCH', params: { id: rewardId }, body: { name: 'Fuzz', pointsCost: 10, description: 'x' } },
    { file: 'loyalty/rewards/[id]', method: 'DELETE', params: { id: '00000000-0000-4000-8000-000000000000' } },
    { file: 'loyalty/members', method: 'GET', query: { sort: 'balance', order: 'desc', search: 'fz', limit: '10', before: Buffer.from(JSON.stringify(['balance-desc', '10', customerId])).toString('base64url'), tierId: tierId } },
    { file: 'loyalty/members/[customerId]', method: 'GET', params: { customerId }, query: { limit: '10', offset: '0' } },
    { file: 'loyalty/members/[customerId]/redeem', method: 'POST', params: { customerId }, body: { rewardId } },
    { file: 'loyalty/members/[customerId]/adjust', method: 'POST', params: { customerId }, body: { kind: 'adjustment', points: 5, reason: 'Fuzz' } },
    { file: 'track/winback/[token]', method: 'GET', as: 'anyone', params: { token: trackingToken }, query: { to: '/collections/new' } },
    { file: 'track/winback/[token]/open', method: 'GET', as: 'anyone', params: { token: trackingToken } },
    { file: 'gifts', method: 'GET', query: { status: 'pending', limit: '10' } },
    {
      file: 'gifts', method: 'POST',
      body: { recipientEmail: 'fz-r@example.test', recipientName: 'R', senderName: 'S', senderEmail: 'fz-s@example.test', message: 'M', value: 5, scheduledDeliveryAt: new Date(Date.now() + 30 * 86_400_000).toISOString(), expiresInDays: 30 },
    },
    { file: 'gifts/stats', method: 'GET' },
    { file: 'gifts/[id]', method: 'GET', params: { id: giftId } },
    { file: 'gifts/[id]/resend', method: 'POST', params: { id: giftId } },
    { file: 'gifts/[id]/link', method: 'POST', params: { id: giftId } },
    { file: 'gifts/[id]/cancel', method: 'POST', params: { id: other.body.id } },
    { file: 'gifts/claim/[code]', method: 'GET', as: 'anyone', params: { code: giftCode } },
    { file: 'gifts/claim/[code]', method: 'POST', as: 'anyone', params: { code: giftCode }, body: { email: 'fz-gift@example.test' } },
    { file: 'winback/campaigns', method: 'GET' },
    {
      file: 'winback/campaigns', method: 'POST',
      body: { name: 'Fuzz new', description: 'd', targetStages: ['at_risk'], minDaysInactive: 30, maxDaysInactive: 400, minLifetimeValue: 10,
        targetCollections: ['growth'], incentiveType: 'percentage_discount', incentiveValue: 15, couponDays: 14, sendDelayDays: 2,
        holdoutPercent: 20, attributionDays: 30, startsAt: '2026-01-01T00:00:00Z', endsAt: '2099-01-01T00:00:00Z' },
    },
    { file: 'winback/preview', method: 'POST', body: { fields: { targetStages: ['churned'], minLifetimeValue: 5, holdoutPercent: 10 } } },
    { file: 'winback/campaigns/[id]', method: 'GET', params: { id: draftId } },
    { file: 'winback/campaigns/[id]', method: 'PATCH', params: { id: draftId }, body: { name: 'Fuzz draft 2', incentiveType: 'points', incentiveValue: 100 } },
    { file: 'winback/campaigns/[id]', method: 'DELETE', params: { id: '00000000-0000-4000-8000-000000000000' } },
    { file: 'winback/campaigns/[id]/preview', method: 'GET', params: { id: draftId } },
    { file: 'winback/campaigns/[id]/recipients', method: 'GET', params: { id: runningId }, query: { status: 'pending', limit: '10' } },
    { file: 'winback/campaigns/[id]/results', method: 'GET', params: { id: runningId } },
    { file: 'winback/campaigns/[id]/messages', method: 'GET', params: { id: runningId } },
    { file: 'winback/campaigns/[id]/messages/retry', method: 'POST', params: { id: runningId }, body: { ids: ['00000000-0000-4000-8000-000000000000'] } },
    { file: 'winback/campaigns/[id]/pause', method: 'POST', params: { id: runningId } },
    { file: 'winback/campaigns/[id]/resume', method: 'POST', params: { id: runningId } },
    { file: 'winback/campaigns/[id]/activate', method: 'POST', params: { id: draftId } },
    { file: 'winback/campaigns/[id]/complete', method: 'POST', params: { id: runningId } },
    { file: 'auth/login', method: 'POST', as: 'anyone', body: { email: m.email, password: 'wrong password' } },
    { file: 'auth/signup', method: 'POST', as: 'anyone', body: { email: 'fuzz-new@example.test', password: 'long enough password' } },
    { file: 'auth/logout', method: 'POST', as: 'merchant' },
    { file: 'auth/session', method: 'GET', as: 'merchant' },
    { file: 'collections', method: 'GET' },
    { file: 'collections', method: 'POST', body: { name: 'Fuzz set', slug: 'fuzz-set' } },
    { file: 'collections/[slug]', method: 'PATCH', params: { slug: 'growth' }, body: { name: 'Growth', position: 2 } },
    { file: 'collections/[slug]', method: 'DELETE', params: { slug: 'no-such-collection' } },
    { file: 'collections/products', method: 'GET' },
    { file: 'collections/products', method: 'PUT', body: { mappings: [{ productId: 'p-1', collection: 'growth' }] } },
    { file: 'coupons', method: 'GET', query: { status: 'active', source: 'manual', search: 'FU', stats: 'true', limit: '10', offset: '0' } },
    { file: 'coupons', method: 'GET', query: { batchId: batch.body.batchId, limit: '10' } },
    { file: 'coupons', method: 'POST', body: { code: 'FUZZNEW', ...terms } },
    { file: 'coupons/bulk', method: 'POST', body: { prefix: 'FY', count: 1, ...terms, usageLimit: undefined } as unknown as Json },
    { file: 'coupons/validate', method: 'POST', body: { code: 'FUZZ10', email: 'fz@example.test', cartTotal: 50, quantity: 1, productIds: ['p-1'] } },
    { file: 'coupons/[id]', method: 'GET', params: { id: coupon.id } },
    { file: 'coupons/[id]', method: 'PATCH', params: { id: coupon.id }, body: { discountValue: 15, description: 'Edited', internalNotes: 'n' } },
    { file: 'coupons/[id]', method: 'DELETE', params: { id: '00000000-0000-4000-8000-000000000000' } },
    { file: 'coupons/[id]/pause', method: 'POST', params: { id: coupon.id } },
    { file: 'coupons/[id]/resume', method: 'POST', params: { id: coupon.id } },
    { file: 'coupons/[id]/uses', method: 'GET', params: { id: coupon.id }, query: { limit: '10', offset: '0', format: 'json' } },
    { file: 'coupons/batches', method: 'GET', query: { limit: '10', offset: '0' } },
    { file: 'coupons/batches/[id]/codes', method: 'GET', params: { id: batch.body.batchId } },
    { file: 'cron/[job]', method: 'POST', as: 'cron', params: { job: 'coupons' } },
    { file: 'customers', method: 'GET', query: { stage: 'customer', collection: 'growth', search: 'fz', sort: 'ltv', order: 'desc', limit: '10', after: Buffer.from(JSON.stringify(['ltv-desc', '1050', customerId])).toString('base64url') } },
    { file: 'customers/analytics', method: 'GET' },
    { file: 'customers/[id]', method: 'PATCH', params: { id: customerId }, body: { firstName: 'Fu', lastName: 'Zz', phone: '+1 555', emailSubscribed: true } },
    { file: 'customers/[id]/journey', method: 'GET', params: { id: customerId }, query: { limit: '10' } },
    { file: 'customers/[id]/export', method: 'GET', params: { id: customerId } },
    { file: 'customers/[id]/erase', method: 'POST', params: { id: eraseId }, body: { confirm: true } },
    { file: 'privacy/requests', method: 'GET' },
    { file: 'privacy/requests/[id]/export', method: 'GET', params: { id: requestId }, query: { format: 'csv', table: 'orders' } },
    { file: 'privacy/requests/[id]/handled', method: 'POST', params: { id: requestId } },
    { file: 'segments', method: 'GET' },
    { file: 'segments', method: 'POST', body: { name: 'Fuzzed', description: 'd', criteria, isDynamic: true } },
    { file: 'segments/preview', method: 'POST', body: { criteria } },
    { file: 'segments/[id]', method: 'GET', params: { id: segment.body.id } },
    { file: 'segments/[id]', method: 'PATCH', params: { id: segment.body.id }, body: { name: 'Fuzz 2', description: 'x', criteria, isActive: true } },
    { file: 'segments/[id]', method: 'DELETE', params: { id: '00000000-0000-4000-8000-000000000000' } },
    { file: 'segments/[id]/evaluate', method: 'POST', params: { id: segment.body.id } },
    { file: 'segments/[id]/members', method: 'GET', params: { id: segment.body.id }, query: { limit: '10', after: Buffer.from(JSON.stringify(['added-desc', '2026-12-01 10:00:00.123456+00', customerId])).toString('base64url'), format: 'json' } },
    { file: 'settings/integrations', method: 'GET' },
    { file: 'settings/shopify/webhooks', method: 'POST' },
    { file: 'settings/shopify', method: 'DELETE' },
    { file: 'shopify/install', method: 'POST', body: { shop: shop.domain } },
    { file: 'shopify/install', method: 'GET', as: 'merchant', query: { ...launch, hmac: signShopifyQuery(launch, TEST_APP.apiSecret) } },
    { file: 'shopify/callback', method: 'GET', as: 'merchant', query: { ...callbackQuery, hmac: signShopifyQuery(callbackQuery, TEST_APP.apiSecret) } },
    { file: 'settings/store', method: 'GET' },
    { file: 'settings/jobs', method: 'GET' },
    { file: 'settings/store', method: 'PUT', body: { timeZone: 'Europe/Paris' } },
    {
      file: 'settings/integrations', method: 'PUT',
      body: { shopifyShopDomain: 'fuzz.myshopify.com', klaviyoApiKey: 'pk_fuzz_0123456789', shopifyWebhookSecret: secret },
    },
    {
      file: 'track', method: 'POST', as: 'anyone',
      body: {
        key: settings.body.tracking.publishableKey,
        events: [{ type: 'page_view', channel: 'direct', email: 'fz@example.test', collection: 'growth', value: 3, referenceId: 'r', referenceType: 'page', utm: { source: 's' }, metadata: { a: 'b' } }],
      },
    },
    // After the key is saved: asks Klaviyo (here a closed local port, so it answers "unavailable").
    { file: 'settings/integrations/klaviyo/check', method: 'POST' },
    // Last: rotating the tracking key ends the track case's key.
    { file: 'settings/server-key/rotate', method: 'POST' },
    { file: 'settings/tracking-key/rotate', method: 'POST' },
  ];
});

/** A fresh server key for the storefront cases (the rotate case, run last, replaces it too). */
async function rotateKey(): Promise<void> {
  const { POST } = await import('@/app/api/settings/server-key/rotate/route');
  serverKey = (await call<{ serverKey: string }>(POST, '/api/settings/server-key/rotate', { method: 'POST', cookie: m.cookie })).body.serverKey;
}

/** The track case carries the current tracking key (the rotate case, run last, replaces it). */
async function refreshTrackingKey(): Promise<void> {
  await rotateKey();
  const { GET } = await import('@/app/api/settings/integrations/route');
  const res = await call<{ tracking: { publishableKey: string } }>(GET, '/api/settings/integrations', { cookie: m.cookie });
  const track = cases.find((c) => c.file === 'track');
  if (track?.body && typeof track.body === 'object' && !Array.isArray(track.body)) track.body = { ...track.body, key: res.body.tracking.publishableKey };
}

/** Route files under app/api, as `coupons/[id]`. */
function routeFiles(dir = 'app/api', prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return routeFiles(full, prefix ? `${prefix}/${name}` : name);
    return name === 'route.ts' ? [prefix] : [];
  });
}

async function handlerOf(file: string, method: string): Promise<RouteHandler> {
  const mod = (await import(`@/app/api/${file}/route`)) as Record<string, RouteHandler>;
  const handler = mod[method];
  if (!handler) throw new Error(`${file} has no ${method}`);
  return handler;
}

async function send(c: RouteCase, body: Json | undefined, params = c.params, query = c.query): Promise<number> {
  const handler = await handlerOf(c.file, c.method);
  const url = `/api/${c.file}${query ? `?${new URLSearchParams(query)}` : ''}`;
  const res = await call(handler, url, {
    method: c.method,
    params,
    cookie: c.as === 'anyone' || c.as === 'cron' || c.as === 'key' ? undefined : m.cookie,
    headers: {
      'content-type': 'application/json',
      ...(c.as === 'cron' ? { authorization: `Bearer ${process.env.CRON_SECRET}` } : {}),
      ...(c.as === 'key' ? { authorization: `Bearer ${serverKey}` } : {}),
    },
    ...(body !== undefined ? { rawBody: encode(body) } : {}),
  });
  return res.status;
}

describe('no input gives a 5xx, on any route', () => {
  it('has a valid request for every route and method, and answers it without error', async () => {
    const covered = new Set(cases.map((c) => c.file));
    // The webhook has its own case below; every other route file must be listed above.
    expect(routeFiles().filter((f) => !covered.has(f) && f !== 'webhooks/shopify/[key]' && f !== 'webhooks/shopify')).toEqual([]);
    const failures: string[] = [];
    for (const c of cases) {
      const status = await send(c, c.body);
      if (status >= 400 && !(c.method === 'DELETE' || c.file === 'auth/login')) failures.push(`${c.method} ${c.file}: ${status}`);
    }
    expect(failures).toEqual([]);
  });

  it('answers every generated bad body, query and path value with less than 500', async () => {
    await refreshTrackingKey();
    const failures: string[] = [];
    const seen = new Map<number, number>();
    for (const c of cases) {
      const tries: { label: string; run: () => Promise<number> }[] = [];
      if (c.body !== undefined) for (const v of variants(c.body)) tries.push({ label: `body ${v.label}`, run: () => send(c, v.body) });
      for (const key of Object.keys(c.params ?? {})) {
        for (const bad of PARAMS) tries.push({ label: `param ${key} = ${JSON.stringify(bad).slice(0, 30)}`, run: () => send(c, c.body, { ...c.params, [key]: bad }) });
      }
      for (const key of Object.keys(c.query ?? {})) {
        for (const bad of QUERY) tries.push({ label: `query ${key} = ${JSON.stringify(bad).slice(0, 30)}`, run: () => send(c, c.body, c.params, { ...c.query, [key]: bad }) });
      }
      for (const t of tries) {
        const status = await t.run();
        seen.set(status, (seen.get(status) ?? 0) + 1);
        if (status >= 500) failures.push(`${c.method} ${c.file} ${t.label}: ${status}`);
      }
    }
    expect(failures).toEqual([]);
    // Both paths were exercised: refused as bad input, and accepted (text that is odd but allowed).
    expect(seen.get(400) ?? 0).toBeGreaterThan(500);
    expect([...seen].filter(([s]) => s < 300).reduce((n, [, k]) => n + k, 0)).toBeGreaterThan(50);
  }, 300_000);

  it('refuses JSON nested 100,000 levels deep with a 400, not a stack overflow', async () => {
    await refreshTrackingKey();
    const track = cases.find((c) => c.file === 'track');
    const key = track?.body && typeof track.body === 'object' && !Array.isArray(track.body) ? String(track.body.key) : '';
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const rawBody = `{"key":${JSON.stringify(key)},"events":[{"type":"page_view","channel":"direct","email":"deep@example.test","metadata":${deep}}]}`;
    const { POST } = await import('@/app/api/track/route');
    const res = await call<{ field?: string }>(POST, '/api/track', { rawBody, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('events.0.metadata');
  });

  it('applies or refuses a signed Shopify order whatever its fields hold, never a 5xx', async () => {
    // The settings cases above may have cleared the secret (null is allowed): connect again.
    shop.address = await connectShop(m, shop.domain, shop.secret);
    // And the cases above disconnected the app: install it again, for the app's own address.
    expect((await installApp(standIn, m, shop.domain)).outcome).toBe('connected');
    const { POST: appAddress } = await import('@/app/api/webhooks/shopify/route');
    const failures: string[] = [];
    const base = shopifyOrder(9000, 'fuzz-buyer@example.test', '25.00', {
      customer: { id: 9001, email: 'fuzz-buyer@example.test', first_name: 'Fu', last_name: 'Zz' },
      note_attributes: [{ name: 'utm_source', value: 'x' }],
      discount_codes: [{ code: 'FUZZ10', amount: '2.50', type: 'percentage' }],
    }) as unknown as Json;
    let n = 0;
    let applied = 0;
    for (const v of variants(base)) {
      n += 1;
      // Each delivery a new order (unless the id itself is what is being fuzzed).
      const body = v.label.startsWith('id ') ? v.body : replaced(v.body, ['id'], 9000 + n);
      const res = await deliver(shop.address, shopifyWebhook(encode(body), { secret: shop.secret, shop: shop.domain, deliveryId: `fuzz-${n}` }));
      if (res.status >= 500) failures.push(`${v.label}: ${res.status}`);
      if (res.status === 200 && (res.body as { status?: string }).status === 'processed') applied += 1;
      // The same delivery, signed with the app's secret, to the app's address (a replay there: same order id, new delivery).
      const w = shopifyWebhook(encode(body), { secret: TEST_APP.apiSecret, shop: shop.domain, deliveryId: `fuzz-app-${n}` });
      const viaApp = await call(appAddress, '/api/webhooks/shopify', { rawBody: w.rawBody, headers: w.headers, noOrigin: true });
      if (viaApp.status >= 500) failures.push(`app address, ${v.label}: ${viaApp.status}`);
    }
    expect(n).toBeGreaterThan(50);
    // Text a shopper typed, whatever it holds, is cleaned and the order applied.
    expect(applied).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  }, 300_000);
});
