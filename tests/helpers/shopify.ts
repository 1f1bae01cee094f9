import { createHmac, randomUUID } from 'node:crypto';
import { PUT as putIntegrations } from '@/app/api/settings/integrations/route';
import { POST as webhookRoute } from '@/app/api/webhooks/shopify/[key]/route';
import type { IntegrationsView } from '@/lib/settings/schemas';
import { call } from '@/tests/helpers/http';
import type { TestMerchant } from '@/tests/helpers/merchants';

/**
 * Stands in for the shop: builds order webhooks as Shopify documents them (JSON body,
 * X-Shopify-* headers, base64 HMAC-SHA256 of the raw body with the app's secret).
 */
export function shopifyWebhook(body: unknown, opts: { secret: string; shop: string; topic?: string; deliveryId?: string }) {
  // A string is sent as it is (Shopify's sample payloads, whose ids JSON.stringify would round).
  const rawBody = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    rawBody,
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': opts.topic ?? 'orders/create',
      'x-shopify-shop-domain': opts.shop,
      'x-shopify-webhook-id': opts.deliveryId ?? randomUUID(),
      'x-shopify-hmac-sha256': createHmac('sha256', opts.secret).update(rawBody).digest('base64'),
    },
  };
}

export function shopifyOrder(id: number | string, email: string, total: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    email,
    total_price: total,
    currency: 'USD',
    created_at: new Date(Date.now() - 60 * 60 * 1000).toISOString(),
    customer: { id: 7000 + Number(String(id).replace(/\D/g, '') || 0), email, first_name: 'Ada', last_name: 'Shopper' },
    discount_codes: [],
    note_attributes: [],
    line_items: [{ product_id: 111, quantity: 1, price: total }],
    ...extra,
  };
}

/**
 * Connect a merchant's shop the way a merchant does: through the settings route. Returns the
 * webhook address Settings shows, as the path the shop posts to and its `key` parameter.
 */
export async function connectShop(m: TestMerchant, shop: string, secret: string): Promise<{ path: string; key: string }> {
  const res = await call<IntegrationsView>(putIntegrations, '/api/settings/integrations', {
    method: 'PUT',
    cookie: m.cookie,
    body: { shopifyShopDomain: shop, shopifyWebhookSecret: secret },
  });
  if (res.status !== 200) throw new Error(`could not connect shop: ${JSON.stringify(res.body)}`);
  const path = new URL(res.body.shopify.webhookUrl).pathname;
  return { path, key: path.split('/').at(-1) ?? '' };
}

/** Deliver a webhook to the real route at a merchant's address, as the shop does. */
export function deliver(address: { path: string; key: string }, w: { rawBody: string; headers: Record<string, string> }) {
  return call<Record<string, unknown>>(webhookRoute, address.path, {
    rawBody: w.rawBody, headers: w.headers, noOrigin: true, params: { key: address.key },
  });
}
