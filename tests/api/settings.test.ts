import { beforeAll, describe, expect, it } from 'vitest';
import { GET, PUT } from '@/app/api/settings/integrations/route';
import { POST as rotate } from '@/app/api/settings/tracking-key/rotate/route';
import { db, withSystem } from '@/lib/db';
import { getCredential } from '@/lib/settings/integrations';
import type { IntegrationsView } from '@/lib/settings/schemas';
import { call } from '@/tests/helpers/http';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

const KLAVIYO = 'pk_live_9f8e7d6c5b4a3210fedcba';
const WEBHOOK = 'shpss_0123456789abcdef0123456789ab';

let a: TestMerchant;
let b: TestMerchant;
beforeAll(async () => {
  a = await createMerchant('a');
  b = await createMerchant('b');
});

const put = (m: TestMerchant, body: unknown) =>
  call<IntegrationsView & { error?: string; field?: string }>(PUT, '/api/settings/integrations', { method: 'PUT', body, cookie: m.cookie });

describe('integrations settings', () => {
  it('starts unconfigured with a publishable tracking key and the webhook URL', async () => {
    const res = await call<IntegrationsView>(GET, '/api/settings/integrations', { cookie: a.cookie });
    expect(res.status).toBe(200);
    expect(res.body.klaviyo.apiKey).toEqual({ configured: false, last4: null, updatedAt: null });
    expect(res.body.shopify.shopDomain).toBeNull();
    // The merchant's own webhook address, different for every merchant.
    expect(res.body.shopify.webhookUrl).toMatch(/^http:\/\/localhost:3000\/api\/webhooks\/shopify\/wh_[0-9a-f]{64}$/);
    const other = await call<IntegrationsView>(GET, '/api/settings/integrations', { cookie: b.cookie });
    expect(other.body.shopify.webhookUrl).not.toBe(res.body.shopify.webhookUrl);
    expect(res.body.tracking.publishableKey).toMatch(/^pk_[0-9a-f]{32}$/);
  });

  it('stores secrets encrypted and never returns them', async () => {
    const res = await put(a, {
      klaviyoApiKey: KLAVIYO,
      shopifyShopDomain: 'https://Haven-Demo.myshopify.com/',
      shopifyWebhookSecret: WEBHOOK,
    });
    expect(res.status).toBe(200);
    expect(res.body.klaviyo.apiKey).toMatchObject({ configured: true, last4: 'dcba' });
    expect(res.body.shopify).toMatchObject({ shopDomain: 'haven-demo.myshopify.com', webhookSecret: { configured: true, last4: '89ab' } });

    const get = await call(GET, '/api/settings/integrations', { cookie: a.cookie });
    for (const body of [JSON.stringify(res.body), JSON.stringify(get.body)]) {
      expect(body).not.toContain(KLAVIYO);
      expect(body).not.toContain(WEBHOOK);
    }

    const rows = await db()<{ ciphertext: string }[]>`select ciphertext from public.merchant_credentials where user_id = ${a.userId}`;
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.ciphertext).toMatch(/^v1\./);
      expect(r.ciphertext).not.toContain(KLAVIYO);
      expect(r.ciphertext).not.toContain(WEBHOOK);
      expect(Buffer.from(r.ciphertext.slice(3), 'base64url').toString('latin1')).not.toContain(KLAVIYO.slice(0, 12));
    }
    expect(await withSystem((tx) => getCredential(tx, a.userId, 'klaviyo'))).toBe(KLAVIYO);
    expect(await withSystem((tx) => getCredential(tx, a.userId, 'shopify_webhook'))).toBe(WEBHOOK);
  });

  it("binds a ciphertext to its merchant: copied to B's row it does not decrypt", async () => {
    await put(a, { klaviyoApiKey: KLAVIYO });
    await withSystem(async (tx) => {
      await tx`insert into public.merchant_credentials (user_id, provider, ciphertext, last4)
               select ${b.userId}, provider, ciphertext, last4 from public.merchant_credentials
                where user_id = ${a.userId} and provider = 'klaviyo'
               on conflict (user_id, provider) do update set ciphertext = excluded.ciphertext`;
    });
    await expect(withSystem((tx) => getCredential(tx, b.userId, 'klaviyo'))).rejects.toThrow();
    await withSystem((tx) => tx`delete from public.merchant_credentials where user_id = ${b.userId}`);
  });

  it('leaves omitted fields alone and clears a field sent as null', async () => {
    await put(a, { klaviyoApiKey: KLAVIYO });
    const res = await put(a, { klaviyoApiKey: null });
    expect(res.body.klaviyo.apiKey.configured).toBe(false);
    expect(res.body.shopify.webhookSecret.configured).toBe(true);
  });

  it.each([
    [{ shopifyShopDomain: 'haven.example.com' }, 'shopifyShopDomain'],
    [{ klaviyoApiKey: 'short' }, 'klaviyoApiKey'],
    [{ klaviyoApiKey: 'has spaces in it ok' }, 'klaviyoApiKey'],
    [{ shopifyWebhookSecret: 42 }, 'shopifyWebhookSecret'],
  ])('rejects %j with 400 naming the field and changes nothing', async (body, field) => {
    const before = await call(GET, '/api/settings/integrations', { cookie: a.cookie });
    const res = await put(a, body);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
    const after = await call(GET, '/api/settings/integrations', { cookie: a.cookie });
    expect(after.body).toEqual(before.body);
  });

  it('lets a second merchant claim the same shop domain: a claim proves nothing, the webhook secret does', async () => {
    expect((await put(a, { shopifyShopDomain: 'shared-shop.myshopify.com' })).status).toBe(200);
    const res = await put(b, { shopifyShopDomain: 'shared-shop.myshopify.com' });
    expect(res.status).toBe(200);
    expect(res.body.shopify.shopDomain).toBe('shared-shop.myshopify.com');
  });

  it("ignores fields a client may not set (user id, tracking key)", async () => {
    const before = await call<IntegrationsView>(GET, '/api/settings/integrations', { cookie: b.cookie });
    const res = await put(b, { userId: a.userId, user_id: a.userId, trackingKey: 'pk_00000000000000000000000000000000' });
    expect(res.status).toBe(200);
    expect(res.body.tracking.publishableKey).toBe(before.body.tracking.publishableKey);
    const [rowA] = await db()<{ n: number }[]>`select count(*)::int as n from public.merchant_settings where user_id = ${a.userId}`;
    expect(rowA?.n).toBe(1);
  });

  it('rotates the tracking key', async () => {
    const before = await call<IntegrationsView>(GET, '/api/settings/integrations', { cookie: a.cookie });
    const res = await call<{ publishableKey: string }>(rotate, '/api/settings/tracking-key/rotate', { method: 'POST', cookie: a.cookie });
    expect(res.status).toBe(200);
    expect(res.body.publishableKey).toMatch(/^pk_[0-9a-f]{32}$/);
    expect(res.body.publishableKey).not.toBe(before.body.tracking.publishableKey);
  });

  it("keeps merchants apart: B sees only its own settings", async () => {
    await put(a, { klaviyoApiKey: KLAVIYO });
    const bView = await call<IntegrationsView>(GET, '/api/settings/integrations', { cookie: b.cookie });
    const aView = await call<IntegrationsView>(GET, '/api/settings/integrations', { cookie: a.cookie });
    expect(bView.body.klaviyo.apiKey.configured).toBe(false);
    expect(bView.body.tracking.publishableKey).not.toBe(aView.body.tracking.publishableKey);
    expect(bView.body.shopify.webhookSecret.configured).toBe(false);
  });

  it('requires a session', async () => {
    expect((await call(GET, '/api/settings/integrations')).status).toBe(401);
    expect((await call(PUT, '/api/settings/integrations', { method: 'PUT', body: { klaviyoApiKey: KLAVIYO } })).status).toBe(401);
  });
});
