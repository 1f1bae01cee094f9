import 'server-only';
import { createHmac, randomBytes } from 'node:crypto';
import type { CookieJar } from '@/lib/auth/cookies';
import { encryptionKey, safeEqual } from '@/lib/crypto/secrets';
import { env } from '@/lib/env';

/**
 * A browser that has signed in to an account carries a cookie saying so (OWASP's device cookie).
 * Guesses spread over many addresses fill the account's failure ceiling; this browser is not held
 * to it, so strangers cannot lock the owner out. Each browser gets its own random id and an
 * expiry, both signed with the account's email, so a cookie is worth one browser for 90 days.
 * Failures from it still count against its own address.
 */
export const DEVICE_COOKIE = 'hh_device';
const LIFETIME_S = 90 * 24 * 60 * 60;

const mac = (email: string, id: string, expires: number) =>
  createHmac('sha256', encryptionKey()).update(`device-cookie:${email}:${id}:${expires}`).digest('base64url');

export function isKnownDevice(cookies: CookieJar, email: string): boolean {
  const [id, expires, signature] = (cookies.get(DEVICE_COOKIE) ?? '').split('.');
  const until = Number(expires);
  if (!id || !signature || !Number.isInteger(until) || until * 1000 < Date.now()) return false;
  return safeEqual(signature, mac(email, id, until));
}

export function rememberDevice(cookies: CookieJar, email: string): void {
  const id = randomBytes(12).toString('base64url');
  const expires = Math.floor(Date.now() / 1000) + LIFETIME_S;
  cookies.set(DEVICE_COOKIE, `${id}.${expires}.${mac(email, id, expires)}`, {
    httpOnly: true, sameSite: 'lax', secure: env().NODE_ENV === 'production', path: '/api/auth', maxAge: LIFETIME_S,
  });
}
