/** Cookie attributes we set (a subset of what browsers understand). */
export interface CookieOptions {
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'lax' | 'strict' | 'none' | boolean;
  path?: string;
  maxAge?: number;
  expires?: Date;
  domain?: string;
}

/**
 * Cookies of one request, plus the ones to set on its response. Route handlers build it
 * from the request; server components from next/headers. Nothing reads global state.
 */
export interface CookieJar {
  getAll(): { name: string; value: string }[];
  get(name: string): string | undefined;
  set(name: string, value: string, options?: CookieOptions): void;
  /** What set() collected, for the response. */
  pending(): { name: string; value: string; options: CookieOptions }[];
}

export function parseCookieHeader(header: string | null): { name: string; value: string }[] {
  if (!header) return [];
  const out: { name: string; value: string }[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // A malformed escape is kept as sent; it will simply fail verification.
    }
    if (name) out.push({ name, value });
  }
  return out;
}

/** A jar over a fixed list of cookies that records what should be set. */
export function createCookieJar(initial: { name: string; value: string }[]): CookieJar {
  const current = new Map(initial.map((c) => [c.name, c.value]));
  const sets: { name: string; value: string; options: CookieOptions }[] = [];
  return {
    getAll: () => [...current].map(([name, value]) => ({ name, value })),
    get: (name) => current.get(name),
    set(name, value, options = {}) {
      if (value === '' || options.maxAge === 0) current.delete(name);
      else current.set(name, value);
      sets.push({ name, value, options });
    },
    pending: () => sets,
  };
}

export function cookieJarFromRequest(req: Request): CookieJar {
  return createCookieJar(parseCookieHeader(req.headers.get('cookie')));
}

function serialize(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${o.path ?? '/'}`];
  if (o.maxAge !== undefined) parts.push(`Max-Age=${Math.floor(o.maxAge)}`);
  if (o.expires) parts.push(`Expires=${o.expires.toUTCString()}`);
  if (o.domain) parts.push(`Domain=${o.domain}`);
  if (o.httpOnly) parts.push('HttpOnly');
  if (o.secure) parts.push('Secure');
  if (o.sameSite) parts.push(`SameSite=${o.sameSite === true ? 'Strict' : o.sameSite[0]?.toUpperCase() + o.sameSite.slice(1)}`);
  return parts.join('; ');
}

/** Copy the jar's pending cookies onto a response as Set-Cookie headers. */
export function applyCookies(res: Response, jar: CookieJar): Response {
  for (const c of jar.pending()) res.headers.append('set-cookie', serialize(c.name, c.value, c.options));
  return res;
}
