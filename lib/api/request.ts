import { AppError } from '@/lib/errors';
import { env } from '@/lib/env';

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isMutation(req: Request): boolean {
  return MUTATIONS.has(req.method.toUpperCase());
}

/**
 * Whether the proxies in front of us may be believed about the client: on Vercel, whose edge
 * sets the X-Forwarded-* headers itself, or when TRUSTED_PROXY_HOPS says how many proxies of
 * ours there are. Otherwise those headers are whatever the client sent.
 */
function proxiesTrusted(): boolean {
  const e = env();
  return e.VERCEL === '1' || e.TRUSTED_PROXY_HOPS > 0;
}

/** This deployment's origin as the browser sees it (scheme, host and port). */
function requestOrigin(req: Request): string | null {
  const trusted = proxiesTrusted();
  const host = (trusted ? req.headers.get('x-forwarded-host') : null) ?? req.headers.get('host');
  const proto = (trusted ? req.headers.get('x-forwarded-proto') : null) ?? new URL(req.url).protocol.replace(/:$/, '');
  if (!host) return null;
  try {
    return new URL(`${proto}://${host}`).origin;
  } catch {
    return null;
  }
}

/**
 * Whether a cookie-carrying request comes from our own pages: its Origin must be this
 * deployment's (scheme, host and port all equal) or APP_URL's. Browsers send Origin on every
 * cross-site POST; without it we fall back to Sec-Fetch-Site, and a request with neither (curl,
 * server to server) carries no ambient browser credentials to abuse.
 */
export function isSameOrigin(req: Request): boolean {
  const origin = req.headers.get('origin');
  if (!origin) {
    const site = req.headers.get('sec-fetch-site');
    return site === null || site === 'same-origin' || site === 'none';
  }
  let given: string;
  try {
    given = new URL(origin).origin;
  } catch {
    return false;
  }
  if (given === 'null') return false;
  const appUrl = env().APP_URL;
  return given === requestOrigin(req) || (appUrl !== undefined && new URL(appUrl).origin === given);
}

export function assertSameOrigin(req: Request): void {
  if (isMutation(req) && !isSameOrigin(req)) {
    throw new AppError('forbidden', 'Cross-site requests are not allowed');
  }
}

/**
 * The caller's address, for rate limits. X-Forwarded-For lists the addresses each hop saw, the
 * nearest last. `npm start` (scripts/start.ts) appends the connection's own peer, so the last
 * entry is always the peer; each of the TRUSTED_PROXY_HOPS proxies of ours in front added one
 * more before it, and anything further left is the client's to invent. On Vercel the edge
 * replaces the header with the client's address.
 */
export function clientIp(req: Request): string {
  const e = env();
  const hops = req.headers.get('x-forwarded-for')?.split(',').map((h) => h.trim()).filter(Boolean) ?? [];
  if (e.VERCEL === '1') return addressBucket(hops[0] ?? req.headers.get('x-real-ip') ?? 'unknown');
  // Fewer entries than trusted hops: the request skipped a proxy, so the peer itself is the client.
  return addressBucket(hops[hops.length - 1 - e.TRUSTED_PROXY_HOPS] ?? hops[hops.length - 1] ?? 'unknown');
}

/**
 * The part of an address one client controls as a whole: an IPv6 connection comes with a /64
 * of 2^64 addresses, so it is limited by its /64; IPv4 (and IPv4-mapped IPv6) by the address.
 */
export function addressBucket(address: string): string {
  const ip = address.replace(/^\[|\](:\d+)?$/g, '').toLowerCase();
  if (!ip.includes(':') || /^::ffff:\d+\.\d+\.\d+\.\d+$/.test(ip)) return ip.replace(/^::ffff:/, '');
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export const MAX_BODY_BYTES = 1_000_000;

const tooLarge = (limit: number) => new AppError('payload_too_large', `Request body is larger than ${limit.toLocaleString('en-US')} bytes`);

/**
 * The raw body as text, read as it streams in and refused (413) as soon as it passes `limit`
 * bytes, whether or not the client declared a Content-Length: a chunked upload is never held
 * in memory past the limit.
 */
export async function readRawBody(req: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > limit) throw tooLarge(limit);
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** The media type of a Content-Type header, without parameters, lower case (`application/json`). */
export function mediaType(header: string | null): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Parse a JSON body. An empty body is `{}` so all-optional schemas accept it. */
export async function readJsonBody(req: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  const text = await readRawBody(req, limit);
  if (text.trim() === '') return {};
  if (mediaType(req.headers.get('content-type')) !== 'application/json') {
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
