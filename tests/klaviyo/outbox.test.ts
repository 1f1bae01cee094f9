import { spawn } from 'node:child_process';
import path from 'node:path';
import { makeWorkerUtils, type WorkerUtils } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db, withSystem, withTenant } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { drainJobs } from '@/lib/jobs/queue';
import { updateIntegrations } from '@/lib/settings/integrations';
import { KlaviyoStandIn } from '@/tests/helpers/klaviyo';
import { createMerchant } from '@/tests/helpers/merchants';

const GOOD_KEY = 'pk_test_haven_0123456789';
const url = () => {
  const u = process.env.DATABASE_URL;
  if (!u) throw new Error('DATABASE_URL is not set');
  return u;
};

let klaviyo: KlaviyoStandIn;
let utils: WorkerUtils;
beforeAll(async () => {
  klaviyo = await new KlaviyoStandIn({ keys: [GOOD_KEY] }).start();
  process.env.KLAVIYO_API_URL = klaviyo.url;
  reloadEnv();
  utils = await makeWorkerUtils({ connectionString: url() });
});
afterAll(async () => {
  await utils.release();
  await klaviyo.stop();
});

async function merchant(key: string | null = GOOD_KEY) {
  const m = await createMerchant('klaviyo');
  if (key) await withTenant(m.userId, (tx) => updateIntegrations(tx, m.userId, { klaviyoApiKey: key }));
  return m;
}

/** n customers of the merchant and one pending message for each; their ids. */
async function enqueue(userId: string, n: number, label = 'msg'): Promise<string[]> {
  return withSystem(async (tx) => {
    const rows = await tx<{ id: string }[]>`
      with c as (
        insert into public.customers (user_id, email, first_name)
        select ${userId}, ${label} || '-' || g || '-' || left(gen_random_uuid()::text, 8) || '@example.test', 'Shopper ' || g
          from generate_series(1, ${n}) g
        returning id
      )
      insert into public.klaviyo_messages (user_id, source, customer_id, metric, properties, value)
      select ${userId}, 'test', c.id, 'Win-back Offer', jsonb_build_object('campaign', 'Spring'), 12.5 from c
      returning id`;
    return rows.map((r) => r.id);
  });
}

interface MessageRow {
  id: string;
  status: string;
  hold: string | null;
  reason: string | null;
  attempts: number;
  sentAt: string | null;
}
const messages = (userId: string) =>
  db()<MessageRow[]>`select id, status, hold, reason, attempts, sent_at from public.klaviyo_messages where user_id = ${userId} order by id`;

const requestsFor = (ids: string[]) => {
  const set = new Set(ids);
  return klaviyo.sent().filter((r) => {
    const uid = (r.body as { data?: { attributes?: { unique_id?: string } } }).data?.attributes?.unique_id;
    return uid !== undefined && set.has(uid);
  });
};
const uniqueIdOf = (r: { body: unknown }) => (r.body as { data: { attributes: { unique_id: string } } }).data.attributes.unique_id;

/** The queue's jobs for these messages, run at once (skipping a backoff or a Retry-After wait). */
async function makeDueNow(ids: string[]): Promise<void> {
  const jobs = await db()<{ id: string }[]>`
    select id::text from graphile_worker.jobs where key = any (${ids.map((i) => `klaviyo:${i}`)}) and attempts < max_attempts`;
  if (jobs.length) await utils.rescheduleJobs(jobs.map((j) => j.id), { runAt: new Date() });
}

describe('delivering messages to Klaviyo', () => {
  it('sends each message once, with its id as unique_id, and marks it sent on the 202', async () => {
    const m = await merchant();
    const ids = await enqueue(m.userId, 3);
    const result = await drainJobs(url(), { concurrency: 4, deadlineMs: 20_000 });
    expect(result.succeeded).toBeGreaterThanOrEqual(3);

    const reqs = requestsFor(ids);
    expect(reqs.map(uniqueIdOf).sort()).toEqual([...ids].sort());
    for (const r of reqs) {
      expect(r).toMatchObject({ method: 'POST', apiKey: GOOD_KEY, revision: '2026-07-15', contentType: 'application/vnd.api+json' });
      expect(r.body).toMatchObject({
        data: {
          type: 'event',
          attributes: {
            metric: { data: { type: 'metric', attributes: { name: 'Win-back Offer' } } },
            properties: { campaign: 'Spring' },
            value: 12.5,
            profile: { data: { type: 'profile', attributes: { email: expect.stringContaining('@example.test'), first_name: expect.stringMatching(/^Shopper/) } } },
          },
        },
      });
    }
    const rows = await messages(m.userId);
    expect(rows.every((r) => r.status === 'sent' && r.sentAt !== null && r.attempts === 1 && r.reason === null)).toBe(true);
  });

  it('sends every message exactly once when two runners drain at the same time', async () => {
    const m = await merchant();
    const ids = await enqueue(m.userId, 150, 'race');
    const [a, b] = await Promise.all([
      drainJobs(url(), { concurrency: 6, deadlineMs: 30_000 }),
      drainJobs(url(), { concurrency: 6, deadlineMs: 30_000 }),
    ]);
    // Both runners took part, and between them each message went once.
    expect(a.ran).toBeGreaterThan(0);
    expect(b.ran).toBeGreaterThan(0);
    const perId = new Map<string, number>();
    for (const r of requestsFor(ids)) perId.set(uniqueIdOf(r), (perId.get(uniqueIdOf(r)) ?? 0) + 1);
    expect(perId.size).toBe(150);
    expect([...perId.values()].every((n) => n === 1)).toBe(true);
    expect((await messages(m.userId)).filter((r) => r.status === 'sent')).toHaveLength(150);
  });

  it('honours Retry-After on a 429: nothing goes before it, the wait is not an attempt, then it is sent', async () => {
    const m = await merchant();
    const [id = ''] = await enqueue(m.userId, 1, 'slow');
    klaviyo.script.push({ status: 429, retryAfter: '2' });
    await drainJobs(url(), { concurrency: 2, deadlineMs: 10_000 });
    const [held] = await messages(m.userId);
    expect(held).toMatchObject({ status: 'pending', attempts: 0, reason: 'Klaviyo asked us to wait 2 s (rate limit)' });
    const [{ dueIn = 0 } = {}] = await db()<{ dueIn: number }[]>`
      select extract(epoch from due_at - now())::float8 as due_in from public.klaviyo_messages where user_id = ${m.userId}`;
    expect(dueIn).toBeGreaterThan(1);

    // A runner that looks now finds nothing due.
    await drainJobs(url(), { concurrency: 2, deadlineMs: 5_000 });
    expect(requestsFor([id])).toHaveLength(1);

    await new Promise((r) => setTimeout(r, 2100));
    await drainJobs(url(), { concurrency: 2, deadlineMs: 10_000 });
    const [first, second] = requestsFor([id]);
    expect(second).toBeDefined();
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(2000);
    expect(await messages(m.userId)).toMatchObject([{ status: 'sent', attempts: 1 }]);
  });

  it('retries errors that may pass, fails the message after the attempt limit, and the merchant can send it again', async () => {
    const m = await merchant();
    const ids = await enqueue(m.userId, 1, 'flaky');
    for (let i = 0; i < 8; i++) klaviyo.script.push({ status: 503, body: '<html>Service Unavailable</html>' });
    for (let i = 0; i < 10; i++) {
      await drainJobs(url(), { concurrency: 1, deadlineMs: 10_000 });
      const [row] = await messages(m.userId);
      if (row?.status !== 'pending') break;
      expect(row.reason).toMatch(/^Klaviyo answered 503 \(attempt \d of 8; trying again\)$/);
      await makeDueNow(ids);
    }
    expect(requestsFor(ids)).toHaveLength(8);
    expect(new Set(requestsFor(ids).map(uniqueIdOf))).toEqual(new Set(ids));
    const [failed] = await messages(m.userId);
    expect(failed).toMatchObject({ status: 'failed', sentAt: null, attempts: 8, reason: 'Klaviyo answered 503 (gave up after 8 attempts)' });

    // Another merchant cannot retry it; the owner can, and it goes.
    const other = await merchant();
    expect(await withSystem(async (tx) => (await tx<{ n: number }[]>`select private.klaviyo_retry(${other.userId}, ${ids}) as n`)[0]?.n)).toBe(0);
    expect(await withSystem(async (tx) => (await tx<{ n: number }[]>`select private.klaviyo_retry(${m.userId}, ${ids}) as n`)[0]?.n)).toBe(1);
    await drainJobs(url(), { concurrency: 1, deadlineMs: 10_000 });
    expect(await messages(m.userId)).toMatchObject([{ status: 'sent', reason: null }]);
    expect(requestsFor(ids)).toHaveLength(9);
  });

  it('fails at once what Klaviyo will never take (400), without retrying', async () => {
    const m = await merchant();
    const ids = await enqueue(m.userId, 1, 'bad');
    klaviyo.script.push({ status: 400 });
    await drainJobs(url(), { concurrency: 1, deadlineMs: 10_000 });
    expect(requestsFor(ids)).toHaveLength(1);
    expect(await messages(m.userId)).toMatchObject([{ status: 'failed', reason: 'Klaviyo answered 400: Scripted error: A 400 from the test' }]);
  });

  it('holds messages of a merchant with no key (never marked sent) and sends them once a key is saved', async () => {
    const m = await merchant(null);
    const ids = await enqueue(m.userId, 2, 'nokey');
    await drainJobs(url(), { concurrency: 2, deadlineMs: 10_000 });
    expect(requestsFor(ids)).toHaveLength(0);
    const held = await messages(m.userId);
    expect(held.every((r) => r.status === 'held' && r.hold === 'no_key' && r.sentAt === null)).toBe(true);
    expect(held[0]?.reason).toBe('No Klaviyo API key: add one in Settings, Integrations');

    await withTenant(m.userId, (tx) => updateIntegrations(tx, m.userId, { klaviyoApiKey: GOOD_KEY }));
    expect((await messages(m.userId)).every((r) => r.status === 'pending')).toBe(true);
    await drainJobs(url(), { concurrency: 2, deadlineMs: 10_000 });
    expect((await messages(m.userId)).every((r) => r.status === 'sent')).toBe(true);
    expect(requestsFor(ids)).toHaveLength(2);
  });

  it('holds messages when Klaviyo refuses the key (401) until a working key is saved', async () => {
    const m = await merchant('pk_test_revoked_9999');
    const ids = await enqueue(m.userId, 1, 'revoked');
    await drainJobs(url(), { concurrency: 1, deadlineMs: 10_000 });
    const [held] = await messages(m.userId);
    expect(held).toMatchObject({ status: 'held', hold: 'key_rejected', sentAt: null });
    expect(held?.reason).toContain('Klaviyo answered 401');
    expect(held?.reason).not.toContain('pk_test_revoked');

    await withTenant(m.userId, (tx) => updateIntegrations(tx, m.userId, { klaviyoApiKey: GOOD_KEY }));
    await drainJobs(url(), { concurrency: 1, deadlineMs: 10_000 });
    expect(await messages(m.userId)).toMatchObject([{ status: 'sent' }]);
    expect(requestsFor(ids).map((r) => r.apiKey)).toEqual(['pk_test_revoked_9999', GOOD_KEY]);
  });

  it('sends again with the same unique_id when a runner dies after Klaviyo took the event, and counts it once', async () => {
    const m = await merchant();
    const ids = await enqueue(m.userId, 1, 'crash');
    // Node itself runs the worker (tsx as a loader), so the kill reaches the process that sends.
    const worker = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', path.resolve('scripts/worker.ts')], {
      env: { ...process.env, JOB_CONCURRENCY: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => worker.on('exit', () => resolve()));
    // Klaviyo receives the event (and keeps it); the runner dies before it can record anything.
    klaviyo.onRequest = (r) => {
      if (ids.includes(uniqueIdOf(r))) worker.kill('SIGKILL');
    };
    try {
      await exited;
    } finally {
      klaviyo.onRequest = null;
    }
    expect(requestsFor(ids)).toHaveLength(1);
    const [inFlight] = await messages(m.userId);
    expect(inFlight).toMatchObject({ status: 'pending', attempts: 1, sentAt: null });

    // What time does for a dead runner: its job lock and the message's lease run out.
    const [job] = await db()<{ lockedBy: string }[]>`select locked_by from graphile_worker.jobs where key = ${`klaviyo:${ids[0]}`}`;
    expect(job?.lockedBy).toBeTruthy();
    await utils.forceUnlockWorkers([job?.lockedBy ?? '']);
    await db()`update public.klaviyo_messages set lease_until = now() - interval '1 second' where user_id = ${m.userId}`;
    await makeDueNow(ids);

    await drainJobs(url(), { concurrency: 1, deadlineMs: 10_000 });
    const reqs = requestsFor(ids);
    expect(reqs).toHaveLength(2);
    expect(reqs.map(uniqueIdOf)).toEqual([ids[0], ids[0]]);
    expect([...klaviyo.events.values()].filter((e) => e.uniqueId === ids[0])).toHaveLength(1);
    expect(await messages(m.userId)).toMatchObject([{ status: 'sent', attempts: 2 }]);
  }, 60_000);
});

describe('the queue behind the API', () => {
  it('is out of reach of the API roles: no schema usage, so no job can be read or added through REST', async () => {
    const rows = await db()<{ role: string; usage: boolean }[]>`
      select r as role, has_schema_privilege(r, 'graphile_worker', 'usage') as usage from unnest(array['anon', 'authenticated']) r`;
    expect(rows).toEqual([{ role: 'anon', usage: false }, { role: 'authenticated', usage: false }]);
  });
});

describe('records that cannot lie', () => {
  it('marks sent only on a 202: another 2xx (a proxy\'s 200) is retried', async () => {
    const m = await merchant();
    const ids = await enqueue(m.userId, 1, 'ok200');
    klaviyo.script.push({ status: 200, body: '{}' });
    await drainJobs(url(), { concurrency: 1, deadlineMs: 10_000 });
    expect(await messages(m.userId)).toMatchObject([{ status: 'pending', reason: expect.stringContaining('Klaviyo answered 200, not 202') }]);
    await makeDueNow(ids);
    await drainJobs(url(), { concurrency: 1, deadlineMs: 10_000 });
    expect(await messages(m.userId)).toMatchObject([{ status: 'sent' }]);
  });

  it('lets only the latest claim record a failure; a late 202 is recorded whoever claimed last', async () => {
    const m = await merchant();
    const [id = ''] = await enqueue(m.userId, 1, 'stale');
    const claim = async () => withSystem(async (tx) => (await tx<{ c: { attempts: number } }[]>`
      select private.klaviyo_claim(${m.userId}, ${id}, now(), interval '0 seconds') as c`)[0]?.c);
    const first = await claim();
    const second = await claim();
    expect([first?.attempts, second?.attempts]).toEqual([1, 2]);
    // The first runner, past its lease, reports a failure: refused, the second claim stands.
    const stale = await withSystem(async (tx) => (await tx<{ ok: boolean }[]>`
      select private.klaviyo_result(${m.userId}, ${id}, 'failed', 'late', null, now(), 1) as ok`)[0]?.ok);
    expect(stale).toBe(false);
    expect(await messages(m.userId)).toMatchObject([{ status: 'pending' }]);
    await withSystem((tx) => tx`select private.klaviyo_result(${m.userId}, ${id}, 'sent', null, null, now(), 1)`);
    expect(await messages(m.userId)).toMatchObject([{ status: 'sent' }]);
  });

  it('does not hold for a refused key when a new key was saved while the request was out', async () => {
    const m = await merchant('pk_test_old_key_0000');
    const [id = ''] = await enqueue(m.userId, 1, 'newkey');
    const [c] = await withSystem((tx) => tx<{ c: { attempts: number } }[]>`select private.klaviyo_claim(${m.userId}, ${id}) as c`);
    // The merchant saves a working key while the request with the old one is out ...
    await new Promise((r) => setTimeout(r, 5));
    await withTenant(m.userId, (tx) => updateIntegrations(tx, m.userId, { klaviyoApiKey: GOOD_KEY }));
    // ... and Klaviyo's 401 for the old key is recorded after: the message goes again, not held.
    await withSystem((tx) => tx`select private.klaviyo_result(${m.userId}, ${id}, 'key_rejected', 'Klaviyo answered 401', null, now(), ${c?.c.attempts ?? 0})`);
    expect(await messages(m.userId)).toMatchObject([{ status: 'pending', hold: null }]);
    await drainJobs(url(), { concurrency: 1, deadlineMs: 10_000 });
    expect(await messages(m.userId)).toMatchObject([{ status: 'sent' }]);
  });

  it('sends what waited for a key once the sweep finds the merchant has one (a hold that raced the key)', async () => {
    const m = await merchant(GOOD_KEY);
    const [id = ''] = await enqueue(m.userId, 1, 'sweep');
    // As a claim that read no key just before the key committed leaves it.
    await db()`update public.klaviyo_messages set status = 'held', hold = 'no_key', reason = 'No Klaviyo API key' where id = ${id}`;
    expect(await withSystem(async (tx) => (await tx<{ n: number }[]>`select private.klaviyo_sweep() as n`)[0]?.n)).toBe(1);
    await drainJobs(url(), { concurrency: 1, deadlineMs: 10_000 });
    expect(await messages(m.userId)).toMatchObject([{ status: 'sent' }]);
  });
});

describe('leases', () => {
  it('refuses a second claim of a message another runner is sending (its lease)', async () => {
    const m = await merchant();
    const [id = ''] = await enqueue(m.userId, 1, 'lease');
    const claim = (uid: string) => withSystem(async (tx) => (await tx<{ c: { action: string } }[]>`select private.klaviyo_claim(${uid}, ${id}) as c`)[0]?.c);
    expect(await claim(m.userId)).toMatchObject({ action: 'send' });
    expect(await claim(m.userId)).toMatchObject({ action: 'busy' });
    // Another merchant's claim of the id finds nothing to send.
    const other = await merchant();
    expect(await claim(other.userId)).toMatchObject({ action: 'skip' });
  });
});
