import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { POST as login } from '@/app/api/auth/login/route';
import { POST as logout } from '@/app/api/auth/logout/route';
import { GET as session } from '@/app/api/auth/session/route';
import { POST as signup } from '@/app/api/auth/signup/route';
import { createCookieJar, parseCookieHeader } from '@/lib/auth/cookies';
import { isKnownDevice } from '@/lib/auth/device';
import { SESSION_COOKIE, signSessionToken } from '@/lib/auth/local';
import { closeDb, db } from '@/lib/db';
import { env, reloadEnv } from '@/lib/env';
import { call, cookieHeader } from '@/tests/helpers/http';

const password = 'a long enough password';
let n = 0;
const uniqueEmail = () => `owner${++n}-${Date.now()}@shop.test`;

describe('POST /api/auth/signup', () => {
  it('creates the account, hashes the password and starts a session', async () => {
    const email = uniqueEmail();
    const res = await call<{ user: { id: string; email: string } }>(signup, '/api/auth/signup', { body: { email, password } });
    expect(res.status).toBe(201);
    expect(res.body.user.email).toBe(email);
    const cookie = res.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);

    const [row] = await db()<{ encryptedPassword: string }[]>`
      select encrypted_password from auth.users where id = ${res.body.user.id}`;
    expect(row?.encryptedPassword).toMatch(/^\$2[aby]\$10\$/);
    expect(row?.encryptedPassword).not.toContain(password);

    // Every new user is a merchant with a settings row (trigger on auth.users).
    const [settings] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.merchant_settings where user_id = ${res.body.user.id}`;
    expect(settings?.n).toBe(1);

    const me = await call(session, '/api/auth/session', { cookie: cookieHeader(res.setCookies) });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ user: { id: res.body.user.id, email } });
  });

  it('normalizes the email and refuses a duplicate with 409', async () => {
    const email = uniqueEmail();
    expect((await call(signup, '/api/auth/signup', { body: { email, password } })).status).toBe(201);
    const again = await call(signup, '/api/auth/signup', { body: { email: `  ${email.toUpperCase()} `, password } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'conflict', error: 'An account with that email already exists' });
  });

  it.each([
    [{ email: 'not-an-email', password }, 'email'],
    [{ email: uniqueEmail(), password: 'short' }, 'password'],
    [{ password }, 'email'],
    [{ email: uniqueEmail() }, 'password'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const res = await call(signup, '/api/auth/signup', { body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'bad_request', field });
    expect(String(res.body.error)).toMatch(new RegExp(`^${field}: `));
  });
});

describe('POST /api/auth/login', () => {
  it('signs in with the right password and answers one generic 401 otherwise', async () => {
    const email = uniqueEmail();
    await call(signup, '/api/auth/signup', { body: { email, password } });

    const ok = await call<{ user: { email: string } }>(login, '/api/auth/login', { body: { email: email.toUpperCase(), password } });
    expect(ok.status).toBe(200);
    expect(ok.body.user.email).toBe(email);
    expect(ok.setCookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`))).toBe(true);

    const wrong = await call(login, '/api/auth/login', { body: { email, password: 'wrong password' } });
    const unknown = await call(login, '/api/auth/login', { body: { email: uniqueEmail(), password } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.setCookies).toEqual([]);
  });

  it('rate limits repeated attempts from one address with 429 and Retry-After', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.77' };
    // The login limit counts in fixed windows of 300 s (the route's rule): 22 attempts that
    // straddle a window's end would be counted in two. Start in a window with time to spare.
    const intoWindow = Date.now() % 300_000;
    if (intoWindow > 290_000) await new Promise((r) => setTimeout(r, 300_000 - intoWindow + 100));
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await call(login, '/api/auth/login', { body: { email: `nobody${i}@shop.test`, password: 'x' }, headers });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    // Another address is unaffected.
    const other = await call(login, '/api/auth/login', {
      body: { email: 'nobody-else@shop.test', password: 'x' },
      headers: { 'x-forwarded-for': '203.0.113.78' },
    });
    expect(other.status).toBe(401);
  });

  it("wrong passwords from strangers do not lock the owner out (10 in 15 minutes was enough before)", async () => {
    const email = uniqueEmail();
    await call(signup, '/api/auth/signup', { body: { email, password } });
    for (let i = 0; i < 12; i++) {
      await call(login, '/api/auth/login', { body: { email, password: 'guess' }, headers: { 'x-forwarded-for': `192.0.2.${i + 1}` } });
    }
    const owner = await call(login, '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': '198.51.100.200' } });
    expect(owner.status).toBe(200);
  });

  it('stops one address guessing one account after 5 failures, without stopping other addresses', async () => {
    const email = uniqueEmail();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      // A spoofed leading entry does not give the attacker a new bucket.
      const res = await call(login, '/api/auth/login', { body: { email, password: 'guess' }, headers: { 'x-forwarded-for': `10.9.${i}.1, 203.0.113.90` } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const elsewhere = await call(login, '/api/auth/login', { body: { email, password: 'guess' }, headers: { 'x-forwarded-for': '203.0.113.91' } });
    expect(elsewhere.status).toBe(401);
  });

  it('caps failures per account across addresses at 50 an hour, except for a browser that signed in before', async () => {
    const email = uniqueEmail();
    await call(signup, '/api/auth/signup', { body: { email, password } });
    const first = await call(login, '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': '198.51.100.210' } });
    const device = cookieHeader(first.setCookies.filter((c) => c.startsWith('hh_device=')));
    expect(device).toMatch(/^hh_device=/);
    // 50 guesses spread over 10 addresses, 5 each (each address stays under its own limit).
    for (let i = 0; i < 50; i++) {
      await call(login, '/api/auth/login', { body: { email, password: 'guess' }, headers: { 'x-forwarded-for': `192.0.2.${200 + (i % 10)}` } });
    }
    const stranger = await call(login, '/api/auth/login', { body: { email, password: 'guess' }, headers: { 'x-forwarded-for': '198.51.100.211' } });
    expect(stranger.status).toBe(429);
    const newBrowser = await call(login, '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': '198.51.100.212' } });
    expect(newBrowser.status).toBe(429);
    const ownersBrowser = await call(login, '/api/auth/login', { body: { email, password }, cookie: device, headers: { 'x-forwarded-for': '198.51.100.213' } });
    expect(ownersBrowser.status).toBe(200);
    // The cookie is bound to its account: it does not lift the cap for another email.
    const jar = createCookieJar(parseCookieHeader(device));
    expect(isKnownDevice(jar, email)).toBe(true);
    expect(isKnownDevice(jar, uniqueEmail())).toBe(false);
    // Each sign-in gets its own id and expiry; a cookie past its expiry, or edited, is worth nothing.
    const [id, expires, signature] = (jar.get('hh_device') ?? '').split('.');
    expect(isKnownDevice(createCookieJar([{ name: 'hh_device', value: `${id}.${Number(expires) + 1}.${signature}` }]), email)).toBe(false);
    expect(isKnownDevice(createCookieJar([{ name: 'hh_device', value: `${id}.1.${signature}` }]), email)).toBe(false);
  }, 30_000);

  it('survives many concurrent sign-ins on a small pool (no nested connection, no deadlock)', async () => {
    const email = uniqueEmail();
    await call(signup, '/api/auth/signup', { body: { email, password } });
    await closeDb();
    process.env.DATABASE_POOL_MAX = '2';
    reloadEnv();
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          call(login, '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': `192.0.2.${100 + i}` } })),
      );
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    } finally {
      await closeDb();
      delete process.env.DATABASE_POOL_MAX;
      reloadEnv();
    }
  }, 20_000);
});

describe('sessions', () => {
  it('logout clears the cookie', async () => {
    const res = await call(logout, '/api/auth/logout', { method: 'POST' });
    expect(res.status).toBe(200);
    const cleared = res.setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    expect(cleared).toMatch(/Max-Age=0/);
  });

  it('refuses no cookie, an expired, a tampered, a foreign-key and an unsigned token', async () => {
    const email = uniqueEmail();
    const created = await call<{ user: { id: string } }>(signup, '/api/auth/signup', { body: { email, password } });
    const merchant = { userId: created.body.user.id, email };
    const valid = await signSessionToken(merchant);
    const expired = await signSessionToken(merchant, -60);
    const [h, p, s] = valid.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p ?? '', 'base64url').toString()), sub: '00000000-0000-0000-0000-000000000001' })).toString('base64url');
    const tampered = `${h}.${forged}.${s}`;
    const otherKey = await new SignJWT({ email, role: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(merchant.userId)
      .setIssuer('haven-hub')
      .setAudience('authenticated')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;

    // Signed with our key but carrying no expiry: it would never run out.
    const forever = await new SignJWT({ email, role: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(merchant.userId)
      .setIssuer('haven-hub')
      .setAudience('authenticated')
      .sign(new TextEncoder().encode(env().AUTH_SECRET ?? ''));

    expect((await call(session, '/api/auth/session', { cookie: `${SESSION_COOKIE}=${valid}` })).status).toBe(200);
    expect((await call(session, '/api/auth/session')).status).toBe(401);
    for (const token of [expired, tampered, otherKey, unsigned, forever, 'garbage']) {
      const res = await call(session, '/api/auth/session', { cookie: `${SESSION_COOKIE}=${token}` });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'Not signed in', code: 'unauthorized' });
    }
  });

  it("answers 401 to a deleted user's still-signed cookie", async () => {
    const email = uniqueEmail();
    const created = await call<{ user: { id: string } }>(signup, '/api/auth/signup', { body: { email, password } });
    const token = await signSessionToken({ userId: created.body.user.id, email });
    expect((await call(session, '/api/auth/session', { cookie: `${SESSION_COOKIE}=${token}` })).status).toBe(200);
    await db()`delete from auth.users where id = ${created.body.user.id}`;
    expect((await call(session, '/api/auth/session', { cookie: `${SESSION_COOKIE}=${token}` })).status).toBe(401);
  });
});
