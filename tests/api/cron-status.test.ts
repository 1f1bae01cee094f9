import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GET as cron } from '@/app/api/cron/[job]/route';
import { GET as jobsStatus } from '@/app/api/settings/jobs/route';
import { CRON_JOBS, runCronJob } from '@/lib/cron/jobs';
import { CRON_JOB_INFO, type CronStatus } from '@/lib/cron/schemas';
import { connect, db } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { call } from '@/tests/helpers/http';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

const auth = () => ({ authorization: `Bearer ${process.env.CRON_SECRET}` });
const runJob = (job: string) => call<Record<string, number>>(cron, `/api/cron/${job}`, { params: { job }, headers: auth() });
const status = (m: TestMerchant) => call<CronStatus>(jobsStatus, '/api/settings/jobs', { cookie: m.cookie });

let m: TestMerchant;
beforeAll(async () => {
  m = await createMerchant('cron-status');
});
afterEach(() => {
  delete process.env.CRON_BUDGET_SECONDS;
  reloadEnv();
});

describe('cron calls within a budget', () => {
  it('every job answers within its budget and says whether it is behind; Settings knows each one', async () => {
    expect(Object.keys(CRON_JOBS).sort()).toEqual(Object.keys(CRON_JOB_INFO).sort());
    for (const job of Object.keys(CRON_JOBS)) {
      const res = await runJob(job);
      expect({ job, status: res.status, behind: res.body.behind }).toEqual({ job, status: 200, behind: 0 });
    }
  });

  it('a job with more than one call of work resumes where it stopped, and two calls at once take different rows', async () => {
    process.env.CRON_BUDGET_SECONDS = '0';
    reloadEnv();
    const [seg] = await db()<{ id: string }[]>`
      insert into public.customer_segments (user_id, name, criteria) values (${m.userId}, 'All subscribed', '{"email_subscribed": true}') returning id`;
    await runJob('segments');
    // 2,500 customers arrive at once (an import): the segments job has 3 steps of 1,000 to drain.
    await db()`insert into public.customers (user_id, email) select ${m.userId}, 'import' || g || '@example.test' from generate_series(1, 2500) g`;
    const first = await runJob('segments');
    expect(first.body).toMatchObject({ steps: 1, changes: 1, behind: 1 });
    const mid = (await status(m)).body.jobs.find((j) => j.job === 'segments');
    expect(mid?.state).toBe('behind');

    const calls = [first.body];
    calls.push(...(await Promise.all([runJob('segments'), runJob('segments')])).map((r) => r.body));
    while (calls.at(-1)?.behind === 1 && calls.length < 20) calls.push((await runJob('segments')).body);
    expect(calls.at(-1)?.behind).toBe(0);
    // Each queued customer was taken by exactly one call.
    expect(calls.reduce((n, c) => n + (c.customers ?? 0), 0)).toBe(2500);
    const [row] = await db()<{ members: number; expected: number }[]>`
      select public.segment_member_count(${m.userId}, ${seg?.id ?? ''}) as members,
             (select count(*)::int from public.segment_member_ids(${m.userId}, '{"email_subscribed": true}')) as expected`;
    expect(row?.members).toBe(row?.expected);
    expect(row?.members).toBeGreaterThanOrEqual(2500);
    expect((await status(m)).body.jobs.find((j) => j.job === 'segments')?.state).toBe('ok');
  });
});

describe('cron steps report what is left', () => {
  it('stages: a due review whose customer an order holds does not hide the rest of the backlog', async () => {
    const { userId } = await createMerchant('cron-locked');
    const due = async () => (await db()<{ n: number }[]>`
      select count(*)::int as n from private.stage_reviews where user_id = ${userId} and review_at <= now()`)[0]?.n ?? 0;
    await db()`insert into public.customers (user_id, email, created_at)
               select ${userId}, 'st' || g || '@example.test', now() - interval '400 days' from generate_series(1, 1500) g`;
    await db()`insert into private.stage_reviews (user_id, customer_id, review_at)
               select user_id, id, now() - interval '1 day' - (row_number() over (order by id)) * interval '1 second'
                 from public.customers where user_id = ${userId}
               on conflict (user_id, customer_id) do update set review_at = excluded.review_at`;
    const [oldest] = await db()<{ id: string }[]>`
      select customer_id as id from private.stage_reviews where user_id = ${userId} order by review_at limit 1`;
    const other = connect(process.env.DATABASE_URL ?? '', 1);
    let release: () => void = () => undefined;
    const holding = other.begin(async (tx) => {
      await tx`select 1 from public.customers where id = ${oldest?.id ?? ''} for update`;
      await new Promise<void>((r) => { release = r; });
    });
    await new Promise((r) => setTimeout(r, 200));
    const result = await CRON_JOBS.stages?.(new Date());
    release();
    await holding;
    await other.end();
    // Only the held customer may be left; the call went on past its first 1,000-row step.
    expect(await due()).toBeLessThanOrEqual(1);
    expect(result?.steps).toBeGreaterThan(1);
  });

  it('rate limits: a flood of ended windows is cleared in bounded steps', async () => {
    await db()`insert into private.rate_limits (bucket, window_start, hits, expires_at)
               select 'flood:' || g, now() - interval '2 hours', 1, now() - interval '1 hour' from generate_series(1, 25000) g`;
    process.env.CRON_BUDGET_SECONDS = '0';
    reloadEnv();
    const one = await CRON_JOBS['rate-limits']?.(new Date());
    expect(one).toMatchObject({ steps: 1, purged: 10000, behind: 1 });
  });
});

describe('Settings: scheduled jobs', () => {
  it('a finished call is finished whatever the app\u2019s clock says (both instants are the database\u2019s)', async () => {
    await runCronJob('coupons', CRON_JOBS.coupons ?? (() => Promise.resolve({})), new Date(Date.now() + 5000));
    const coupons = (await status(m)).body.jobs.find((j) => j.job === 'coupons');
    expect(coupons?.state).toBe('ok');
    expect(coupons?.durationMs).toEqual(expect.any(Number));
  });

  it('shows each job\u2019s last run, duration and state, and nothing of what it did or why it failed', async () => {
    await runJob('coupons');
    await db()`
      insert into private.cron_runs (job, last_started_at, last_finished_at, last_result, last_error, runs)
      values ('gifts', now() - interval '1 minute', now() - interval '55 seconds', '{"expired": 3}', 'relation "secret_table" does not exist', 1),
             ('stages', now() - interval '3 hours', now() - interval '3 hours', '{"checked": 9}', null, 1)
      on conflict (job) do update set last_started_at = excluded.last_started_at, last_finished_at = excluded.last_finished_at,
        last_result = excluded.last_result, last_error = excluded.last_error`;
    await db()`delete from private.cron_runs where job = 'loyalty'`;
    const res = await status(m);
    expect(res.status).toBe(200);
    const by = Object.fromEntries(res.body.jobs.map((j) => [j.job, j]));
    expect(by.coupons).toMatchObject({ state: 'ok', durationMs: expect.any(Number), lastStartedAt: expect.any(String) });
    expect(by.gifts).toMatchObject({ state: 'failed', durationMs: 5000 });
    expect(by.stages?.state).toBe('late');
    expect(by.loyalty).toEqual({ job: 'loyalty', lastStartedAt: null, lastFinishedAt: null, durationMs: null, state: 'never' });
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('secret_table');
    expect(text).not.toContain('expired');
    expect(Object.keys(by.coupons ?? {}).sort()).toEqual(['durationMs', 'job', 'lastFinishedAt', 'lastStartedAt', 'state']);
  });

  it('is for signed-in merchants only', async () => {
    expect((await call(jobsStatus, '/api/settings/jobs')).status).toBe(401);
  });
});
