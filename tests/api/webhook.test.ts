import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { db, withSystem } from '@/lib/db';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { connectShop, deliver, shopifyOrder, shopifyWebhook } from '@/tests/helpers/shopify';

const SHOP = 'webhook-test.myshopify.com';
const SECRET = 'shpss_webhook_secret_0123456789';
let a: TestMerchant;
let address: { path: string; key: string };

beforeAll(async () => {
  a = await createMerchant('hook');
  address = await connectShop(a, SHOP, SECRET);
});

const send = (w: { rawBody: string; headers: Record<string, string> }) => deliver(address, w);

async function customerRow(email: string) {
  const [c] = await db()<{ totalOrders: number; lifetimeValue: number; firstName: string | null; shopifyCustomerId: string | null }[]>`
    select total_orders, lifetime_value, first_name, shopify_customer_id from public.customers where user_id = ${a.userId} and email = ${email}`;
  return c;
}

describe('POST /api/webhooks/shopify/<key>', () => {
  it('applies a signed order: customer, counters, purchase touchpoint, inbox row', async () => {
    const res = await send(shopifyWebhook(shopifyOrder(1001, 'Ada@Example.test', '120.50'), { secret: SECRET, shop: SHOP }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'processed', detail: { applied: true, stage: 'customer' } });
    expect(await customerRow('ada@example.test')).toEqual({ totalOrders: 1, lifetimeValue: 120.5, firstName: 'Ada', shopifyCustomerId: '8001' });
    const [tp] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.touchpoints where user_id = ${a.userId} and type = 'purchase' and reference_id = '1001'`;
    expect(tp?.n).toBe(1);
  });

  it('changes counters once for the same delivery twice and for the same order under two delivery ids', async () => {
    const order = shopifyOrder(1002, 'twice@example.test', '40.00');
    const first = shopifyWebhook(order, { secret: SECRET, shop: SHOP, deliveryId: 'delivery-1002' });
    expect((await send(first)).body).toMatchObject({ status: 'processed' });
    expect((await send(first)).body).toEqual({ status: 'duplicate' });
    const paid = shopifyWebhook(order, { secret: SECRET, shop: SHOP, topic: 'orders/paid', deliveryId: 'delivery-1002-paid' });
    expect((await send(paid)).body).toMatchObject({ status: 'processed', detail: { applied: false, reason: 'duplicate_order' } });
    expect(await customerRow('twice@example.test')).toMatchObject({ totalOrders: 1, lifetimeValue: 40 });
  });

  it('applies a refund once and lowers lifetime value', async () => {
    await send(shopifyWebhook(shopifyOrder(1003, 'refund@example.test', '90.00'), { secret: SECRET, shop: SHOP }));
    const refund = { id: 5003, order_id: 1003, created_at: '2026-03-05T10:00:00Z', transactions: [{ amount: '30.00', kind: 'refund', status: 'success' }] };
    const w = shopifyWebhook(refund, { secret: SECRET, shop: SHOP, topic: 'refunds/create', deliveryId: 'refund-5003' });
    expect((await send(w)).body).toMatchObject({ status: 'processed', detail: { applied: true, amount: 30 } });
    expect((await send(w)).body).toEqual({ status: 'duplicate' });
    expect(await customerRow('refund@example.test')).toMatchObject({ totalOrders: 1, lifetimeValue: 60 });
  });

  it.each([
    ['a tampered body', (w: ReturnType<typeof shopifyWebhook>) => ({ ...w, rawBody: w.rawBody.replace('55.00', '5.00') })],
    ['a missing signature', (w: ReturnType<typeof shopifyWebhook>) => ({ ...w, headers: { ...w.headers, 'x-shopify-hmac-sha256': '' } })],
    ['a missing topic', (w: ReturnType<typeof shopifyWebhook>) => ({ ...w, headers: { ...w.headers, 'x-shopify-topic': '' } })],
    ['a missing delivery id', (w: ReturnType<typeof shopifyWebhook>) => ({ ...w, headers: { ...w.headers, 'x-shopify-webhook-id': '' } })],
    ['a wrong-length signature', (w: ReturnType<typeof shopifyWebhook>) => ({ ...w, headers: { ...w.headers, 'x-shopify-hmac-sha256': 'c2hvcnQ=' } })],
    ['a signature with another secret', (w: ReturnType<typeof shopifyWebhook>) => ({
      ...w, headers: { ...w.headers, 'x-shopify-hmac-sha256': createHmac('sha256', 'other-secret-0123456789').update(w.rawBody).digest('base64') },
    })],
    ['an unknown shop', (w: ReturnType<typeof shopifyWebhook>) => ({ ...w, headers: { ...w.headers, 'x-shopify-shop-domain': 'nobody.myshopify.com' } })],
  ])('answers 401 for %s and changes nothing', async (_label, mutate) => {
    const w = mutate(shopifyWebhook(shopifyOrder(1004, 'forged@example.test', '55.00'), { secret: SECRET, shop: SHOP }));
    const res = await send(w);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'Invalid webhook signature', code: 'unauthorized' });
    const [n] = await db()<{ n: number }[]>`select count(*)::int as n from public.orders where shop_order_id = '1004'`;
    expect(n?.n).toBe(0);
  });

  it('answers 400 for a malformed body that is correctly signed, and records nothing', async () => {
    const bad = shopifyWebhook({ id: 1005, total_price: 'lots', created_at: 'yesterday' }, { secret: SECRET, shop: SHOP, deliveryId: 'bad-1005' });
    const res = await send(bad);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'bad_request' });
    const notJson = shopifyWebhook('x', { secret: SECRET, shop: SHOP });
    const raw = '{not json';
    const res2 = await send({ rawBody: raw, headers: { ...notJson.headers, 'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(raw).digest('base64') } });
    expect(res2.status).toBe(400);
    const [d] = await db()<{ n: number }[]>`select count(*)::int as n from public.webhook_deliveries where delivery_id = 'bad-1005'`;
    expect(d?.n).toBe(0);
  });

  it('checks a delivery against its address\'s merchant alone: another address, or another shop, is a 401', async () => {
    const other = await createMerchant('other-shop');
    const otherAddress = await connectShop(other, 'other-shop.myshopify.com', 'other-secret-0123456789');
    // The owner's signed order sent to someone else's address does not verify there.
    const misrouted = await deliver(otherAddress, shopifyWebhook(shopifyOrder(1006, 'routed@example.test', '10.00'), { secret: SECRET, shop: SHOP }));
    expect(misrouted.status).toBe(401);
    // A body signed with the right secret but naming another shop than the merchant's is refused too.
    const wrongShop = await send(shopifyWebhook(shopifyOrder(1006, 'routed@example.test', '10.00'), { secret: SECRET, shop: 'elsewhere.myshopify.com' }));
    expect(wrongShop.status).toBe(401);
    const unknown = await deliver({ path: '/api/webhooks/shopify/wh_x', key: `wh_${'0'.repeat(64)}` },
      shopifyWebhook(shopifyOrder(1006, 'routed@example.test', '10.00'), { secret: SECRET, shop: SHOP }));
    expect(unknown.status).toBe(401);
    const [n] = await db()<{ n: number }[]>`select count(*)::int as n from public.orders where shop_order_id = '1006'`;
    expect(n?.n).toBe(0);
  });

  it('does not cancel a live order when its signed orders/create body is replayed under the orders/cancelled topic', async () => {
    const body = shopifyOrder(1300, 'replayed@example.test', '30.00');
    await send(shopifyWebhook(body, { secret: SECRET, shop: SHOP }));
    const replay = await send(shopifyWebhook(body, { secret: SECRET, shop: SHOP, topic: 'orders/cancelled' }));
    expect(replay.body).toMatchObject({ status: 'ignored', detail: 'the order is not cancelled' });
    expect(await customerRow('replayed@example.test')).toMatchObject({ totalOrders: 1, lifetimeValue: 30 });
  });

  it('acknowledges an order without any email and topics it does not use, without effect', async () => {
    const noEmail = shopifyOrder(1007, '', '10.00', { email: null, customer: null });
    expect((await send(shopifyWebhook(noEmail, { secret: SECRET, shop: SHOP }))).body).toMatchObject({ status: 'ignored' });
    expect((await send(shopifyWebhook({ id: 1 }, { secret: SECRET, shop: SHOP, topic: 'products/update' }))).body).toMatchObject({ status: 'ignored' });
  });

  it('keeps a refund that arrives before its order and applies it when the order comes', async () => {
    const refund = { id: 5100, order_id: 1100, transactions: [{ amount: '20.00', kind: 'refund', status: 'success' }] };
    const early = shopifyWebhook(refund, { secret: SECRET, shop: SHOP, topic: 'refunds/create', deliveryId: 'early-refund' });
    expect((await send(early)).body).toMatchObject({ status: 'processed', detail: { applied: false, reason: 'pending_order' } });
    await send(shopifyWebhook(shopifyOrder(1100, 'early@example.test', '100.00'), { secret: SECRET, shop: SHOP }));
    expect(await customerRow('early@example.test')).toMatchObject({ totalOrders: 1, lifetimeValue: 80 });
    expect((await send(early)).body).toEqual({ status: 'duplicate' });
    expect(await customerRow('early@example.test')).toMatchObject({ lifetimeValue: 80 });
  });

  it('100 hostile accounts claiming the owner\'s shop, some with unreadable secrets, change nothing for the owner', async () => {
    const { encryptSecret } = await import('@/lib/crypto/secrets');
    await withSystem(async (tx) => {
      const users = await tx<{ id: string }[]>`
        insert into auth.users (email) select 'claimant' || g || '@example.test' from generate_series(1, 100) g returning id`;
      await tx`update public.merchant_settings set shop_domain = ${SHOP} where user_id = any(${users.map((u) => u.id)})`;
      // Half sign with a secret of their own, half store garbage where the secret should be.
      for (const [i, u] of users.entries()) {
        const ciphertext = i % 2 ? 'v1.not-a-ciphertext' : encryptSecret(`claimant-secret-${i}-0000000`, `${u.id}:shopify_webhook`);
        await tx`insert into public.merchant_credentials (user_id, provider, ciphertext, last4) values (${u.id}, 'shopify_webhook', ${ciphertext}, '0000')`;
      }
    });
    for (let i = 0; i < 3; i++) {
      const res = await send(shopifyWebhook(shopifyOrder(1101 + i, `claimed-${i}@example.test`, '10.00'), { secret: SECRET, shop: SHOP }));
      expect(res.status).toBe(200);
    }
    const owners = await db()<{ userId: string }[]>`select distinct user_id from public.orders where shop_order_id in ('1101', '1102', '1103')`;
    expect(owners.map((o) => o.userId)).toEqual([a.userId]);
  });

  it('answers 401, not 500, when the merchant\'s own stored secret no longer decrypts', async () => {
    const broken = await createMerchant('broken-secret');
    const brokenAddress = await connectShop(broken, 'broken.myshopify.com', 'broken-secret-0123456789');
    await db()`update public.merchant_credentials set ciphertext = 'v1.garbage' where user_id = ${broken.userId}`;
    const res = await deliver(brokenAddress, shopifyWebhook(shopifyOrder(1200, 'b@example.test', '10.00'), { secret: 'broken-secret-0123456789', shop: 'broken.myshopify.com' }));
    expect(res.status).toBe(401);
  });
});
