import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { GET as cronGet, POST as cronPost } from '@/app/api/cron/[job]/route';
import { AppError } from '@/lib/errors';
import { withMerchant, withPublic, withWebhook } from '@/lib/api/handler';
import { reloadEnv } from '@/lib/env';
import { call } from '@/tests/helpers/http';
import { createMerchant } from '@/tests/helpers/merchants';

// A route built with the real wrapper, exercising each error path.
const probe = withMerchant(
  {
    params: z.object({ id: z.uuid() }),
    body: z.object({ name: z.string().min(2), mode: z.enum(['ok', 'app', 'unique', 'crash', 'raise']) }),
  },
  async ({ body, params, merchant, tx }) => {
    if (body.mode === 'app') throw new AppError('not_found', 'No such widget');
    if (body.mode === 'unique') {
      await tx`insert into public.collections (user_id, slug, name, position) values (${merchant.userId}, 'dup', 'Dup', 90)`;
      await tx`insert into public.collections (user_id, slug, name, position) values (${merchant.userId}, 'dup', 'Dup', 91)`;
    }
    if (body.mode === 'crash') throw new Error('connection string postgres://secret@internal-host leaked?');
    if (body.mode === 'raise') await tx`do $$ begin raise exception 'Points balance is too low' using errcode = 'HH409'; end $$`;
    const [who] = await tx<{ uid: string; role: string }[]>`select auth.uid()::text as uid, current_user::text as role`;
    return { id: params.id, name: body.name, ...who };
  },
);

const id = '9f1c4a56-3b7e-4d7a-9d55-0c7f2a1b3c4d';

describe('withMerchant', () => {
  it('runs the handler as the merchant under RLS', async () => {
    const m = await createMerchant();
    const res = await call(probe, `/api/probe/${id}`, { cookie: m.cookie, params: { id }, body: { name: 'ok', mode: 'ok' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id, name: 'ok', uid: m.userId, role: 'authenticated' });
  });

  it('answers 401 without a session', async () => {
    const res = await call(probe, `/api/probe/${id}`, { params: { id }, body: { name: 'ok', mode: 'ok' } });
    expect(res).toMatchObject({ status: 401, body: { code: 'unauthorized', error: 'Sign in to continue' } });
  });

  it.each([
    [{ name: 'x', mode: 'ok' }, 'name'],
    [{ name: 'ok', mode: 'nope' }, 'mode'],
    [{ mode: 'ok' }, 'name'],
  ])('answers 400 naming the field for body %j', async (body, field) => {
    const m = await createMerchant();
    const res = await call(probe, `/api/probe/${id}`, { cookie: m.cookie, params: { id }, body });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'bad_request', field });
  });

  it('answers 400 for a malformed path id and for broken JSON, 415 for non-JSON', async () => {
    const m = await createMerchant();
    const badId = await call(probe, '/api/probe/1', { cookie: m.cookie, params: { id: '1' }, body: { name: 'ok', mode: 'ok' } });
    expect(badId.body).toMatchObject({ code: 'bad_request', field: 'id' });
    const broken = await call(probe, `/api/probe/${id}`, {
      cookie: m.cookie, params: { id }, rawBody: '{"name":', headers: { 'content-type': 'application/json' },
    });
    expect(broken).toMatchObject({ status: 400, body: { error: 'Request body must be valid JSON' } });
    const form = await call(probe, `/api/probe/${id}`, {
      cookie: m.cookie, params: { id }, rawBody: 'name=ok', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });

  it('maps AppError, SQL errors and unique violations; unknown errors leak nothing', async () => {
    const m = await createMerchant();
    const send = (mode: string) => call(probe, `/api/probe/${id}`, { cookie: m.cookie, params: { id }, body: { name: 'ok', mode } });
    expect(await send('app')).toMatchObject({ status: 404, body: { error: 'No such widget', code: 'not_found' } });
    expect(await send('unique')).toMatchObject({ status: 409, body: { code: 'conflict' } });
    expect(await send('raise')).toMatchObject({ status: 409, body: { error: 'Points balance is too low', code: 'conflict' } });
    const crash = await send('crash');
    expect(crash.status).toBe(500);
    expect(crash.body).toEqual({ error: 'Something went wrong. Please try again.', code: 'internal' });
    expect(JSON.stringify(crash.body)).not.toContain('postgres://');
  });

  it('refuses a mutation from a foreign Origin with 403 and changes nothing', async () => {
    const m = await createMerchant();
    const res = await call(probe, `/api/probe/${id}`, {
      cookie: m.cookie, params: { id }, body: { name: 'ok', mode: 'ok' }, headers: { origin: 'https://evil.example' },
    });
    expect(res).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    const crossSite = await call(probe, `/api/probe/${id}`, {
      cookie: m.cookie, params: { id }, body: { name: 'ok', mode: 'ok' }, noOrigin: true, headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
  });
});

describe('withPublic', () => {
  const echo = withPublic(
    { body: z.object({ n: z.number() }) },
    { rateLimits: [{ name: 'echo-test', limit: 3, windowSeconds: 60 }] },
    async ({ body }) => ({ n: body.n }),
  );

  it('counts failed attempts toward the limit too', async () => {
    const headers = { 'x-forwarded-for': '192.0.2.10' };
    expect((await call(echo, '/e', { body: { n: 'bad' }, headers })).status).toBe(400);
    expect((await call(echo, '/e', { body: { n: 1 }, headers })).status).toBe(200);
    expect((await call(echo, '/e', { body: { n: 2 }, headers })).status).toBe(200);
    const limited = await call(echo, '/e', { body: { n: 3 }, headers });
    expect(limited).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
  });
});

describe('withWebhook', () => {
  const hook = withWebhook(
    {
      verify: async (_tx, req, raw) => {
        if (req.headers.get('x-signature') !== `sig:${raw.length}`) throw new AppError('unauthorized', 'Invalid signature');
        return 'shop-1';
      },
      maxBytes: 100,
    },
    async ({ sender, rawBody }) => ({ sender, bytes: rawBody.length }),
  );

  it('hands the raw body to verify and refuses bad signatures and oversized bodies', async () => {
    const ok = await call(hook, '/hook', { rawBody: 'hello', headers: { 'x-signature': 'sig:5' }, noOrigin: true });
    expect(ok).toMatchObject({ status: 200, body: { sender: 'shop-1', bytes: 5 } });
    expect((await call(hook, '/hook', { rawBody: 'hello', headers: { 'x-signature': 'sig:4' } })).status).toBe(401);
    expect((await call(hook, '/hook', { rawBody: 'x'.repeat(101), headers: { 'x-signature': 'sig:101' } })).status).toBe(413);
  });
});

describe('/api/cron/[job]', () => {
  const secret = process.env.CRON_SECRET;
  afterEach(() => {
    process.env.CRON_SECRET = secret;
    reloadEnv();
  });

  it('checks the secret before anything else', async () => {
    const none = await call(cronGet, '/api/cron/rate-limits', { params: { job: 'rate-limits' } });
    expect(none).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    const wrong = await call(cronGet, '/api/cron/nope', { params: { job: 'nope' }, headers: { authorization: 'Bearer wrong' } });
    expect(wrong.status).toBe(401);
    const unknown = await call(cronGet, '/api/cron/nope', { params: { job: 'nope' }, headers: { authorization: `Bearer ${secret}` } });
    expect(unknown).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  it('runs a known job on GET and POST and answers its counts', async () => {
    const auth = { authorization: `Bearer ${secret}` };
    const res = await call(cronGet, '/api/cron/rate-limits', { params: { job: 'rate-limits' }, headers: auth });
    expect(res).toMatchObject({ status: 200, body: { job: 'rate-limits', purged: expect.any(Number) } });
    const post = await call(cronPost, '/api/cron/rate-limits', { method: 'POST', params: { job: 'rate-limits' }, headers: auth });
    expect(post.status).toBe(200);
  });

  it('is refused while CRON_SECRET is unset, even with an empty bearer', async () => {
    delete process.env.CRON_SECRET;
    reloadEnv();
    const res = await call(cronGet, '/api/cron/rate-limits', { params: { job: 'rate-limits' }, headers: { authorization: 'Bearer ' } });
    expect(res).toMatchObject({ status: 503, body: { code: 'not_configured' } });
  });
});

describe('JSON answers and compression', () => {
  // The production server gzips every streamed body; a small answer is marked so it goes as it
  // is (the webhook floor in docs/benchmarks.md), a large one is left to be compressed.
  it('marks an answer under 1 KB no-transform, errors included, and leaves a larger one alone', async () => {
    const sized = withPublic({ query: z.object({ n: z.coerce.number().int().min(0).max(5000) }) }, { rateLimits: [] },
      async ({ query }) => ({ pad: 'x'.repeat(query.n) }));
    const small = await sized(new Request('http://localhost/api/sized?n=10'), { params: Promise.resolve({}) });
    expect(small.headers.get('cache-control')).toBe('no-store, no-transform');
    expect(small.headers.get('content-type')).toBe('application/json');
    expect(await small.json()).toEqual({ pad: 'x'.repeat(10) });
    const large = await sized(new Request('http://localhost/api/sized?n=2000'), { params: Promise.resolve({}) });
    expect(large.headers.get('cache-control')).toBeNull();
    expect((await large.json()).pad).toHaveLength(2000);
    const bad = await sized(new Request('http://localhost/api/sized?n=-1'), { params: Promise.resolve({}) });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('cache-control')).toBe('no-store, no-transform');
  });
});
