import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '@/lib/db';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { connectShop, deliver, shopifyWebhook } from '@/tests/helpers/shopify';

// Shopify's own documented sample payloads (tests/fixtures/shopify/README.md says where from),
// sent byte for byte as the shop's "Send test notification" would.
const sample = (name: string) => readFileSync(`tests/fixtures/shopify/${name}.json`, 'utf8');
const SHOP = 'samples-test.myshopify.com';
const SECRET = 'shpss_samples_secret_0123456789';
const ORDER_ID = '820982911946154508';
let m: TestMerchant;
let address: { path: string; key: string };

beforeAll(async () => {
  m = await createMerchant('samples');
  address = await connectShop(m, SHOP, SECRET);
});

const send = (raw: string, topic: string, deliveryId: string) => {
  return deliver(address, shopifyWebhook(raw, { secret: SECRET, shop: SHOP, topic, deliveryId }));
};

async function customer() {
  const [c] = await db()<{ totalOrders: number; lifetimeValue: number; stage: string; shopifyCustomerId: string | null }[]>`
    select total_orders, lifetime_value, stage, shopify_customer_id from public.customers
     where user_id = ${m.userId} and email = 'jon@example.com'`;
  return c;
}

describe("Shopify's sample webhooks, applied once each", () => {
  it('orders/create keeps every digit of the order, customer and line item ids', async () => {
    const res = await send(sample('orders-create'), 'orders/create', 'sample-create');
    expect(res.status).toBe(200);
    // The sample order was placed in 2021: 180 days without activity make the buyer churned.
    expect(res.body).toMatchObject({ status: 'processed', detail: { applied: true, stage: 'churned' } });
    expect(await customer()).toEqual({
      totalOrders: 1, lifetimeValue: 404.95, stage: 'churned', shopifyCustomerId: '115310627314723954',
    });
    const [order] = await db()<{ shopOrderId: string; subtotal: number; itemCount: number; cancelledAt: string | null }[]>`
      select shop_order_id, subtotal, item_count, cancelled_at from public.orders where user_id = ${m.userId}`;
    // The sample carries a cancelled_at even on orders/create: only orders/cancelled cancels.
    expect(order).toEqual({ shopOrderId: ORDER_ID, subtotal: 414.95, itemCount: 5, cancelledAt: null });
    const lines = await db()<{ shopLineId: string }[]>`
      select l.shop_line_id from public.order_lines l join public.orders o on o.user_id = l.user_id and o.id = l.order_id
       where o.user_id = ${m.userId} and o.shop_order_id = ${ORDER_ID} order by l.line_no`;
    expect(lines.map((l) => l.shopLineId)).toEqual([
      '487817672276298554', '789012345678901234', '890123456789012345', '976318377106520349', '315789986012684393',
    ]);
  });

  it('orders/paid for the same order is acknowledged and changes nothing', async () => {
    const res = await send(sample('orders-paid'), 'orders/paid', 'sample-paid');
    expect(res.body).toMatchObject({ status: 'processed', detail: { applied: false, reason: 'duplicate_order' } });
    expect(await customer()).toMatchObject({ totalOrders: 1, lifetimeValue: 404.95 });
  });

  it('refunds/create takes the successful refund transactions (75.00 + 10.00)', async () => {
    const res = await send(sample('refunds-create'), 'refunds/create', 'sample-refund');
    expect(res.body).toMatchObject({ status: 'processed', detail: { applied: true, amount: 85 } });
    expect(await customer()).toMatchObject({ totalOrders: 1, lifetimeValue: 319.95 });
    const [refund] = await db()<{ shopRefundId: string; shopOrderId: string }[]>`
      select shop_refund_id, shop_order_id from public.order_refunds where user_id = ${m.userId}`;
    expect(refund).toEqual({ shopRefundId: '890088186047892319', shopOrderId: ORDER_ID });
  });

  it('orders/cancelled reverses what the order still counts, once', async () => {
    const res = await send(sample('orders-cancelled'), 'orders/cancelled', 'sample-cancel');
    expect(res.body).toMatchObject({ status: 'processed', detail: { applied: true } });
    expect(await customer()).toMatchObject({ totalOrders: 0, lifetimeValue: 0, stage: 'visitor' });
    const again = await send(sample('orders-cancelled'), 'orders/cancelled', 'sample-cancel-2');
    expect(again.body).toMatchObject({ status: 'processed', detail: { applied: false, reason: 'already_cancelled' } });
    expect(await customer()).toMatchObject({ totalOrders: 0, lifetimeValue: 0 });
  });

  it('answers a replay of every delivery with duplicate, and a topic it does not use with 200 and the reason', async () => {
    for (const [name, topic, id] of [['orders-create', 'orders/create', 'sample-create'], ['refunds-create', 'refunds/create', 'sample-refund'],
      ['orders-cancelled', 'orders/cancelled', 'sample-cancel']] as const) {
      expect((await send(sample(name), topic, id)).body).toEqual({ status: 'duplicate' });
    }
    const unused = await send(sample('orders-create'), 'orders/fulfilled', 'sample-fulfilled');
    expect(unused.status).toBe(200);
    expect(unused.body).toEqual({ status: 'ignored', detail: 'topic orders/fulfilled is not used' });
    const [row] = await db()<{ outcome: string }[]>`
      select outcome from public.webhook_deliveries where user_id = ${m.userId} and delivery_id = 'sample-fulfilled'`;
    expect(row?.outcome).toBe('ignored_topic');
    expect(await customer()).toMatchObject({ totalOrders: 0, lifetimeValue: 0 });
  });

  it('cleans a NUL byte or a lone surrogate in a field a shopper controls and applies the order', async () => {
    const raw = sample('orders-create')
      .replace(`"id": ${ORDER_ID}`, '"id": 820982911946154599')
      .replace('"first_name": "John"', '"first_name": "Jo\\u0000hn\\ud800"');
    expect(raw).toContain('820982911946154599');
    const res = await send(raw, 'orders/create', 'sample-nul');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'processed', detail: { applied: true } });
  });
});
