import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { GET as listRoute } from '@/app/api/privacy/requests/route';
import { GET as exportRoute } from '@/app/api/privacy/requests/[id]/export/route';
import { POST as handledRoute } from '@/app/api/privacy/requests/[id]/handled/route';
import { db } from '@/lib/db';
import type { ShopperRequestList } from '@/lib/privacy/schemas';
import { call } from '@/tests/helpers/http';
import { applyOrder } from '@/tests/helpers/journey';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { connectShop, deliver, shopifyWebhook } from '@/tests/helpers/shopify';

// Shopify's documented sample payloads for the compliance topics (tests/fixtures/shopify/README.md).
const fixture = (name: string, shop: string) =>
  readFileSync(new URL(`../fixtures/shopify/${name}`, import.meta.url), 'utf8').replace('{shop}', shop.replace('.myshopify.com', ''));
const JOHN = 'john@example.com';
const SECRET = 'shpss_compliance_secret_0123456789';

let m: TestMerchant;
let address: { path: string; key: string };
const SHOP = 'compliance-shop.myshopify.com';
const send = (name: string, topic: string, opts: { deliveryId?: string; secret?: string; shop?: string; to?: typeof address } = {}) =>
  deliver(opts.to ?? address, shopifyWebhook(fixture(name, opts.shop ?? SHOP), {
    secret: opts.secret ?? SECRET, shop: opts.shop ?? SHOP, topic, deliveryId: opts.deliveryId ?? randomUUID(),
  }));

beforeAll(async () => {
  m = await createMerchant('compliance');
  address = await connectShop(m, SHOP, SECRET);
  const at = new Date(Date.now() - 30 * 86_400_000);
  // John, as the samples name him: customer 191167 and his order 299938; and another shopper.
  await applyOrder(m.userId, { shopOrderId: '299938', email: JOHN, total: 120, orderedAt: at, shopCustomerId: '191167', firstName: 'John' });
  await applyOrder(m.userId, { shopOrderId: '5001', email: 'jane@example.com', total: 60, orderedAt: at, firstName: 'Jane' });
});

describe('Shopify compliance webhooks, at the merchant\u2019s own address', () => {
  it('answers 401 to a bad signature on every compliance topic and records nothing', async () => {
    for (const [name, topic] of [['customers-data-request.json', 'customers/data_request'], ['customers-redact.json', 'customers/redact'],
      ['shop-redact.json', 'shop/redact']] as const) {
      expect((await send(name, topic, { secret: 'not the secret' })).status).toBe(401);
    }
    const [n] = await db()<{ n: number }[]>`select count(*)::int as n from public.shopper_requests where user_id = ${m.userId}`;
    expect(n?.n).toBe(0);
    const [c] = await db()<{ n: number }[]>`select count(*)::int as n from public.customers where user_id = ${m.userId}`;
    expect(c?.n).toBe(2);
  });

  it('records a data request once, without the shopper in clear, and lets the merchant download it until it is handled', async () => {
    const id = randomUUID();
    const first = await send('customers-data-request.json', 'customers/data_request', { deliveryId: id });
    expect(first.status).toBe(200);
    expect((await send('customers-data-request.json', 'customers/data_request', { deliveryId: id })).status).toBe(200);
    const rows = await db()<Record<string, unknown>[]>`select * from public.shopper_requests where user_id = ${m.userId}`;
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toMatch(/john|555-625|191167/i);
    const inbox = await db()<Record<string, unknown>[]>`select * from public.webhook_deliveries where user_id = ${m.userId}`;
    expect(JSON.stringify(inbox)).not.toMatch(/john|555-625|191167/i);
    expect(rows[0]).toMatchObject({ topic: 'customers/data_request', status: 'open', ordersNamed: 3, emailHash: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const list = await call<ShopperRequestList>(listRoute, '/api/privacy/requests', { cookie: m.cookie });
    expect(list.status).toBe(200);
    expect(list.body.open).toBe(1);
    const requestId = list.body.requests[0]?.id ?? '';
    const path = `/api/privacy/requests/${requestId}/export`;

    const json = await call<{ email: string; modules: { journey: { orders: { shop_order_id: string }[] } } }>(exportRoute, path,
      { cookie: m.cookie, params: { id: requestId } });
    expect(json.status).toBe(200);
    expect(json.headers.get('content-disposition')).toBe(`attachment; filename="data-request-${requestId}.json"`);
    expect(json.body.email).toBe(JOHN);
    expect(json.body.modules.journey.orders.map((o) => o.shop_order_id)).toEqual(['299938']);
    expect(JSON.stringify(json.body)).not.toContain('jane@example.com');

    const csv = await call<string>(exportRoute, `${path}?format=csv&table=orders`, { cookie: m.cookie, params: { id: requestId } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('x-content-type-options')).toBe('nosniff');
    expect(json.headers.get('cache-control')).toBe('no-store');
    const [header, line] = csv.body.trim().split('\n');
    expect(header?.split(',')).toEqual(expect.arrayContaining(['shop_order_id', 'total', 'email']));
    expect(line).toContain('299938');
    expect((await call(exportRoute, `${path}?format=csv`, { cookie: m.cookie, params: { id: requestId } })).status).toBe(400);
    expect((await call(exportRoute, `${path}?format=csv&table=nope`, { cookie: m.cookie, params: { id: requestId } })).status).toBe(404);

    // Another merchant sees nothing of it.
    const b = await createMerchant('compliance-b');
    expect((await call(exportRoute, path, { cookie: b.cookie, params: { id: requestId } })).status).toBe(404);
    expect((await call(handledRoute, `/api/privacy/requests/${requestId}/handled`, { cookie: b.cookie, body: {}, params: { id: requestId } })).status).toBe(404);

    const done = await call(handledRoute, `/api/privacy/requests/${requestId}/handled`, { cookie: m.cookie, body: {}, params: { id: requestId } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'handled' });
    const [kept] = await db()<{ c: string | null }[]>`select email_ciphertext as c from public.shopper_requests where id = ${requestId}`;
    expect(kept?.c).toBeNull();
    expect((await call(exportRoute, path, { cookie: m.cookie, params: { id: requestId } })).status).toBe(409);
    expect((await call(handledRoute, `/api/privacy/requests/${requestId}/handled`, { cookie: m.cookie, body: {}, params: { id: requestId } })).status).toBe(409);
  });

  it('erases the shopper on customers/redact, once, and keeps the count of what changed', async () => {
    // A data request still open for them is closed by the erasure: there is nothing left to send.
    expect((await send('customers-data-request.json', 'customers/data_request')).status).toBe(200);
    const id = randomUUID();
    expect((await send('customers-redact.json', 'customers/redact', { deliveryId: id })).status).toBe(200);
    const [john] = await db()<{ n: number }[]>`select count(*)::int as n from public.customers where user_id = ${m.userId} and email = ${JOHN}`;
    expect(john?.n).toBe(0);
    const [order] = await db()<{ email: string }[]>`select email from public.orders where user_id = ${m.userId} and shop_order_id = '299938'`;
    expect(order?.email).toMatch(/^erased-.*@erased\.invalid$/);
    const [r] = await db()<{ status: string; result: { journey: { customers: number } } }[]>`
      select status, result from public.shopper_requests where user_id = ${m.userId} and topic = 'customers/redact'`;
    expect(r).toMatchObject({ status: 'done', result: { journey: { customers: 1 } } });
    const [logged] = await db()<{ details: { by: string } }[]>`
      select details from public.activity_log where user_id = ${m.userId} and action = 'customer.erased'`;
    expect(logged?.details.by).toBe('shopify');
    const open = await db()<{ status: string; c: string | null }[]>`
      select status, email_ciphertext as c from public.shopper_requests where user_id = ${m.userId} and topic = 'customers/data_request'`;
    expect(open.map((o) => o.status)).toEqual(['handled', 'handled']);
    expect(open.every((o) => o.c === null)).toBe(true);

    expect((await send('customers-redact.json', 'customers/redact', { deliveryId: id })).status).toBe(200);
    const [n] = await db()<{ n: number }[]>`select count(*)::int as n from public.shopper_requests where user_id = ${m.userId} and topic = 'customers/redact'`;
    expect(n?.n).toBe(1);
    const [jane] = await db()<{ email: string }[]>`select email from public.orders where user_id = ${m.userId} and shop_order_id = '5001'`;
    expect(jane?.email).toBe('jane@example.com');
  });

  it('deletes all of the shop\u2019s data on shop/redact and nothing of another merchant\u2019s; a repeat is acknowledged', async () => {
    const other = await createMerchant('compliance-other');
    const otherShop = 'other-compliance.myshopify.com';
    await connectShop(other, otherShop, SECRET);
    await applyOrder(other.userId, { shopOrderId: '299938', email: JOHN, total: 50, orderedAt: new Date() });

    const id = randomUUID();
    expect((await send('shop-redact.json', 'shop/redact', { deliveryId: id })).status).toBe(200);
    const tables = await db()<{ schema: string; table: string }[]>`
      select n.nspname as schema, c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('public', 'private') and c.relkind = 'r'
         and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped)`;
    const left: string[] = [];
    let others = 0;
    for (const t of tables) {
      const [mine] = await db()<{ n: number }[]>`select count(*)::int as n from ${db()(t.schema)}.${db()(t.table)} where user_id = ${m.userId}`;
      if ((mine?.n ?? 0) > 0) left.push(`${t.schema}.${t.table}`);
      const [theirs] = await db()<{ n: number }[]>`select count(*)::int as n from ${db()(t.schema)}.${db()(t.table)} where user_id = ${other.userId}`;
      others += theirs?.n ?? 0;
    }
    // The account's own settings and keys stay, and the record of this delivery.
    expect(left.sort()).toEqual(['public.merchant_credentials', 'public.merchant_settings', 'public.webhook_deliveries']);
    expect(others).toBeGreaterThan(5);
    const [o] = await db()<{ email: string }[]>`select email from public.orders where user_id = ${other.userId}`;
    expect(o?.email).toBe(JOHN);

    const again = await send('shop-redact.json', 'shop/redact', { deliveryId: id });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'duplicate' });
  });
});
