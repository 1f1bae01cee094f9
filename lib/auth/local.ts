import 'server-only';
import { jwtVerify, SignJWT } from 'jose';
import { AppError } from '@/lib/errors';
import { SESSION_COOKIE } from '@/lib/auth/constants';
import type { CookieJar, CookieOptions } from '@/lib/auth/cookies';

export { SESSION_COOKIE };

/** Comment the local shim puts on its auth.users table. */
export const LOCAL_AUTH_MARKER = 'haven-hub local auth shim';
import type { AuthProvider, Merchant } from '@/lib/auth/types';
import { db, type Tx } from '@/lib/db';
import { env } from '@/lib/env';

export const SESSION_TTL_SECONDS = 60 * 60 * 24 * 7;
const ISSUER = 'haven-hub';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function secretKey(): Uint8Array {
  const secret = env().AUTH_SECRET;
  if (!secret) throw new AppError('not_configured', 'Sign-in is not configured (AUTH_SECRET)');
  return new TextEncoder().encode(secret);
}

function cookieOptions(maxAge: number): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', secure: env().NODE_ENV === 'production', path: '/', maxAge };
}

/** An HS256 JWT with the claims Supabase Auth would issue (sub, email, role). */
export async function signSessionToken(merchant: Merchant, ttlSeconds = SESSION_TTL_SECONDS): Promise<string> {
  return new SignJWT({ email: merchant.email, role: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(merchant.userId)
    .setIssuer(ISSUER)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(secretKey());
}

/** The merchant in a valid, unexpired token; null for anything else. */
export async function verifySessionToken(token: string): Promise<Merchant | null> {
  try {
    const { payload } = await jwtVerify(token, secretKey(), {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: 'authenticated',
      // A token without an expiry would be good forever.
      requiredClaims: ['exp', 'sub'],
    });
    if (payload.role !== 'authenticated' || typeof payload.sub !== 'string' || !UUID.test(payload.sub)) return null;
    if (typeof payload.email !== 'string') return null;
    return { userId: payload.sub, email: payload.email };
  } catch {
    return null;
  }
}

/** Insert a user with a bcrypt hash (pgcrypto, as Supabase Auth stores it); null if taken. */
export async function createLocalUser(tx: Tx, email: string, password: string): Promise<Merchant | null> {
  const rows = await tx<{ id: string; email: string }[]>`
    insert into auth.users (email, encrypted_password, email_confirmed_at)
    values (${email}, extensions.crypt(${password}, extensions.gen_salt('bf', 10)), now())
    on conflict (email) do nothing
    returning id, email`;
  const row = rows[0];
  return row ? { userId: row.id, email: row.email } : null;
}

/**
 * Check a password. An unknown email still pays for one bcrypt round, so response time
 * does not tell whether an account exists.
 */
export async function verifyLocalUser(tx: Tx, email: string, password: string): Promise<Merchant | null> {
  const rows = await tx<{ id: string; email: string }[]>`
    with u as (select id, email, encrypted_password from auth.users where email = ${email})
    select id, email from u
     where encrypted_password = extensions.crypt(${password}, encrypted_password)
    union all
    select null, null
     where not exists (select 1 from u)
       and extensions.crypt(${password}, extensions.gen_salt('bf', 10)) is null`;
  const row = rows[0];
  if (!row) return null;
  await tx`update auth.users set last_sign_in_at = now() where id = ${row.id}`;
  return { userId: row.id, email: row.email };
}

let localStoreChecked = false;

/**
 * Local accounts live in the local shim's auth.users. Against Supabase (its own auth.users,
 * managed by Supabase Auth) local sign-up must not write users: set the Supabase variables.
 */
async function assertLocalAuthStore(tx: Tx): Promise<void> {
  if (localStoreChecked) return;
  const [row] = await tx<{ note: string | null }[]>`select obj_description('auth.users'::regclass, 'pg_class') as note`;
  if (row?.note !== LOCAL_AUTH_MARKER) {
    throw new AppError('not_configured', 'Local sign-in is disabled on this database: configure Supabase Auth');
  }
  localStoreChecked = true;
}

async function startSession(jar: CookieJar, merchant: Merchant): Promise<void> {
  jar.set(SESSION_COOKIE, await signSessionToken(merchant), cookieOptions(SESSION_TTL_SECONDS));
}

/** Email + password accounts in the local auth.users, session in a signed cookie. */
export const localProvider: AuthProvider = {
  name: 'local',
  async getMerchant(jar) {
    const token = jar.get(SESSION_COOKIE);
    const merchant = token ? await verifySessionToken(token) : null;
    if (!merchant) return null;
    // A signed token outlives its account: a deleted user's cookie is no session.
    const [user] = await db()<{ id: string }[]>`select id from auth.users where id = ${merchant.userId}`;
    return user ? merchant : null;
  },
  async signUp(tx, jar, email, password) {
    await assertLocalAuthStore(tx);
    const merchant = await createLocalUser(tx, email, password);
    if (!merchant) throw new AppError('conflict', 'An account with that email already exists', { field: 'email' });
    await startSession(jar, merchant);
    return { merchant, id: merchant.userId, email: merchant.email };
  },
  async signIn(tx, jar, email, password) {
    await assertLocalAuthStore(tx);
    const merchant = await verifyLocalUser(tx, email, password);
    if (merchant) await startSession(jar, merchant);
    return merchant;
  },
  async signOut(jar) {
    jar.set(SESSION_COOKIE, '', cookieOptions(0));
  },
};
