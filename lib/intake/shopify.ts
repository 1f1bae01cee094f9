import 'server-only';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isSafeNumber, parse as parseLossless } from 'lossless-json';
import { z } from 'zod';
import { toErrorBody } from '@/lib/api/errors';
import { AppError } from '@/lib/errors';
import { env } from '@/lib/env';
import { jsonb, type Tx } from '@/lib/db';
import { decryptCredential } from '@/lib/settings/integrations';
import { stripUncleanText } from '@/lib/fields';
import { shopDomainSchema } from '@/lib/settings/schemas';
import { recordDataRequest, recordRedaction, type Shopper } from '@/lib/privacy/requests';

export const ORDER_TOPICS = ['orders/create', 'orders/paid'] as const;
export const CANCEL_TOPIC = 'orders/cancelled';
export const REFUND_TOPIC = 'refunds/create';
/** Shopify's mandatory compliance topics (every public app must act on them). */
export const DATA_REQUEST_TOPIC = 'customers/data_request';
export const REDACT_TOPIC = 'customers/redact';
export const SHOP_REDACT_TOPIC = 'shop/redact';
/** Sent to the app when a store uninstalls it. */
export const APP_UNINSTALLED_TOPIC = 'app/uninstalled';

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
  /** The shop the delivery says it is from (X-Shopify-Shop-Domain, checked against the merchant's). */
  shop: string;
}

const webhookKey = z.string().regex(/^wh_[0-9a-f]{64}$/);

interface DeliveryHeaders {
  hmac: string;
  topic: string;
  deliveryId: string;
  /** X-Shopify-Shop-Domain, as a myshopify.com domain. */
  shop: string;
}

/** The headers every Shopify delivery carries; any missing or malformed one is the same 401. */
function deliveryHeaders(req: Request): DeliveryHeaders {
  const hmac = req.headers.get('x-shopify-hmac-sha256');
  const topic = req.headers.get('x-shopify-topic');
  const deliveryId = req.headers.get('x-shopify-webhook-id');
  const domain = shopDomainSchema.safeParse(req.headers.get('x-shopify-shop-domain') ?? '');
  if (!hmac || !topic || !deliveryId || deliveryId.length > 200 || !domain.success) throw invalid();
  return { hmac, topic, deliveryId, shop: domain.data };
}

/**
 * Who sent this webhook: the merchant whose address it came to (`/api/webhooks/shopify/<key>`),
 * if that merchant's secret signs the body and the shop is the one the merchant named. One
 * merchant, one secret: no other account can change the outcome. Missing headers, an unknown
 * address, an unreadable stored secret and a bad signature all get the same 401.
 */
export async function authenticateShopifyWebhook(
  tx: Tx, req: Request, rawBody: string, params: Record<string, unknown>,
): Promise<ShopifySender> {
  const key = webhookKey.safeParse(params.key);
  if (!key.success) throw invalid();
  const { hmac, topic, deliveryId, shop } = deliveryHeaders(req);
  const [row] = await tx<{ userId: string; shopDomain: string | null; ciphertext: string | null }[]>`
    select s.user_id, s.shop_domain, k.ciphertext
      from public.merchant_settings s
      left join public.merchant_credentials k on k.user_id = s.user_id and k.provider = 'shopify_webhook'
     where s.webhook_key = ${key.data}`;
  if (!row?.ciphertext) throw invalid();
  if (row.shopDomain && row.shopDomain !== shop) throw invalid();
  let secret: string;
  try {
    secret = decryptCredential(row.userId, 'shopify_webhook', row.ciphertext);
  } catch {
    // A secret that no longer decrypts (key rotated, row damaged) fails this merchant alone.
    console.error(`[webhook] stored Shopify secret of merchant ${row.userId} does not decrypt`);
    throw invalid();
  }
  if (!verifyShopifyHmac(rawBody, hmac, secret)) throw invalid();
  return { userId: row.userId, topic, deliveryId, shop };
}

/** Topics about a store's shoppers' data: every account that holds the store's data gets them. */
export const PRIVACY_TOPICS: readonly string[] = [DATA_REQUEST_TOPIC, REDACT_TOPIC, SHOP_REDACT_TOPIC];

/** A delivery to the app's address, with the merchants it is for (none: the store is no account's). */
export interface AppDelivery {
  shop: string;
  topic: string;
  deliveryId: string;
  /** The account the store is installed in first (if any), then those holding its data from before. */
  accounts: { userId: string; installed: boolean }[];
}

/**
 * Who a delivery to the app's own address (`/api/webhooks/shopify`, registered by the app for
 * every installed shop) is for: signed with the app's secret (SHOPIFY_API_SECRET), and routed
 * by the bindings OAuth made, which proved the shop is theirs. Orders, refunds and the
 * uninstall go to the one account the store is installed in; privacy requests to every
 * account holding the store's data (one whose binding was uninstalled or disconnected too).
 * A shop header cannot be borrowed: the app's secret signs for every shop, but a shop is
 * bound by OAuth, and the erasing topics must name the same shop in their signed body.
 */
export async function authenticateAppWebhook(tx: Tx, req: Request, rawBody: string): Promise<AppDelivery> {
  const secret = env().SHOPIFY_API_SECRET;
  if (!secret) throw invalid();
  const { hmac, topic, deliveryId, shop } = deliveryHeaders(req);
  if (!verifyShopifyHmac(rawBody, hmac, secret)) throw invalid();
  const accounts = await tx<{ userId: string; installed: boolean }[]>`
    select user_id, uninstalled_at is null as installed from public.shopify_installs
     where shop = ${shop} and (uninstalled_at is null or ${PRIVACY_TOPICS.includes(topic)})
     order by uninstalled_at is null desc, installed_at`;
  return { shop, topic, deliveryId, accounts };
}

/**
 * Whether an account holds anything of this shopper: a customer by email or shop id, or one of
 * the orders named. A customer's privacy request goes to an account the store is no longer
 * installed in only if so: an account that held the store once learns nothing of shoppers it
 * never had.
 */
export async function holdsShopper(tx: Tx, userId: string, payload: unknown): Promise<boolean> {
  const shopper = toShopper(shopifyCustomerRequestSchema.parse(payload));
  const [row] = await tx<{ held: boolean }[]>`
    select exists (select 1 from public.customers c
                    where c.user_id = ${userId}
                      and (c.email = public.normalize_email(${shopper.email}) or c.shopify_customer_id = ${shopper.shopCustomerId}))
        or exists (select 1 from public.orders o
                    where o.user_id = ${userId} and o.shop_order_id = any(${shopper.shopOrderIds}::text[])) as held`;
  return row?.held ?? false;
}

/**
 * Text a shopper typed can hold bytes Postgres will not store (NUL) or half a UTF-16 pair.
 * A webhook is never refused for that (the shop would retry it, then drop the subscription):
 * such characters are removed and the order applied.
 */
function cleanDeep(value: unknown): unknown {
  if (typeof value === 'string') return stripUncleanText(value);
  if (Array.isArray(value)) return value.map(cleanDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [stripUncleanText(k), cleanDeep(v)]));
  }
  return value;
}

/**
 * The shop's JSON, parsed from the raw body so ids past 2^53 (Shopify's own sample order is
 * 820982911946154508) keep every digit: a number that a double cannot hold exactly stays a
 * string. Other numbers are numbers.
 */
export function parseShopifyJson(rawBody: string): unknown {
  let parsed: unknown;
  try {
    parsed = parseLossless(rawBody, null, (digits: string) => (isSafeNumber(digits) ? Number(digits) : digits));
  } catch {
    throw new AppError('bad_request', 'Body must be valid JSON');
  }
  return cleanDeep(parsed);
}

const money = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 100_000_000) {
    ctx.addIssue({ code: 'custom', message: 'must be an amount of 0 or more' });
    return z.NEVER;
  }
  return n;
});
/** A shop id: digits as text, whatever their size (safe integers arrive as numbers). */
const shopId = z.union([z.string().min(1).max(64), z.number().int().nonnegative()]).transform(String);
const text = (max: number) => z.string().transform((v) => v.slice(0, max));

/** The parts of the shop's order JSON we use. */
export const shopifyOrderSchema = z.object({
  id: shopId,
  email: z.string().max(254).nullish(),
  total_price: money,
  currency: z.string().regex(/^[A-Z]{3}$/).default('USD'),
  created_at: z.iso.datetime({ offset: true }),
  cancelled_at: z.iso.datetime({ offset: true }).nullish(),
  customer: z
    .object({
      id: shopId.nullish(),
      email: z.string().max(254).nullish(),
      first_name: text(100).nullish(),
      last_name: text(100).nullish(),
    })
    .nullish(),
  discount_codes: z
    .array(z.object({ code: z.string().max(100), amount: money.optional(), type: z.string().max(40).optional() }))
    .max(50)
    .default([]),
  note_attributes: z
    .array(z.object({ name: text(100), value: z.union([z.string(), z.number(), z.boolean()]).nullish().transform((v) => (v == null ? '' : String(v).slice(0, 2000))) }))
    .max(100)
    .default([]),
  line_items: z
    .array(
      z.object({
        id: shopId.nullish(),
        product_id: shopId.nullish(),
        variant_id: shopId.nullish(),
        title: text(255).nullish(),
        quantity: z.number().int().min(0).max(100_000),
        price: money,
      }),
    )
    .max(1000)
    .default([]),
});
export type ShopifyOrder = z.infer<typeof shopifyOrderSchema>;

export const shopifyRefundSchema = z.object({
  id: shopId,
  order_id: shopId,
  created_at: z.iso.datetime({ offset: true }).optional(),
  transactions: z
    .array(z.object({ amount: money, kind: z.string().max(40), status: z.string().max(40).nullish() }))
    .max(100)
    .default([]),
});
export type ShopifyRefund = z.infer<typeof shopifyRefundSchema>;

/**
 * customers/data_request and customers/redact, as Shopify documents them: the shop, the
 * customer (id, email, phone) and the orders it names (orders_requested, orders_to_redact).
 */
export const shopifyCustomerRequestSchema = z.object({
  shop_domain: z.string().max(255),
  // A data request names its request (and orders_requested), an erasure its orders_to_redact:
  // which one a body is, is checked against the topic (the topic header is not signed).
  data_request: z.object({ id: shopId }).optional(),
  customer: z.object({ id: shopId.nullish(), email: z.string().max(254).nullish(), phone: z.string().max(64).nullish() }),
  orders_requested: z.array(shopId).max(10_000).optional(),
  orders_to_redact: z.array(shopId).max(10_000).optional(),
}).refine((b) => Boolean(b.customer.email?.trim()) || b.customer.id != null, { message: 'names no customer', path: ['customer'] });

export function toShopper(body: z.infer<typeof shopifyCustomerRequestSchema>): Shopper {
  return {
    email: body.customer.email?.trim().toLowerCase() || null,
    shopCustomerId: body.customer.id ?? null,
    shopOrderIds: body.orders_to_redact ?? body.orders_requested ?? [],
  };
}

/** The order in the shape private.apply_order takes. */
export function toOrderInput(order: ShopifyOrder) {
  const attrs = Object.fromEntries(order.note_attributes.map((a) => [a.name, a.value]));
  return {
    shopOrderId: order.id,
    email: order.email || order.customer?.email || null,
    total: order.total_price,
    currency: order.currency,
    orderedAt: order.created_at,
    cancelledAt: order.cancelled_at ?? null,
    shopCustomerId: order.customer?.id ?? null,
    firstName: order.customer?.first_name ?? null,
    lastName: order.customer?.last_name ?? null,
    utm: { source: attrs.utm_source?.slice(0, 200) ?? null, medium: attrs.utm_medium?.slice(0, 200) ?? null, campaign: attrs.utm_campaign?.slice(0, 200) ?? null },
    discountCodes: order.discount_codes.map((d) => ({ code: d.code, amount: d.amount ?? null, type: d.type ?? null })),
    noteAttributes: attrs,
    lineItems: order.line_items.map((li) => ({
      shopLineId: li.id ?? null,
      productId: li.product_id ?? null,
      variantId: li.variant_id ?? null,
      title: li.title ?? null,
      quantity: li.quantity,
      price: li.price,
    })),
  };
}

/** What a refund gave back: its successful refund transactions (Shopify's own definition). */
export function refundAmount(refund: ShopifyRefund): number {
  const cents = refund.transactions
    .filter((t) => t.kind === 'refund' && (t.status == null || t.status === 'success'))
    .reduce((sum, t) => sum + Math.round(t.amount * 100), 0);
  return cents / 100;
}

type DeliveryResult = { status: 'processed' | 'ignored' | 'duplicate'; detail?: unknown };

/**
 * Shopify signs a delivery's body, not its headers: one app secret signs for every shop, so
 * the shop a body names must be the shop the headers route it to, or a body from one store
 * could be replayed as another's. The topics that erase or disconnect carry their shop in the
 * body (shop_domain; app/uninstalled's myshopify_domain, when set); a mismatch is refused as
 * unsigned.
 */
function assertSameShop(named: string, sender: ShopifySender): void {
  if (named.trim().toLowerCase() !== sender.shop) throw invalid();
}
/** shop/redact's body is the shop alone: a body about a customer is not one. */
const shopRedactSchema = z.object({ shop_domain: z.string().max(255), customer: z.never().optional() });
/** app/uninstalled's body is the shop object. */
const appUninstalledSchema = z.object({ id: shopId, myshopify_domain: z.string().max(255) });

/**
 * Apply one webhook delivery exactly once: the delivery id goes into the inbox in the same
 * transaction as its effect, so a replay is acknowledged and changes nothing. Topics we do not
 * use, and orders without an email, answer 200 with the reason recorded.
 */
export async function processShopifyDelivery(tx: Tx, sender: ShopifySender, payload: unknown): Promise<DeliveryResult> {
  const record = async (outcome: string, resource: string | null): Promise<boolean> =>
    (await tx`
      insert into public.webhook_deliveries (user_id, delivery_id, topic, shop_resource_id, outcome)
      values (${sender.userId}, ${sender.deliveryId}, ${sender.topic}, ${resource}, ${outcome})
      on conflict (user_id, delivery_id) do nothing
      returning delivery_id`).length > 0;
  const apply = async (fn: 'apply_order' | 'apply_cancellation' | 'apply_refund', input: object): Promise<DeliveryResult> => {
    const [r] = await tx<{ result: unknown }[]>`select private.${tx(fn)}(${sender.userId}, ${jsonb(tx, input)}) as result`;
    return { status: 'processed', detail: r?.result };
  };

  const isOrder = (ORDER_TOPICS as readonly string[]).includes(sender.topic);
  if (isOrder || sender.topic === CANCEL_TOPIC) {
    const order = shopifyOrderSchema.parse(payload);
    const input = toOrderInput(order);
    if (!input.email && isOrder) {
      return (await record('ignored_no_email', order.id)) ? { status: 'ignored', detail: 'order has no email' } : { status: 'duplicate' };
    }
    // Shopify signs the body, not the topic header: a cancellation is only believed when the
    // order itself says it was cancelled, so a replayed orders/create cannot cancel a live order.
    if (!isOrder && !order.cancelled_at) {
      return (await record('ignored_not_cancelled', order.id)) ? { status: 'ignored', detail: 'the order is not cancelled' } : { status: 'duplicate' };
    }
    if (!(await record('applied', order.id))) return { status: 'duplicate' };
    return apply(isOrder ? 'apply_order' : 'apply_cancellation', input);
  }
  if (sender.topic === REFUND_TOPIC) {
    const refund = shopifyRefundSchema.parse(payload);
    if (!(await record('applied', refund.order_id))) return { status: 'duplicate' };
    return apply('apply_refund', {
      shopRefundId: refund.id, shopOrderId: refund.order_id, amount: refundAmount(refund), refundedAt: refund.created_at ?? null,
    });
  }
  if (sender.topic === DATA_REQUEST_TOPIC || sender.topic === REDACT_TOPIC) {
    const request = shopifyCustomerRequestSchema.parse(payload);
    assertSameShop(request.shop_domain, sender);
    const isRedact = sender.topic === REDACT_TOPIC;
    if (isRedact ? request.orders_to_redact === undefined || request.data_request !== undefined : request.orders_to_redact !== undefined) {
      throw invalid();
    }
    const shopper = toShopper(request);
    // The inbox names no shopper: the shop's customer id is theirs.
    if (!(await record('applied', null))) return { status: 'duplicate' };
    const done = sender.topic === REDACT_TOPIC
      ? await recordRedaction(tx, sender.userId, sender.deliveryId, shopper)
      : await recordDataRequest(tx, sender.userId, sender.deliveryId, shopper);
    return { status: 'processed', detail: done };
  }
  if (sender.topic === APP_UNINSTALLED_TOPIC) {
    assertSameShop(appUninstalledSchema.parse(payload).myshopify_domain, sender);
    if (!(await record('applied', null))) return { status: 'duplicate' };
    const [r] = await tx<{ changed: boolean }[]>`select private.shopify_uninstalled(${sender.userId}) as changed`;
    return { status: 'processed', detail: { disconnected: r?.changed ?? false } };
  }
  if (sender.topic === SHOP_REDACT_TOPIC) {
    assertSameShop(shopRedactSchema.parse(payload).shop_domain, sender);
    const [seen] = await tx`select 1 from public.webhook_deliveries where user_id = ${sender.userId} and delivery_id = ${sender.deliveryId}`;
    if (seen) return { status: 'duplicate' };
    // All of the shop's data goes, the inbox and the app's binding included (the store is
    // free for another account); the token first. Then this delivery is recorded, so a repeat is one.
    await tx`select private.shopify_uninstalled(${sender.userId})`;
    const [r] = await tx<{ n: string }[]>`select private.shop_redact(${sender.userId})::text as n`;
    await record('applied', null);
    return { status: 'processed', detail: { deleted: Number(r?.n ?? 0) } };
  }
  return (await record('ignored_topic', null)) ? { status: 'ignored', detail: `topic ${sender.topic} is not used` } : { status: 'duplicate' };
}

/**
 * A delivery to the app's address, for each account it is for (AppDelivery.accounts): orders
 * to the installed one, a customer's request also to an earlier account only if it holds that
 * shopper. Each account on its own savepoint, so one account's failure neither undoes nor
 * blocks another's: what succeeded is kept (a retry finds it done, each inbox keyed on the
 * delivery id) and the failure asks Shopify to send it again (503).
 */
export async function processAppDelivery(tx: Tx, delivery: AppDelivery, rawBody: string): Promise<unknown> {
  if (delivery.accounts.length === 0) return { status: 'ignored', detail: 'the shop is not connected to an account' };
  const payload = parseShopifyJson(rawBody);
  const aboutShopper = delivery.topic === DATA_REQUEST_TOPIC || delivery.topic === REDACT_TOPIC;
  const results: DeliveryResult[] = [];
  let failed = 0;
  for (const { userId, installed } of delivery.accounts) {
    const to = { userId, topic: delivery.topic, deliveryId: delivery.deliveryId, shop: delivery.shop };
    try {
      const result = await tx.savepoint(async (sp) =>
        (!installed && aboutShopper && !(await holdsShopper(sp, userId, payload)) ? null : processShopifyDelivery(sp, to, payload)));
      if (result) results.push(result);
    } catch (err) {
      // The delivery's own faults (signature, shape, a value the schema refuses) are the same for
      // every account, and answered as such (4xx); so is anything when one account is all there is.
      if (delivery.accounts.length === 1 || toErrorBody(err).status < 500) throw err;
      console.error(`[webhook] ${delivery.topic} for merchant ${userId} failed`, err);
      failed += 1;
    }
  }
  if (failed > 0) return Response.json({ error: 'Some accounts could not take this delivery; it will be retried', code: 'busy' }, { status: 503 });
  if (results.length === 0) return { status: 'ignored', detail: 'no account holds this shopper' };
  return results.length === 1 ? results[0] : { status: 'processed', detail: results };
}
