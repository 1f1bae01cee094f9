import 'server-only';
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { toErrorBody } from '@/lib/api/errors';
import { AppError } from '@/lib/errors';
import { assertSameOrigin, clientIp, isMutation, queryObject, readJsonBody, readRawBody } from '@/lib/api/request';
import { getMerchant, type Merchant } from '@/lib/auth';
import { applyCookies, cookieJarFromRequest, type CookieJar } from '@/lib/auth/cookies';
import { db, withSystem, withTenant, type Tx } from '@/lib/db';
import { env } from '@/lib/env';
import { safeEqual } from '@/lib/crypto/secrets';

/** What Next passes as the second argument of a route handler (params is a Promise since Next 15). */
export interface RouteContext {
  params: Promise<Record<string, string | string[] | undefined>>;
}
export type RouteHandler = (req: Request, ctx: RouteContext) => Promise<Response>;

interface Schemas {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
}
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
interface Parsed<S extends Schemas> {
  params: Out<S['params']>;
  query: Out<S['query']>;
  body: Out<S['body']>;
}

export interface MerchantContext<S extends Schemas> extends Parsed<S> {
  req: Request;
  tx: Tx;
  merchant: Merchant;
  cookies: CookieJar;
}

export interface PublicContext<S extends Schemas> extends Parsed<S> {
  req: Request;
  tx: Tx;
  cookies: CookieJar;
  ip: string;
}

/** JSON response with a status (handlers may also return a plain value for 200). */
export function json(data: unknown, status = 200, headers?: Record<string, string>): Response {
  return jsonResponse(data, { status, headers });
}

/**
 * A JSON response; one under 1 KB says `Cache-Control: no-transform`. The production server
 * gzips every body it streams, whatever its size (it does not pass a route's Content-Length on),
 * and most answers here are a few dozen bytes (a webhook's acknowledgement), where gzip costs
 * the server's one thread more than it saves the wire. Larger answers (lists) are still
 * compressed. API answers are never cached anyway.
 */
export function jsonResponse(body: unknown, init: ResponseInit = {}): Response {
  const text = JSON.stringify(body);
  const headers = new Headers(init.headers);
  headers.set('content-type', 'application/json');
  if (Buffer.byteLength(text) < 1024 && !headers.has('cache-control')) headers.set('cache-control', 'no-store, no-transform');
  return new Response(text, { ...init, headers });
}

function toResponse(result: unknown): Response {
  if (result instanceof Response) return result;
  if (result === undefined) return new Response(null, { status: 204 });
  return jsonResponse(result);
}

export function errorResponse(err: unknown): Response {
  const { status, body, headers } = toErrorBody(err);
  return jsonResponse(body, { status, headers });
}

async function parse<S extends Schemas>(schemas: S, req: Request, ctx: RouteContext): Promise<Parsed<S>> {
  const params = schemas.params ? schemas.params.parse(await ctx.params) : undefined;
  const query = schemas.query ? schemas.query.parse(queryObject(req)) : undefined;
  const body = schemas.body ? schemas.body.parse(await readJsonBody(req)) : undefined;
  return { params, query, body } as Parsed<S>;
}

/**
 * Dashboard API: same-origin check on mutations, session, zod parse of params, query and
 * body, then the handler inside one tenant-scoped transaction (RLS on).
 */
export function withMerchant<S extends Schemas>(
  schemas: S,
  handler: (ctx: MerchantContext<S>) => Promise<unknown>,
): RouteHandler {
  return async (req, ctx) => {
    const cookies = cookieJarFromRequest(req);
    try {
      assertSameOrigin(req);
      const merchant = await getMerchant(cookies);
      if (!merchant) throw new AppError('unauthorized', 'Sign in to continue');
      const parsed = await parse(schemas, req, ctx);
      const result = await withTenant(merchant.userId, (tx) => handler({ ...parsed, req, tx, merchant, cookies }));
      return applyCookies(toResponse(result), cookies);
    } catch (err) {
      return applyCookies(errorResponse(err), cookies);
    }
  };
}

export interface MerchantCallContext<S extends Schemas> extends Parsed<S> {
  req: Request;
  merchant: Merchant;
}

/**
 * Dashboard API for work that waits on a third party (Shopify): the same checks as
 * withMerchant, but no transaction around the handler, which opens short ones itself
 * (withTenant, withSystem) so no connection is held while the other side answers.
 */
export function withMerchantCall<S extends Schemas>(
  schemas: S,
  handler: (ctx: MerchantCallContext<S>) => Promise<unknown>,
): RouteHandler {
  return async (req, ctx) => {
    const cookies = cookieJarFromRequest(req);
    try {
      assertSameOrigin(req);
      const merchant = await getMerchant(cookies);
      if (!merchant) throw new AppError('unauthorized', 'Sign in to continue');
      const parsed = await parse(schemas, req, ctx);
      return applyCookies(toResponse(await handler({ ...parsed, req, merchant })), cookies);
    } catch (err) {
      return applyCookies(errorResponse(err), cookies);
    }
  };
}

export interface RateLimit<B = unknown, P = unknown> {
  /** Bucket name; the subject (the caller's address unless `subject` says otherwise) is appended. */
  name: string;
  limit: number;
  windowSeconds: number;
  /** Limit by something in the parsed body or path (an account's email, a gift's code), or it and the address, instead. */
  subject?: (body: B, ip: string, params: P) => string;
  /**
   * Count only requests the handler does not answer with success (failed sign-ins): each is
   * counted before the handler, atomically, so a burst cannot get past the limit, and given
   * back when it succeeds, so the owner's own sign-ins never use the allowance up.
   */
  failuresOnly?: boolean;
  /** The rule does not apply to this request (e.g. a browser that has signed in to the account before). */
  skip?: (body: B, cookies: CookieJar) => boolean;
}

const bucketOf = (name: string, subject: string) =>
  // Hashed so a long or odd subject (a header, an email) cannot bloat or break the key.
  `${name}:${createHash('sha256').update(subject).digest('base64url').slice(0, 22)}`;

const rateLimited = (resetAt: string) => {
  const retry = Math.max(1, Math.ceil((Date.parse(resetAt) - Date.now()) / 1000));
  return new AppError('rate_limited', 'Too many requests, please slow down', { headers: { 'Retry-After': String(retry) } });
};

/** Give back the hit a failures-only rule counted for a request that succeeded. */
async function releaseRateLimit(rule: RateLimit<never, never>, subject: string): Promise<void> {
  await db()`select private.rate_limit_release(${bucketOf(rule.name, subject)}, ${rule.windowSeconds})`;
}

/**
 * Count a hit on its own connection, outside any handler transaction: a failed attempt must
 * still count (a rollback would undo it). Never call this inside a transaction: waiting for a
 * second connection while holding one can exhaust the pool.
 */
export async function enforceRateLimit(rule: RateLimit<never, never>, subject: string): Promise<void> {
  const [row] = await db()<{ allowed: boolean; resetAt: string }[]>`
    select allowed, reset_at from private.rate_limit_hit(${bucketOf(rule.name, subject)}, ${rule.limit}, ${rule.windowSeconds})`;
  if (row && !row.allowed) throw rateLimited(row.resetAt);
}

/**
 * Unauthenticated routes (sign-in, tracking, public claim pages): same-origin on mutations
 * unless `crossOrigin`; rate limits per address before parsing and per body subject after,
 * all outside the transaction; then the handler in one system transaction.
 */
export function withPublic<S extends Schemas>(
  schemas: S,
  options: { rateLimits: RateLimit<Out<S['body']>, Out<S['params']>>[]; crossOrigin?: boolean },
  handler: (ctx: PublicContext<S>) => Promise<unknown>,
): RouteHandler {
  return async (req, ctx) => {
    const cookies = cookieJarFromRequest(req);
    try {
      if (!options.crossOrigin) assertSameOrigin(req);
      const ip = clientIp(req);
      for (const rule of options.rateLimits.filter((r) => !r.subject)) await enforceRateLimit(rule, ip);
      const parsed = await parse(schemas, req, ctx);
      const bodyRules = options.rateLimits
        .filter((r) => r.subject && !r.skip?.(parsed.body, cookies))
        .map((rule) => ({ rule, subject: rule.subject?.(parsed.body, ip, parsed.params) ?? ip }));
      for (const { rule, subject } of bodyRules) await enforceRateLimit(rule, subject);
      const result = await withSystem((tx) => handler({ ...parsed, req, tx, cookies, ip }));
      // After the transaction, on its own connection (never while holding one).
      for (const { rule, subject } of bodyRules.filter((r) => r.rule.failuresOnly)) await releaseRateLimit(rule, subject);
      return applyCookies(toResponse(result), cookies);
    } catch (err) {
      return applyCookies(errorResponse(err), cookies);
    }
  };
}

/** Refuse unless `Authorization: Bearer $CRON_SECRET`; refused outright while it is unset. */
export function assertCronSecret(req: Request): void {
  const secret = env().CRON_SECRET;
  if (!secret) throw new AppError('not_configured', 'Cron is disabled until CRON_SECRET is set');
  const header = req.headers.get('authorization') ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : '';
  if (!safeEqual(token, secret)) throw new AppError('unauthorized', 'Invalid cron credentials');
}

/** Cron endpoints: the secret is checked before anything else, including the job name. */
export function withCron<S extends Schemas>(
  schemas: S,
  handler: (ctx: Parsed<S> & { req: Request }) => Promise<unknown>,
): RouteHandler {
  return async (req, ctx) => {
    try {
      assertCronSecret(req);
      const parsed = await parse(schemas, req, ctx);
      return toResponse(await handler({ ...parsed, req }));
    } catch (err) {
      return errorResponse(err);
    }
  };
}

/**
 * Webhooks: raw body (size-limited) handed to `verify`, which authenticates the sender
 * (signature) and returns who it is, or throws 401. Verification and the handler share one
 * system transaction, so a delivery costs one round of BEGIN/COMMIT and one connection.
 */
export function withWebhook<W>(
  options: { verify: (tx: Tx, req: Request, rawBody: string, params: Record<string, unknown>) => Promise<W>; maxBytes?: number },
  handler: (ctx: { tx: Tx; req: Request; rawBody: string; sender: W }) => Promise<unknown>,
): RouteHandler {
  return async (req, ctx) => {
    try {
      if (!isMutation(req)) throw new AppError('method_not_allowed', 'Use POST');
      const rawBody = await readRawBody(req, options.maxBytes);
      const params = await ctx.params;
      const result = await withSystem(async (tx) => {
        const sender = await options.verify(tx, req, rawBody, params);
        return handler({ tx, req, rawBody, sender });
      });
      return toResponse(result);
    } catch (err) {
      return errorResponse(err);
    }
  };
}

/**
 * Server-to-server calls authenticated by the merchant's secret server key
 * (`Authorization: Bearer sk_...`), rate limited per key, in a system transaction.
 */
export function withServerKey<S extends Schemas>(
  schemas: S,
  resolve: (tx: Tx, key: string) => Promise<string | null>,
  handler: (ctx: Parsed<S> & { req: Request; tx: Tx; userId: string }) => Promise<unknown>,
): RouteHandler {
  return async (req, ctx) => {
    try {
      const header = req.headers.get('authorization') ?? '';
      const key = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      await enforceRateLimit({ name: 'server-key', limit: 1200, windowSeconds: 60 }, key);
      const parsed = await parse(schemas, req, ctx);
      const result = await withSystem(async (tx) => {
        const userId = await resolve(tx, key);
        if (!userId) throw new AppError('unauthorized', 'Invalid server key');
        return handler({ ...parsed, req, tx, userId });
      });
      return toResponse(result);
    } catch (err) {
      return errorResponse(err);
    }
  };
}
