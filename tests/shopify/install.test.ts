import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as callbackRoute } from '@/app/api/shopify/callback/route';
import { GET as launchRoute, POST as installRoute } from '@/app/api/shopify/install/route';
import { DELETE as disconnectRoute } from '@/app/api/settings/shopify/route';
import { POST as repairRoute } from '@/app/api/settings/shopify/webhooks/route';
import { GET as integrationsRoute, PUT as putIntegrations } from '@/app/api/settings/integrations/route';
import { POST as appWebhookRoute } from '@/app/api/webhooks/shopify/route';
import { db } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { decryptCredential } from '@/lib/settings/integrations';
import type { IntegrationsView } from '@/lib/settings/schemas';
import { call, cookieHeader, ORIGIN } from '@/tests/helpers/http';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { closeRacePools, openRacePools, raceOn } from '@/tests/helpers/race';
import { applyOrder } from '@/tests/helpers/journey';
import { connectShop, deliver, shopifyOrder, shopifyWebhook } from '@/tests/helpers/shopify';
import { clearStandInEnv, installApp, signShopifyQuery, startShopifyStandIn, TEST_APP, useStandInEnv, type ShopifyStandIn } from '@/tests/helpers/shopify-stand-in';

const APP = TEST_APP;
const ADDRESS = `${ORIGIN}/api/webhooks/shopify`;
const TOPICS = ['ORDERS_CREATE', 'ORDERS_PAID', 'ORDERS_CANCELLED', 'REFUNDS_CREATE', 'APP_UNINSTALLED'];
let shopify: ShopifyStandIn;

beforeAll(async () => {
  shopify = await startShopifyStandIn(APP);
  useStandInEnv(shopify);
  reloadEnv();
});
afterAll(async () => {
  await shopify.close();
  clearStandInEnv();
  reloadEnv();
});

const uniqueShop = (label: string) => `${label}-${randomUUID().slice(0, 8)}.myshopify.com`;
const pathOf = (url: string) => { const u = new URL(url); return `${u.pathname}${u.search}`; };
const outcomeOf = (location: string | null) => new URL(location ?? '', ORIGIN).searchParams.get('shopify');

/** Settings' "Connect Shopify": the authorize URL and the browser's cookies (session and state). */
async function start(m: TestMerchant, shop: string) {
  const res = await call<{ authorizeUrl: string }>(installRoute, '/api/shopify/install', { cookie: m.cookie, body: { shop } });
  expect(res.status).toBe(200);
  return { authorizeUrl: res.body.authorizeUrl, cookie: `${m.cookie}; ${cookieHeader(res.setCookies)}` };
}

/** Shopify's redirect back, as the browser follows it. */
async function callback(url: string, cookie: string) {
  const res = await call(callbackRoute, pathOf(url), { cookie });
  expect(res.status).toBe(303);
  return { outcome: outcomeOf(res.headers.get('location')), setCookies: res.setCookies };
}

/** A callback URL with some parameters changed, signed again with the app's secret (only what we change is wrong). */
function resigned(url: string, change: Record<string, string>): string {
  const u = new URL(url);
  const params = Object.fromEntries(u.searchParams);
  delete params.hmac;
  Object.assign(params, change);
  const out = new URL(u.pathname, u.origin);
  for (const [k, v] of Object.entries(params)) out.searchParams.set(k, v);
  out.searchParams.set('hmac', signShopifyQuery(params, APP.apiSecret));
  return out.toString();
}

async function install(m: TestMerchant, shop: string): Promise<string> {
  const r = await installApp(shopify, m, shop);
  expect(r.outcome).toBe('connected');
  return r.callbackUrl;
}

async function bound(userId: string) {
  const [i] = await db()<{ shop: string; scopes: string; uninstalledAt: string | null }[]>`
    select shop, scopes, uninstalled_at from public.shopify_installs where user_id = ${userId}`;
  const [t] = await db()<{ ciphertext: string }[]>`
    select ciphertext from public.merchant_credentials where user_id = ${userId} and provider = 'shopify_admin'`;
  return { install: i ?? null, token: t ? decryptCredential(userId, 'shopify_admin', t.ciphertext) : null, ciphertext: t?.ciphertext ?? null };
}

/** A delivery to the app's address, signed as Shopify signs it (with the app's secret unless told). */
function appDelivery(body: unknown, opts: { shop: string; topic?: string; secret?: string; deliveryId?: string }) {
  const w = shopifyWebhook(body, { secret: opts.secret ?? APP.apiSecret, shop: opts.shop, topic: opts.topic, deliveryId: opts.deliveryId });
  return call<Record<string, unknown>>(appWebhookRoute, '/api/webhooks/shopify', { rawBody: w.rawBody, headers: w.headers, noOrigin: true });
}

const integrations = async (m: TestMerchant) => (await call<IntegrationsView>(integrationsRoute, '/api/settings/integrations', { cookie: m.cookie })).body;

describe('installing the app from Settings', () => {
  it('binds the shop to the merchant, stores the token encrypted, registers every topic at the app address, and Settings says so', async () => {
    const m = await createMerchant('install');
    const shop = uniqueShop('ada');
    const s = await start(m, shop);
    // The authorize page of that shop (through the stand-in), asking for the scopes and coming back to our callback.
    const authorize = new URL(s.authorizeUrl);
    expect(authorize.pathname).toBe(`/shops/${shop}/admin/oauth/authorize`);
    expect(authorize.searchParams.get('client_id')).toBe(APP.apiKey);
    expect(authorize.searchParams.get('scope')).toBe('read_orders,read_customers');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${ORIGIN}/api/shopify/callback`);
    expect(s.cookie).toContain('shopify_app_state=');

    const back = await shopify.approve(s.authorizeUrl);
    const done = await callback(back, s.cookie);
    expect(done.outcome).toBe('connected');
    // The library's state cookie is spent.
    expect(done.setCookies.some((c) => c.startsWith('shopify_app_state=;') && c.includes('Expires=Thu, 01 Jan 1970'))).toBe(true);

    const b = await bound(m.userId);
    expect(b.install).toMatchObject({ shop, uninstalledAt: null });
    expect(b.token).toMatch(/^shpat_/);
    expect(b.ciphertext).not.toContain(b.token ?? '-');
    expect(shopify.subscriptions(shop).map((x) => [x.topic, x.uri]).sort()).toEqual(TOPICS.map((t) => [t, ADDRESS]).sort());

    const view = await integrations(m);
    expect(view.shopify.shopDomain).toBe(shop);
    expect(view.shopify.app.available).toBe(true);
    expect(view.shopify.app.install?.shop).toBe(shop);
    expect(view.shopify.app.install?.webhooks.map((w) => [w.topic, w.registeredAt !== null])).toEqual(TOPICS.map((t) => [t, true]));
    // The token never reaches the browser.
    expect(JSON.stringify(view)).not.toContain(b.token ?? '-');
    const [log] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.activity_log where user_id = ${m.userId} and action = 'shopify.installed'`;
    expect(log?.n).toBe(1);
  });

  it('refuses a bad HMAC, a wrong state, a reused state, a foreign host and a reused code, and binds nothing', async () => {
    const m = await createMerchant('refused');
    const shop = uniqueShop('refused');

    const s1 = await start(m, shop);
    const back1 = await shopify.approve(s1.authorizeUrl);
    const tampered = new URL(back1);
    tampered.searchParams.set('hmac', '0'.repeat(64));
    expect((await callback(tampered.toString(), s1.cookie)).outcome).toBe('invalid');
    // The state was spent by that attempt: the genuine redirect is refused too.
    expect((await callback(back1, s1.cookie)).outcome).toBe('invalid');

    const s2 = await start(m, shop);
    const back2 = await shopify.approve(s2.authorizeUrl);
    expect((await callback(resigned(back2, { state: 'a-state-nobody-started' }), s2.cookie)).outcome).toBe('invalid');

    const s3 = await start(m, shop);
    const back3 = await shopify.approve(s3.authorizeUrl);
    expect((await callback(resigned(back3, { shop: 'evil.example.com' }), s3.cookie)).outcome).toBe('invalid');
    expect((await callback(resigned(back3, { shop: 'ada.shop.dev' }), s3.cookie)).outcome).toBe('invalid');

    // A name given twice (the library would exchange the first code, check the HMAC of the last).
    const s5 = await start(m, shop);
    const back5 = await shopify.approve(s5.authorizeUrl);
    expect((await callback(`${back5.replace('?', '?code=deadbeef&')}`, s5.cookie)).outcome).toBe('invalid');

    // A fresh state with a code Shopify already exchanged: the token endpoint says 400.
    const s4 = await start(m, shop);
    const used = await install(m, shop);
    const back4 = await shopify.approve(s4.authorizeUrl);
    const code = new URL(used).searchParams.get('code') ?? '';
    await db()`delete from public.shopify_installs where user_id = ${m.userId}`;
    await db()`delete from public.merchant_credentials where user_id = ${m.userId} and provider = 'shopify_admin'`;
    expect((await callback(resigned(back4, { code }), s4.cookie)).outcome).toBe('failed');
    // And the state that installed is not good twice.
    expect((await callback(used, s4.cookie)).outcome).toBe('invalid');
    expect(await bound(m.userId)).toMatchObject({ install: null, token: null });
  });

  it('refuses a callback in another merchant\u2019s session, and one with no session', async () => {
    const a = await createMerchant('owner');
    const b = await createMerchant('intruder');
    const shop = uniqueShop('victim');
    const s = await start(a, shop);
    const back = await shopify.approve(s.authorizeUrl);
    // B has A's whole browser state but their own session.
    const stateCookies = s.cookie.slice(a.cookie.length + 2);
    expect((await callback(back, `${b.cookie}; ${stateCookies}`)).outcome).toBe('invalid');
    expect((await callback(back, stateCookies)).outcome).toBe('invalid');
    expect((await bound(a.userId)).install).toBeNull();
    expect((await bound(b.userId)).install).toBeNull();
  });

  it('refuses a store the merchant did not grant every scope for', async () => {
    const m = await createMerchant('scopes');
    const shop = uniqueShop('scopes');
    shopify.grantScope('read_orders');
    try {
      const s = await start(m, shop);
      expect((await callback(await shopify.approve(s.authorizeUrl), s.cookie)).outcome).toBe('scopes');
    } finally {
      shopify.grantScope(null);
    }
    expect(await bound(m.userId)).toMatchObject({ install: null, token: null });
  });

  it('refuses hostnames that are not a myshopify.com store before Shopify is involved', async () => {
    const m = await createMerchant('hosts');
    const before = shopify.requests.length;
    for (const shop of ['evil.example.com', 'ada.shop.dev', 'ada.myshopify.com.evil.test', '', 'https://ada.myshopify.com/../x']) {
      const res = await call(installRoute, '/api/shopify/install', { cookie: m.cookie, body: { shop } });
      expect(res.status, shop).toBe(400);
    }
    expect((await call(installRoute, '/api/shopify/install', { body: { shop: 'ada.myshopify.com' } })).status).toBe(401);
    expect(shopify.requests.length).toBe(before);
    const [n] = await db()<{ n: number }[]>`select count(*)::int as n from private.shopify_oauth_states where user_id = ${m.userId}`;
    expect(n?.n).toBe(0);
  });
});

describe('configuration', () => {
  it('refuses the app’s credentials without APP_URL (the address must not come from a request)', () => {
    delete process.env.APP_URL;
    try {
      expect(() => reloadEnv()).toThrow(/APP_URL: must be set with SHOPIFY_API_KEY/);
      process.env.APP_URL = ORIGIN;
      delete process.env.SHOPIFY_API_SECRET;
      expect(() => reloadEnv()).toThrow(/set both SHOPIFY_API_KEY and SHOPIFY_API_SECRET/);
    } finally {
      useStandInEnv(shopify);
      reloadEnv();
    }
  });
});

describe('one store, one account', () => {
  it('refuses a second account, with how to free the store, and keeps the first binding even if the second got as far as the callback', async () => {
    const a = await createMerchant('first');
    const b = await createMerchant('second');
    const shop = uniqueShop('shared');
    // B started before A finished: the early check could not stop it, the unique key does.
    const sb = await start(b, shop);
    await install(a, shop);
    expect((await callback(await shopify.approve(sb.authorizeUrl), sb.cookie)).outcome).toBe('shop_taken');
    const res = await call<{ error: string }>(installRoute, '/api/shopify/install', { cookie: b.cookie, body: { shop } });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/uninstall the app .* or disconnect the store in that account/);
    expect((await bound(a.userId)).install?.shop).toBe(shop);
    expect(await bound(b.userId)).toMatchObject({ install: null, token: null });

    // One account, one store: A cannot add another.
    const other = await call<{ error: string }>(installRoute, '/api/shopify/install', { cookie: a.cookie, body: { shop: uniqueShop('another') } });
    expect(other.status).toBe(409);
    // Nor point the manual connection elsewhere while the app holds the store.
    const put = await call(putIntegrations, '/api/settings/integrations', { method: 'PUT', cookie: a.cookie, body: { shopifyShopDomain: uniqueShop('elsewhere') } });
    expect(put.status).toBe(409);

    // A disconnects: the app's subscriptions in the store are deleted and the token goes, but the
    // binding stays, so the store's privacy requests still reach the account holding its data.
    expect(shopify.subscriptions(shop)).toHaveLength(5);
    const d = await call<IntegrationsView>(disconnectRoute, '/api/settings/shopify', { method: 'DELETE', cookie: a.cookie });
    expect(d.status).toBe(200);
    expect(d.body.shopify.app.install?.uninstalledAt).not.toBeNull();
    expect(shopify.subscriptions(shop)).toEqual([]);
    expect((await bound(a.userId)).token).toBeNull();
    const request = readFileSync(new URL('../fixtures/shopify/customers-data-request.json', import.meta.url), 'utf8')
      .replace('{shop}', shop.replace('.myshopify.com', ''));
    // John, the request's shopper, bought from the store while it was A's.
    await applyOrder(a.userId, { shopOrderId: '299938', email: 'john@example.com', total: 20, orderedAt: new Date(), shopCustomerId: '191167' });
    expect((await appDelivery(request, { shop, topic: 'customers/data_request' })).status).toBe(200);
    const [req] = await db()<{ n: number }[]>`select count(*)::int as n from public.shopper_requests where user_id = ${a.userId}`;
    expect(req?.n).toBe(1);

    // And the store is free: B's fresh OAuth installs it, and A is told; A's binding stays, marked.
    await install(b, shop);
    expect((await bound(b.userId)).install?.shop).toBe(shop);
    expect((await bound(a.userId)).install).toMatchObject({ shop });
    expect((await bound(a.userId)).install?.uninstalledAt).not.toBeNull();
    const [told] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.activity_log where user_id = ${a.userId} and action = 'shopify.installed_elsewhere'`;
    expect(told?.n).toBe(1);
    // Orders go to the account the store is installed in; privacy requests to both that hold its data.
    const send = (body: unknown, topic?: string) => appDelivery(body, { shop, topic });
    expect((await send(shopifyOrder(9501, 'hal@example.com', '12.00'))).status).toBe(200);
    const orderCount = async (userId: string) => (await db()<{ n: number }[]>`select count(*)::int as n from public.orders where user_id = ${userId}`)[0]?.n;
    // (A's one order is John's, from before.)
    expect([await orderCount(a.userId), await orderCount(b.userId)]).toEqual([1, 1]);
    const requests = async (userId: string) =>
      (await db()<{ n: number }[]>`select count(*)::int as n from public.shopper_requests where user_id = ${userId}`)[0]?.n;
    // John's request reaches A, which holds him from before, and B, where the store is installed.
    expect((await send(request, 'customers/data_request')).status).toBe(200);
    expect([await requests(a.userId), await requests(b.userId)]).toEqual([2, 1]);
    // Another shopper, whom A never had: only B records the request (A learns nothing of them).
    const stranger = request.replace('john@example.com', 'kim@example.com').replace('191167', '191168').replace(/299938|280263|220458/g, '1');
    expect((await send(stranger, 'customers/data_request')).status).toBe(200);
    expect([await requests(a.userId), await requests(b.userId)]).toEqual([2, 2]);
    // A, holding the store's data, cannot take on another store (its data would mix); nothing of B's changes.
    const elsewhere = await call(installRoute, '/api/shopify/install', { cookie: a.cookie, body: { shop: uniqueShop('fresh') } });
    expect(elsewhere.status).toBe(409);
    const [r] = await db()<{ outcome: string }[]>`
      select private.shopify_install_bind(${a.userId}, ${uniqueShop('fresh')}, 'read_orders', 'v1.x', 'abcd') as outcome`;
    expect(r?.outcome).toBe('account_has_shop');
    expect((await bound(b.userId)).install).toMatchObject({ shop, uninstalledAt: null });
    // shop/redact deletes the store's data in every account that holds it.
    const redact = readFileSync(new URL('../fixtures/shopify/shop-redact.json', import.meta.url), 'utf8').replace('{shop}', shop.replace('.myshopify.com', ''));
    expect((await send(redact, 'shop/redact')).status).toBe(200);
    expect([await orderCount(a.userId), await orderCount(b.userId), await requests(a.userId), await requests(b.userId)]).toEqual([0, 0, 0, 0]);
    expect([(await bound(a.userId)).install, (await bound(b.userId)).install]).toEqual([null, null]);
  });

  it('binds one store to an account whose two installs finish at once', async () => {
    const m = await createMerchant('twice');
    const shops = [uniqueShop('twice-a'), uniqueShop('twice-b')];
    const pools = openRacePools(2);
    try {
      const results = await raceOn(pools, 2, async (tx, i) => {
        const [r] = await tx<{ outcome: string }[]>`
          select private.shopify_install_bind(${m.userId}, ${shops[i] ?? ''}, 'read_orders', 'v1.x', 'abcd') as outcome`;
        return r?.outcome;
      });
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'error')).sort()).toEqual(['account_has_shop', 'installed']);
      const [row] = await db()<{ shop: string; domain: string }[]>`
        select i.shop, s.shop_domain as domain from public.shopify_installs i join public.merchant_settings s using (user_id) where i.user_id = ${m.userId}`;
      expect(row?.shop).toBe(row?.domain);
    } finally {
      await closeRacePools(pools);
    }
  });

  it('refuses a store for an account that received another store’s orders by hand', async () => {
    const m = await createMerchant('manual-first');
    const manualShop = uniqueShop('manual-first');
    const secret = 'shpss_manual_first_0123456789ab';
    const address = await connectShop(m, manualShop, secret);
    expect((await deliver(address, shopifyWebhook(shopifyOrder(9601, 'jo@example.com', '9.00'), { secret, shop: manualShop }))).status).toBe(200);
    const res = await call<{ error: string }>(installRoute, '/api/shopify/install', { cookie: m.cookie, body: { shop: uniqueShop('other') } });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatch(/holds another store/);
    // Its own store it may install.
    expect((await installApp(shopify, m, manualShop)).outcome).toBe('connected');
  });

  it('keeps what one account took of a delivery when another account fails it, and asks Shopify to send it again', async () => {
    const shop = uniqueShop('fanout');
    const before = await createMerchant('fanout-before');
    const now = await createMerchant('fanout-now');
    await install(before, shop);
    await applyOrder(before.userId, { shopOrderId: '299938', email: 'john@example.com', total: 20, orderedAt: new Date(), shopCustomerId: '191167' });
    await call(disconnectRoute, '/api/settings/shopify', { method: 'DELETE', cookie: before.cookie });
    await install(now, shop);
    const request = readFileSync(new URL('../fixtures/shopify/customers-data-request.json', import.meta.url), 'utf8').replace('{shop}', shop.replace('.myshopify.com', ''));
    // The account that held the store before cannot take requests (a fault of its own, stood in by a trigger).
    await db().unsafe(`
      create function pg_temp.refuse() returns trigger language plpgsql as $$ begin raise exception 'broken account'; end $$;
      create trigger refuse_before before insert on public.shopper_requests for each row
        when (new.user_id = '${before.userId}') execute function pg_temp.refuse()`);
    const deliveryId = randomUUID();
    const requests = async (userId: string) =>
      (await db()<{ n: number }[]>`select count(*)::int as n from public.shopper_requests where user_id = ${userId}`)[0]?.n;
    try {
      expect((await appDelivery(request, { shop, topic: 'customers/data_request', deliveryId })).status).toBe(503);
      expect([await requests(before.userId), await requests(now.userId)]).toEqual([0, 1]);
    } finally {
      await db().unsafe('drop trigger refuse_before on public.shopper_requests');
    }
    // Shopify's retry: the account that had it finds it done, the other takes it now.
    expect((await appDelivery(request, { shop, topic: 'customers/data_request', deliveryId })).status).toBe(200);
    expect([await requests(before.userId), await requests(now.userId)]).toEqual([1, 1]);
  });

  it('lets one of two accounts install a store both find free, at once', async () => {
    const shop = uniqueShop('retake');
    const first = await createMerchant('retake-first');
    await install(first, shop);
    await call(disconnectRoute, '/api/settings/shopify', { method: 'DELETE', cookie: first.cookie });
    const merchants = [await createMerchant('retake-a'), await createMerchant('retake-b')];
    const pools = openRacePools(merchants.length);
    try {
      const results = await raceOn(pools, merchants.length, async (tx, i) => {
        const [r] = await tx<{ outcome: string }[]>`
          select private.shopify_install_bind(${merchants[i]?.userId ?? ''}, ${shop}, 'read_orders,read_customers', 'v1.x', 'abcd') as outcome`;
        return r?.outcome;
      });
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'error')).sort()).toEqual(['installed', 'shop_taken']);
      const [n] = await db()<{ n: number }[]>`select count(*)::int as n from public.shopify_installs where shop = ${shop} and uninstalled_at is null`;
      expect(n?.n).toBe(1);
    } finally {
      await closeRacePools(pools);
    }
  });

  it('lets exactly one of three accounts bind a store when they bind at once', async () => {
    const shop = uniqueShop('race');
    const merchants = [await createMerchant('race-a'), await createMerchant('race-b'), await createMerchant('race-c')];
    const pools = openRacePools(merchants.length);
    try {
      const results = await raceOn(pools, merchants.length, async (tx, i) => {
        const [r] = await tx<{ outcome: string }[]>`
          select private.shopify_install_bind(${merchants[i]?.userId ?? ''}, ${shop}, 'read_orders,read_customers', 'v1.x', 'abcd') as outcome`;
        return r?.outcome;
      });
      const outcomes = results.map((r) => (r.status === 'fulfilled' ? r.value : 'error')).sort();
      expect(outcomes).toEqual(['installed', 'shop_taken', 'shop_taken']);
      const [n] = await db()<{ n: number }[]>`select count(*)::int as n from public.shopify_installs where shop = ${shop}`;
      expect(n?.n).toBe(1);
      const [t] = await db()<{ n: number }[]>`
        select count(*)::int as n from public.merchant_credentials
         where provider = 'shopify_admin' and user_id = any(${merchants.map((m) => m.userId)}::uuid[])`;
      expect(t?.n).toBe(1);
    } finally {
      await closeRacePools(pools);
    }
  });
});

describe('the app\u2019s webhooks', () => {
  const orders = async (userId: string) =>
    (await db()<{ n: number }[]>`select count(*)::int as n from public.orders where user_id = ${userId}`)[0]?.n;

  it('routes a delivery signed with the app secret for shop X to X\u2019s merchant only, whoever else claims X', async () => {
    const x = await createMerchant('shop-x');
    const y = await createMerchant('shop-y');
    const claimant = await createMerchant('claimant');
    const shopX = uniqueShop('x');
    const shopY = uniqueShop('y');
    await install(x, shopX);
    await install(y, shopY);
    // Typing X's domain in the manual connection gives no share of X's deliveries.
    await connectShop(claimant, shopX, 'shpss_claimant_secret_0123456789');

    const ok = await appDelivery(shopifyOrder(9101, 'ada@example.com', '40.00'), { shop: shopX });
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe('processed');
    expect([await orders(x.userId), await orders(y.userId), await orders(claimant.userId)]).toEqual([1, 0, 0]);
    // Signed with anything but the app's secret: 401, nothing stored.
    expect((await appDelivery(shopifyOrder(9102, 'bo@example.com', '10.00'), { shop: shopX, secret: 'shpss_claimant_secret_0123456789' })).status).toBe(401);
    // A shop no account holds: acknowledged, nothing stored anywhere.
    const stray = await appDelivery(shopifyOrder(9103, 'cy@example.com', '10.00'), { shop: uniqueShop('nobody') });
    expect(stray.status).toBe(200);
    expect(stray.body.status).toBe('ignored');
    expect([await orders(x.userId), await orders(y.userId), await orders(claimant.userId)]).toEqual([1, 0, 0]);
  });

  it('on app/uninstalled drops the token and the subscriptions and keeps the data; shop/redact then deletes that shop\u2019s data and nothing of another\u2019s', async () => {
    const m = await createMerchant('uninstall');
    const other = await createMerchant('bystander');
    const shop = uniqueShop('leaving');
    const otherShop = uniqueShop('staying');
    await install(m, shop);
    await install(other, otherShop);
    await appDelivery(shopifyOrder(9201, 'dee@example.com', '55.00'), { shop });
    await appDelivery(shopifyOrder(9202, 'eve@example.com', '65.00'), { shop: otherShop });

    // Shopify's sample leaves myshopify_domain null; a real delivery names the store, as the app requires.
    const uninstalled = readFileSync(new URL('../fixtures/shopify/app-uninstalled.json', import.meta.url), 'utf8')
      .replace('"myshopify_domain": null', `"myshopify_domain": "${shop}"`);
    const deliveryId = randomUUID();
    shopify.revoke(shop);
    const r = await appDelivery(uninstalled, { shop, topic: 'app/uninstalled', deliveryId });
    expect(r.status).toBe(200);
    // A repeat finds the store installed nowhere: acknowledged, nothing changes.
    const repeat = await appDelivery(uninstalled, { shop, topic: 'app/uninstalled', deliveryId });
    expect([repeat.status, repeat.body.status]).toEqual([200, 'ignored']);
    const b = await bound(m.userId);
    expect(b.token).toBeNull();
    expect(b.install?.uninstalledAt).not.toBeNull();
    expect(await orders(m.userId)).toBe(1);
    const view = await integrations(m);
    expect(view.shopify.app.install?.uninstalledAt).not.toBeNull();
    expect(view.shopify.app.install?.webhooks.every((w) => w.registeredAt === null)).toBe(true);
    // Nothing can call the shop any more.
    expect((await call(repairRoute, '/api/settings/shopify/webhooks', { cookie: m.cookie, body: {} })).status).toBe(409);

    const redact = readFileSync(new URL('../fixtures/shopify/shop-redact.json', import.meta.url), 'utf8').replace('{shop}', shop.replace('.myshopify.com', ''));
    const rr = await appDelivery(redact, { shop, topic: 'shop/redact' });
    expect(rr.status).toBe(200);
    expect(await orders(m.userId)).toBe(0);
    const [c] = await db()<{ n: number }[]>`select count(*)::int as n from public.customers where user_id = ${m.userId}`;
    expect(c?.n).toBe(0);
    expect((await bound(m.userId)).install).toBeNull();
    // The bystander is whole.
    expect(await orders(other.userId)).toBe(1);
    expect((await bound(other.userId)).install?.shop).toBe(otherShop);
    // The store is free again: another account can install it.
    await install(await createMerchant('new-owner'), shop);
  });

  it('repairs missing subscriptions: lists them, creates what is missing, leaves the rest', async () => {
    const m = await createMerchant('repair');
    const shop = uniqueShop('repair');
    shopify.refuseTopic('REFUNDS_CREATE');
    try {
      await install(m, shop);
    } finally {
      shopify.refuseTopic(null);
    }
    const before = await integrations(m);
    expect(before.shopify.app.install?.webhooks.filter((w) => w.registeredAt === null).map((w) => w.topic)).toEqual(['REFUNDS_CREATE']);
    const ids = shopify.subscriptions(shop).map((s) => s.id);
    const r = await call<{ problems: unknown[]; integrations: IntegrationsView }>(repairRoute, '/api/settings/shopify/webhooks', { cookie: m.cookie, body: {} });
    expect(r.status).toBe(200);
    expect(r.body.problems).toEqual([]);
    expect(r.body.integrations.shopify.app.install?.webhooks.every((w) => w.registeredAt !== null)).toBe(true);
    // One created; the four that were there kept their ids.
    expect(shopify.subscriptions(shop)).toHaveLength(5);
    expect(shopify.subscriptions(shop).map((s) => s.id).slice(0, 4)).toEqual(ids);
    // Another merchant's repair touches only their own (they have none: 409).
    expect((await call(repairRoute, '/api/settings/shopify/webhooks', { cookie: (await createMerchant('no-shop')).cookie, body: {} })).status).toBe(409);
  });

  it('refuses a body one store signed, replayed as another store’s (the shop header is not signed)', async () => {
    const victim = await createMerchant('victim');
    const attacker = await createMerchant('attacker');
    const victimShop = uniqueShop('victim');
    const attackerShop = uniqueShop('attacker');
    await install(victim, victimShop);
    await install(attacker, attackerShop);
    await appDelivery(shopifyOrder(9401, 'gus@example.com', '30.00'), { shop: victimShop });
    const fixture = (name: string, s: string) =>
      readFileSync(new URL(`../fixtures/shopify/${name}`, import.meta.url), 'utf8').replace('{shop}', s.replace('.myshopify.com', ''));
    // The attacker's own store's bodies, routed to the victim by the header.
    for (const [name, topic] of [['shop-redact.json', 'shop/redact'], ['customers-redact.json', 'customers/redact'],
      ['customers-data-request.json', 'customers/data_request']] as const) {
      expect((await appDelivery(fixture(name, attackerShop), { shop: victimShop, topic })).status, topic).toBe(401);
    }
    const uninstall = JSON.stringify({ id: 1, myshopify_domain: attackerShop });
    expect((await appDelivery(uninstall, { shop: victimShop, topic: 'app/uninstalled' })).status).toBe(401);
    // Nor is a body of another topic believed as an erasing one (the topic header is not signed either).
    const victimFixture = (name: string) => fixture(name, victimShop);
    expect((await appDelivery(shopifyOrder(9402, 'ivy@example.com', '5.00'), { shop: victimShop, topic: 'app/uninstalled' })).status).toBe(400);
    expect((await appDelivery(victimFixture('customers-redact.json'), { shop: victimShop, topic: 'shop/redact' })).status).toBe(400);
    expect((await appDelivery(victimFixture('customers-data-request.json'), { shop: victimShop, topic: 'customers/redact' })).status).toBe(401);
    expect((await appDelivery(victimFixture('customers-redact.json'), { shop: victimShop, topic: 'customers/data_request' })).status).toBe(401);
    const [noRequests] = await db()<{ n: number }[]>`select count(*)::int as n from public.shopper_requests where user_id = ${victim.userId}`;
    expect(noRequests?.n).toBe(0);
    expect(await orders(victim.userId)).toBe(1);
    expect((await bound(victim.userId)).token).toMatch(/^shpat_/);
  });

  it('registers at APP_URL’s address whatever Host a caller sends', async () => {
    const m = await createMerchant('host');
    const shop = uniqueShop('host');
    await install(m, shop);
    // The merchant's own client, not a browser: it may send any Host and a matching Origin.
    const forged = { host: 'evil.example', origin: 'http://evil.example', 'x-forwarded-host': 'evil.example' };
    const ids = shopify.subscriptions(shop).map((x) => x.id);
    await db()`delete from public.shopify_webhook_subscriptions where user_id = ${m.userId}`;
    const ok = await call(repairRoute, '/api/settings/shopify/webhooks', { cookie: m.cookie, body: {}, headers: forged });
    expect(ok.status).toBe(200);
    expect(shopify.subscriptions(shop).map((x) => x.id)).toEqual(ids);
    expect(shopify.subscriptions(shop).every((x) => x.uri === ADDRESS)).toBe(true);
    // The launch and the callback send the browser to our own pages by path, never to a Host.
    const back = await call(callbackRoute, '/api/shopify/callback?shop=x', { cookie: m.cookie, headers: forged });
    expect(back.headers.get('location')).toBe('/dashboard/settings?shopify=invalid#shopify');
  });

  it('keeps the manual address for stores without the app', async () => {
    const m = await createMerchant('manual');
    const shop = uniqueShop('manual');
    const secret = 'shpss_manual_secret_0123456789ab';
    const address = await connectShop(m, shop, secret);
    const res = await deliver(address, shopifyWebhook(shopifyOrder(9301, 'fay@example.com', '20.00'), { secret, shop }));
    expect(res.status).toBe(200);
    expect(await orders(m.userId)).toBe(1);
  });
});

describe('installing from Shopify\u2019s side (the app URL)', () => {
  const launch = (params: Record<string, string>, cookie?: string) => {
    const q = new URLSearchParams({ ...params, hmac: signShopifyQuery(params, APP.apiSecret) });
    return call(launchRoute, `/api/shopify/install?${q}`, { cookie });
  };
  const now = () => String(Math.floor(Date.now() / 1000));

  it('sends a signed-in merchant straight to the authorize page, and completes the install', async () => {
    const m = await createMerchant('launch');
    const shop = uniqueShop('launch');
    const res = await launch({ shop, timestamp: now(), host: Buffer.from(`admin.shopify.com/store/${shop.split('.')[0]}`).toString('base64') }, m.cookie);
    expect(res.status).toBe(302);
    const location = res.headers.get('location') ?? '';
    expect(new URL(location).pathname).toBe(`/shops/${shop}/admin/oauth/authorize`);
    const back = await shopify.approve(location);
    expect((await callback(back, `${m.cookie}; ${cookieHeader(res.setCookies)}`)).outcome).toBe('connected');
    expect((await bound(m.userId)).install?.shop).toBe(shop);
  });

  it('refuses an unsigned, mis-signed or stale launch, and asks a visitor to sign in first', async () => {
    const m = await createMerchant('launch-bad');
    const shop = uniqueShop('launch-bad');
    const unsigned = await call(launchRoute, `/api/shopify/install?shop=${shop}&timestamp=${now()}`, { cookie: m.cookie });
    expect(outcomeOf(unsigned.headers.get('location'))).toBe('invalid');
    const forged = await call(launchRoute, `/api/shopify/install?shop=${shop}&timestamp=${now()}&hmac=${'f'.repeat(64)}`, { cookie: m.cookie });
    expect(outcomeOf(forged.headers.get('location'))).toBe('invalid');
    const stale = await launch({ shop, timestamp: String(Math.floor(Date.now() / 1000) - 600) }, m.cookie);
    expect(outcomeOf(stale.headers.get('location'))).toBe('invalid');
    const visitor = await launch({ shop, timestamp: now() });
    const login = new URL(visitor.headers.get('location') ?? '', ORIGIN);
    expect(login.pathname).toBe('/login');
    expect(login.searchParams.get('next')).toBe(`/dashboard/settings?shopify_shop=${shop}#shopify`);
    const [n] = await db()<{ n: number }[]>`select count(*)::int as n from private.shopify_oauth_states where user_id = ${m.userId}`;
    expect(n?.n).toBe(0);
  });
});
