/**
 * Follow `next` only when it is a path on this site (no open redirect). The check runs on the
 * normalized result: `/.//evil.com` normalizes to `//evil.com`, a protocol-relative URL.
 */
export function safeNextPath(next: string | null | undefined, fallback = '/dashboard'): string {
  if (!next || !next.startsWith('/') || next.includes('\\')) return fallback;
  try {
    const url = new URL(next, 'http://local.invalid');
    if (url.origin !== 'http://local.invalid') return fallback;
    const out = `${url.pathname}${url.search}${url.hash}`;
    return out.startsWith('//') ? fallback : out;
  } catch {
    return fallback;
  }
}
