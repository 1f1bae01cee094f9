import 'server-only';
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { csvResponse, downloadResponse, toCsv } from '@/lib/csv';
import { decryptSecret, encryptionKey, encryptSecret } from '@/lib/crypto/secrets';
import { asServer, fieldsOf, type Tx } from '@/lib/db';
import { AppError } from '@/lib/errors';
import { eraseShopper } from '@/lib/privacy/erase';
import { shopperRequestSchema, type ShopperRequest, type ShopperRequestList } from '@/lib/privacy/schemas';

/**
 * Shopify's compliance webhooks for one shopper (see migration shopper_requests): a data
 * request is kept open, its export downloadable, until the merchant marks it handled; an
 * erasure is carried out when it arrives. Each is recorded once per webhook id, without the
 * shopper in clear: a keyed hash of the email recognises a repeat, and a data request keeps
 * who it is about only encrypted, until it is handled.
 */
const REQUEST = fieldsOf(shopperRequestSchema);

/** Who a request is about, as the shop names them. */
export interface Shopper {
  email: string | null;
  shopCustomerId: string | null;
  shopOrderIds: string[];
}
const shopperSchema = z.object({ email: z.string().nullable(), shopCustomerId: z.string().nullable(), shopOrderIds: z.array(z.string()) });

/** HMAC-SHA256 of the normalised email (or, without one, the shop's customer id) under a key derived from the server's. */
export function shopperHash(s: Pick<Shopper, 'email' | 'shopCustomerId'>): string {
  const key = createHmac('sha256', encryptionKey()).update('shopper-request').digest();
  const subject = s.email ? `email:${s.email.trim().toLowerCase()}` : `shop-customer:${s.shopCustomerId ?? ''}`;
  return createHmac('sha256', key).update(subject).digest('hex');
}

const context = (userId: string, deliveryId: string) => `${userId}:shopper_request:${deliveryId}`;

async function customerOf(tx: Tx, userId: string, s: Shopper): Promise<string | null> {
  const [c] = await tx<{ id: string }[]>`
    select id from public.customers
     where user_id = ${userId} and (email = lower(btrim(${s.email ?? ''})) or shopify_customer_id = ${s.shopCustomerId})
     order by email = lower(btrim(${s.email ?? ''})) desc limit 1`;
  return c?.id ?? null;
}

/** customers/data_request: recorded open, with who it is about encrypted for its export. */
export async function recordDataRequest(tx: Tx, userId: string, deliveryId: string, s: Shopper): Promise<{ requestId: string }> {
  const customerId = await customerOf(tx, userId, s);
  const [row] = await tx<{ id: string }[]>`
    insert into public.shopper_requests (user_id, topic, delivery_id, email_hash, email_ciphertext, customer_id, orders_named, status)
    values (${userId}, 'customers/data_request', ${deliveryId}, ${shopperHash(s)},
            ${encryptSecret(JSON.stringify(s), context(userId, deliveryId))}, ${customerId}, ${s.shopOrderIds.length}, 'open')
    returning id`;
  return { requestId: row?.id ?? '' };
}

/** customers/redact: the shopper is erased everywhere, now, in this transaction; the record keeps the counts. */
export async function recordRedaction(tx: Tx, userId: string, deliveryId: string, s: Shopper): Promise<{ requestId: string }> {
  const erasure = await eraseShopper(tx, userId, s, 'shopify');
  const [row] = await tx<{ id: string }[]>`
    insert into public.shopper_requests (user_id, topic, delivery_id, email_hash, customer_id, orders_named, status, result)
    values (${userId}, 'customers/redact', ${deliveryId}, ${shopperHash(s)}, ${erasure.customerId}, ${s.shopOrderIds.length}, 'done',
            ${tx.json(erasure.modules)})
    returning id`;
  return { requestId: row?.id ?? '' };
}

/** The merchant's requests, newest first (at most 200: requests are rare), and how many are open. */
export async function listRequests(tx: Tx, userId: string): Promise<ShopperRequestList> {
  const requests = await tx<ShopperRequest[]>`
    select ${tx(REQUEST)} from public.shopper_requests where user_id = ${userId}
     order by received_at desc, id desc limit 200`;
  const [open] = await tx<{ n: number }[]>`
    select count(*)::int as n from public.shopper_requests where user_id = ${userId} and status = 'open'`;
  return { requests, open: open?.n ?? 0 };
}

/** The export a data request asks for: the shopper's data from every module, as of now. */
async function requestData(tx: Tx, userId: string, id: string): Promise<{ data: Record<string, unknown>; request: ShopperRequest }> {
  const [request] = await tx<(ShopperRequest & { deliveryId: string })[]>`
    select ${tx(REQUEST)}, delivery_id from public.shopper_requests where user_id = ${userId} and id = ${id}`;
  if (!request) throw new AppError('not_found', 'Request not found');
  if (request.topic !== 'customers/data_request') throw new AppError('conflict', 'Only a data request has an export');
  // The encrypted part is never readable by the merchant's role: read it as the server.
  const [secret] = await asServer(tx, () => tx<{ c: string | null }[]>`
    select email_ciphertext as c from public.shopper_requests where user_id = ${userId} and id = ${id}`);
  if (!secret?.c) throw new AppError('conflict', 'This request was handled; its export is no longer kept');
  const s = shopperSchema.parse(JSON.parse(decryptSecret(secret.c, context(userId, request.deliveryId))));
  let email = s.email;
  if (!email && s.shopCustomerId) {
    const [c] = await tx<{ email: string }[]>`
      select email from public.customers where user_id = ${userId} and shopify_customer_id = ${s.shopCustomerId}`;
    email = c?.email ?? null;
  }
  const [row] = email
    ? await asServer(tx, () => tx<{ e: Record<string, unknown> }[]>`select private.shopper_export(${userId}, ${email}) as e`)
    : [{ e: { email: null, customerId: null, modules: {} } }];
  return { data: { ...(row?.e ?? {}), shopCustomerId: s.shopCustomerId, ordersRequested: s.shopOrderIds }, request };
}


/** The data request's export: all of it as JSON, or one table as CSV (its columns, one row each). */
export async function requestExport(tx: Tx, userId: string, id: string, q: { format: 'json' | 'csv'; table?: string }): Promise<Response> {
  const { data } = await requestData(tx, userId, id);
  await tx`select public.log_activity(${userId}, 'privacy.request_exported', 'shopper_request', ${id}, ${tx.json({ format: q.format, table: q.table ?? null })})`;
  if (q.format === 'json') return downloadResponse(JSON.stringify(data, null, 2), 'application/json; charset=utf-8', `data-request-${id}.json`);
  const modules = (data.modules ?? {}) as Record<string, Record<string, Record<string, unknown>[]>>;
  const rows = Object.values(modules).map((m) => m[q.table ?? '']).find((t) => t !== undefined);
  if (!rows) throw new AppError('not_found', 'No such table in this export');
  const header = [...new Set(rows.flatMap((r) => Object.keys(r)))].sort();
  const cell = (v: unknown) => (v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : typeof v === 'number' ? v : String(v));
  return csvResponse(toCsv(header, rows.map((r) => header.map((h) => cell(r[h])))), `data-request-${id}-${q.table}.csv`);
}

/** The merchant has answered the request: it is closed, and who it was about is let go. */
export async function markHandled(tx: Tx, userId: string, id: string): Promise<ShopperRequest> {
  const [row] = await asServer(tx, () => tx<ShopperRequest[]>`
    update public.shopper_requests set status = 'handled', handled_at = now(), email_ciphertext = null
     where user_id = ${userId} and id = ${id} and topic = 'customers/data_request' and status = 'open'
    returning ${tx(REQUEST)}`);
  if (!row) {
    const [exists] = await tx`select 1 from public.shopper_requests where user_id = ${userId} and id = ${id}`;
    if (exists) throw new AppError('conflict', 'Only an open data request can be marked handled');
    throw new AppError('not_found', 'Request not found');
  }
  await tx`select public.log_activity(${userId}, 'privacy.request_handled', 'shopper_request', ${id}, '{}'::jsonb)`;
  return row;
}
