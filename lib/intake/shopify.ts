import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '@/lib/api/errors';
import type { Tx } from '@/lib/db';
import { decryptCredential } from '@/lib/settings/integrations';
import { shopDomainSchema } from '@/lib/settings/schemas';

export const ORDER_TOPICS = ['orders/create', 'orders/paid'] as const;
export const REFUND_TOPIC = 'refunds/create';

const invalid = () => new AppError('unauthorized', 'Invalid webhook signature');

/** Base64 HMAC-SHA256 of the raw body, compared in constant time; any malformed header fails. */
export function verifyShopifyHmac(rawBody: string, header: string, secret: string): boolean {
  const expected = createHmac('sha256', secret).update(rawBody, 'utf8').digest();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(header)) return false;
  const given = Buffer.from(header, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface ShopifySender {
  userId: string;
  topic: string;
  deliveryId: string;
}

/**
 * Who sent this webhook: the merchant whose shop domain matches and whose stored secret signs
 * the body. Missing headers, an unknown shop and a bad signature all get the same 401.
 */
export async function authenticateShopifyWebhook(tx: Tx, req: Request, rawBody: string): Promise<ShopifySender> {
  const hmac = req.headers.get('x-shopify-hmac-sha256');
  const topic = req.headers.get('x-shopify-topic');
  const deliveryId = req.headers.get('x-shopify-webhook-id');
  const domain = shopDomainSchema.safeParse(req.headers.get('x-shopify-shop-domain') ?? '');
  if (!hmac || !topic || !deliveryId || deliveryId.length > 200 || !domain.success) throw invalid();
  // Every merchant claiming this shop is a candidate; only the one whose secret signs the body
  // is the sender (a claim alone proves nothing).
  const rows = await tx<{ user_id: string; ciphertext: string; verified: boolean }[]>`
    select s.user_id, k.ciphertext, s.shop_verified_at is not null as verified
      from public.merchant_settings s
      join public.merchant_credentials k on k.user_id = s.user_id and k.provider = 'shopify_webhook'
     where s.shop_domain = ${domain.data}
     order by s.shop_verified_at desc nulls last, s.created_at
     limit 50`;
  const found = rows
    .map((r) => ({ userId: r.user_id, verified: r.verified, secret: decryptCredential(r.user_id, 'shopify_webhook', r.ciphertext) }))
    .find((c) => verifyShopifyHmac(rawBody, hmac, c.secret));
  if (!found) throw invalid();
  // A signature proves the shop: this merchant is tried first from now on, whoever else claims
  // it. Written once only: every webhook updating the settings row would serialize them all.
  if (!found.verified) {
    await tx`update public.merchant_settings set shop_verified_at = now() where user_id = ${found.userId} and shop_verified_at is null`;
  }
  return { userId: found.userId, topic, deliveryId };
}

const money = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 100_000_000) {
    ctx.addIssue({ code: 'custom', message: 'must be an amount of 0 or more' });
    return z.NEVER;
  }
  return n;
});
const shopId = z.union([z.string().min(1).max(64), z.number().int()]).transform(String);

/** The parts of the shop's order JSON we use. */
export const shopifyOrderSchema = z.object({
  id: shopId,
  email: z.string().max(254).nullish(),
  total_price: money,
  currency: z.string().regex(/^[A-Z]{3}$/).default('USD'),
  created_at: z.iso.datetime({ offset: true }),
  customer: z
    .object({
      id: shopId.nullish(),
      email: z.string().max(254).nullish(),
      first_name: z.string().max(100).nullish(),
      last_name: z.string().max(100).nullish(),
    })
    .nullish(),
  discount_codes: z.array(z.object({ code: z.string().max(100), amount: money.optional(), type: z.string().max(40).optional() })).max(50).default([]),
  note_attributes: z.array(z.object({ name: z.string().max(100), value: z.union([z.string(), z.number()]).transform(String) })).max(100).default([]),
  line_items: z
    .array(z.object({ product_id: shopId.nullish(), quantity: z.number().int().min(0).max(100_000), price: money }))
    .max(1000)
    .default([]),
});
export type ShopifyOrder = z.infer<typeof shopifyOrderSchema>;

export const shopifyRefundSchema = z.object({
  id: shopId,
  order_id: shopId,
  created_at: z.iso.datetime({ offset: true }).optional(),
  transactions: z
    .array(z.object({ amount: money, kind: z.string().max(40), status: z.string().max(40).optional() }))
    .max(100)
    .default([]),
});

/** The order in the shape private.apply_order takes. */
export function toOrderInput(order: ShopifyOrder) {
  const attrs = Object.fromEntries(order.note_attributes.map((a) => [a.name, a.value]));
  return {
    shopOrderId: order.id,
    email: order.email ?? order.customer?.email ?? null,
    total: order.total_price,
    currency: order.currency,
    orderedAt: order.created_at,
    shopCustomerId: order.customer?.id ?? null,
    firstName: order.customer?.first_name ?? null,
    lastName: order.customer?.last_name ?? null,
    utm: { source: attrs.utm_source?.slice(0, 200) ?? null, medium: attrs.utm_medium?.slice(0, 200) ?? null, campaign: attrs.utm_campaign?.slice(0, 200) ?? null },
    discountCodes: order.discount_codes.map((d) => ({ code: d.code, amount: d.amount ?? null, type: d.type ?? null })),
    noteAttributes: attrs,
    lineItems: order.line_items.map((li) => ({ productId: li.product_id ?? null, quantity: li.quantity, price: li.price })),
  };
}

/**
 * Apply one webhook delivery exactly once: the delivery id goes into the inbox in the same
 * transaction as the order, so a replay is acknowledged and changes nothing.
 */
export async function processShopifyDelivery(tx: Tx, sender: ShopifySender, payload: unknown): Promise<{ status: string; detail?: unknown }> {
  const record = (outcome: string, resource: string | null) => tx<{ delivery_id: string }[]>`
    insert into public.webhook_deliveries (user_id, delivery_id, topic, shop_resource_id, outcome)
    values (${sender.userId}, ${sender.deliveryId}, ${sender.topic}, ${resource}, ${outcome})
    on conflict (user_id, delivery_id) do nothing
    returning delivery_id`;

  if ((ORDER_TOPICS as readonly string[]).includes(sender.topic)) {
    const order = shopifyOrderSchema.parse(payload);
    const input = toOrderInput(order);
    if (!input.email) {
      return (await record('ignored_no_email', order.id)).length ? { status: 'ignored', detail: 'order has no email' } : { status: 'duplicate' };
    }
    if ((await record('applied', order.id)).length === 0) return { status: 'duplicate' };
    const [r] = await tx<{ result: unknown }[]>`select private.apply_order(${sender.userId}, ${tx.json(input)}) as result`;
    return { status: 'processed', detail: r?.result };
  }
  if (sender.topic === REFUND_TOPIC) {
    const refund = shopifyRefundSchema.parse(payload);
    const amount = refund.transactions
      .filter((t) => t.kind === 'refund' && (t.status === undefined || t.status === 'success'))
      .reduce((sum, t) => sum + t.amount, 0);
    if ((await record('applied', refund.order_id)).length === 0) return { status: 'duplicate' };
    const input = { shopRefundId: refund.id, shopOrderId: refund.order_id, amount, refundedAt: refund.created_at ?? null };
    const [r] = await tx<{ result: unknown }[]>`select private.apply_refund(${sender.userId}, ${tx.json(input)}) as result`;
    return { status: 'processed', detail: r?.result };
  }
  return (await record('ignored_topic', null)).length ? { status: 'ignored', detail: `topic ${sender.topic} is not used` } : { status: 'duplicate' };
}
