import 'server-only';
import { createHmac } from 'node:crypto';
import type { CookieJar } from '@/lib/auth/cookies';
import { encryptionKey, safeEqual } from '@/lib/crypto/secrets';
import { env } from '@/lib/env';

/**
 * A browser that has signed in to an account before carries a cookie saying so (OWASP's device
 * cookie). Guesses spread over many addresses fill the account's failure ceiling; this browser
 * still gets to try its password, so an attacker cannot lock the owner out.
 */
export const DEVICE_COOKIE = 'hh_device';
const YEAR = 365 * 24 * 60 * 60;

function tokenFor(email: string): string {
  return createHmac('sha256', encryptionKey()).update(`device-cookie:${email}`).digest('base64url');
}

export function isKnownDevice(cookies: CookieJar, email: string): boolean {
  const value = cookies.get(DEVICE_COOKIE);
  return value !== undefined && safeEqual(value, tokenFor(email));
}

export function rememberDevice(cookies: CookieJar, email: string): void {
  cookies.set(DEVICE_COOKIE, tokenFor(email), {
    httpOnly: true, sameSite: 'lax', secure: env().NODE_ENV === 'production', path: '/api/auth', maxAge: YEAR,
  });
}
