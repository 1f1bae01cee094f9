import { AppError } from '@/lib/errors';
import { env } from '@/lib/env';

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isMutation(req: Request): boolean {
  return MUTATIONS.has(req.method.toUpperCase());
}

/**
 * Whether a cookie-carrying request comes from our own pages. Browsers send Origin on
 * every cross-site POST; without it we fall back to Sec-Fetch-Site, and a request with
 * neither (curl, server to server) carries no ambient browser credentials to abuse.
 */
export function isSameOrigin(req: Request): boolean {
  const origin = req.headers.get('origin');
  if (!origin) {
    const site = req.headers.get('sec-fetch-site');
    return site === null || site === 'same-origin' || site === 'none';
  }
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host') ?? new URL(req.url).host;
  if (parsed.host === host) return true;
  const appUrl = env().APP_URL;
  return appUrl !== undefined && new URL(appUrl).origin === parsed.origin;
}

export function assertSameOrigin(req: Request): void {
  if (isMutation(req) && !isSameOrigin(req)) {
    throw new AppError('forbidden', 'Cross-site requests are not allowed');
  }
}

/**
 * The caller's address for rate limiting: the last X-Forwarded-For entry, the one added by the
 * proxy in front of us (Vercel replaces the header; nginx appends), so a client cannot pick
 * its own bucket by sending the header itself.
 */
export function clientIp(req: Request): string {
  const hops = req.headers.get('x-forwarded-for')?.split(',').map((h) => h.trim()).filter(Boolean) ?? [];
  return hops[hops.length - 1] || req.headers.get('x-real-ip') || 'unknown';
}

export const MAX_BODY_BYTES = 1_000_000;

/** The raw body, refused past `limit` bytes. */
export async function readRawBody(req: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > limit) throw new AppError('payload_too_large', `Request body is larger than ${limit} bytes`);
  const text = await req.text();
  if (Buffer.byteLength(text) > limit) {
    throw new AppError('payload_too_large', `Request body is larger than ${limit} bytes`);
  }
  return text;
}

/** Parse a JSON body. An empty body is `{}` so all-optional schemas accept it. */
export async function readJsonBody(req: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  const text = await readRawBody(req, limit);
  if (text.trim() === '') return {};
  const type = req.headers.get('content-type') ?? '';
  if (!type.toLowerCase().includes('application/json')) {
    throw new AppError('unsupported_media_type', 'Send the request body as application/json');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('bad_request', 'Request body must be valid JSON');
  }
}

/** Query string as a plain object (last value wins for repeated keys). */
export function queryObject(req: Request): Record<string, string> {
  return Object.fromEntries(new URL(req.url).searchParams);
}
