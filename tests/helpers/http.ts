import type { RouteContext, RouteHandler } from '@/lib/api/handler';

export const ORIGIN = 'http://localhost:3000';

export interface CallOptions {
  method?: string;
  body?: unknown;
  /** Sent as-is instead of JSON-encoding `body`. */
  rawBody?: string;
  headers?: Record<string, string>;
  cookie?: string;
  params?: Record<string, string>;
  /** Omit the Origin header a browser would send. */
  noOrigin?: boolean;
}

export interface CallResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  setCookies: string[];
}

/** Call a real route handler the way Next does: a Request and a params Promise. */
export async function call<T = Record<string, unknown>>(
  handler: RouteHandler,
  path: string,
  options: CallOptions = {},
): Promise<CallResult<T>> {
  const method = options.method ?? (options.body !== undefined || options.rawBody !== undefined ? 'POST' : 'GET');
  // Each call comes from its own address unless a test says otherwise, so rate limits
  // only show up in the tests that look for them.
  const ip = `198.51.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}`;
  const headers = new Headers({ host: 'localhost:3000', 'x-forwarded-for': ip, ...options.headers });
  if (!options.noOrigin && method !== 'GET' && !headers.has('origin')) headers.set('origin', ORIGIN);
  if (options.cookie) headers.set('cookie', options.cookie);
  let body: string | undefined = options.rawBody;
  if (body === undefined && options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const req = new Request(`${ORIGIN}${path}`, { method, headers, body });
  const ctx: RouteContext = { params: Promise.resolve(options.params ?? {}) };
  const res = await handler(req, ctx);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Non-JSON bodies (CSV) are returned as text.
  }
  return { status: res.status, body: parsed as T, headers: res.headers, setCookies: res.headers.getSetCookie() };
}

/** The `name=value` part of each Set-Cookie header, for the next request's Cookie header. */
export function cookieHeader(setCookies: string[]): string {
  return setCookies.map((c) => c.split(';')[0]).join('; ');
}
