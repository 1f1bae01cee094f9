import { createLocalUser } from '@/lib/auth/local';
import { closeDb, connect, withSystem, withTenant } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { drainJobs } from '@/lib/jobs/queue';
import { updateIntegrations } from '@/lib/settings/integrations';
import type { RecipientListQuery } from '@/lib/winback/schemas';
import { listRecipients } from '@/lib/winback/service';
import { fmt, machine, percentile, startStandIn, timed } from '@/scripts/bench/util';
import { scratchDatabase } from '@/scripts/embedded-postgres';

const KEY = 'pk_bench_0123456789';

/**
 * Activate a campaign (`winback_activate` enrols the first 5,000) and run its enrol job to the
 * end as a worker would, 5,000 a transaction: how long each took.
 */
export async function activateCampaign(url: string, userId: string, campaignId: string) {
  const activation = await timed(() => withSystem((tx) => tx`select private.winback_activate(${userId}, ${campaignId})`));
  const rest = await timed(async () => {
    for (;;) {
      await drainJobs(url, { concurrency: 4, deadlineMs: 600_000 });
      const [w] = await withSystem((tx) => tx<{ enrolling: boolean }[]>`
        select enrolling from public.winback_campaigns where user_id = ${userId} and id = ${campaignId}`);
      if (!w?.enrolling) break;
    }
  });
  return { activation, rest };
}

/**
 * 10,000 messages due at once, one merchant, sent by one runner (the worker as `npm run worker`
 * runs it, JOB_CONCURRENCY jobs at a time) to the Klaviyo stand-in limited to 350 a second:
 * what the pacing achieves against that limit, whether anything went twice, and how many 429s
 * came back (each one deferred to its Retry-After, not failed).
 */
export async function runWinbackBench(): Promise<string> {
  const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
  const LIMIT = 350;
  const CONCURRENCY = Number(process.env.JOB_CONCURRENCY ?? 32);
  const scratch = await scratchDatabase('bench_winback');
  // Only the burst limit binds: the steady minute (what the headers report) is set above it.
  const standIn = await startStandIn(LIMIT, LIMIT * 60, KEY);
  process.env.DATABASE_URL = scratch.url;
  process.env.KLAVIYO_API_URL = standIn.url;
  process.env.APP_ENCRYPTION_KEY ??= Buffer.alloc(32, 5).toString('base64');
  reloadEnv();
  const pool = connect(scratch.url, 2);
  try {
    const merchant = await withSystem((tx) => createLocalUser(tx, 'bench@bench.test', 'bench-password'));
    if (!merchant) throw new Error('no bench merchant');
    await withTenant(merchant.userId, (tx) => updateIntegrations(tx, merchant.userId, { klaviyoApiKey: KEY }));
    const enqueue = await timed(() => pool`
      with c as (
        insert into public.customers (user_id, email, first_name)
        select ${merchant.userId}, 'shopper' || g || '@bench.test', 'Shopper' from generate_series(1, ${MESSAGES}) g
        returning id
      )
      insert into public.klaviyo_messages (user_id, source, customer_id, metric, properties)
      select ${merchant.userId}, 'bench', c.id, 'Win-back Offer', '{"campaign": "bench"}' from c`);
    await pool`analyze`;

    const run = await timed(async () => {
      let left = MESSAGES;
      // One runner; a call ends when nothing is due (deferred 429s fall due a second later), so call again until all are sent.
      while (left > 0) {
        await drainJobs(scratch.url, { concurrency: CONCURRENCY, deadlineMs: 300_000 });
        const [r] = await pool<{ n: number }[]>`select count(*)::int as n from public.klaviyo_messages where status <> 'sent'`;
        left = r?.n ?? 0;
        if (left > 0) await new Promise((res) => setTimeout(res, 200));
      }
    });
    const stats = await standIn.stats();

    // A big audience: a merchant with BENCH_CUSTOMERS customers, half of them at risk.
    const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 200_000);
    const big = await withSystem((tx) => createLocalUser(tx, 'big@bench.test', 'bench-password'));
    if (!big) throw new Error('no big merchant');
    await pool`
      insert into public.customers (user_id, email, stage, became_at_risk_at, stage_changed_at, total_orders, lifetime_value, last_purchase_at, created_at)
      select ${big.userId}, 'c' || g || '@big.test', case when g % 2 = 0 then 'at_risk' else 'repeat' end,
             case when g % 2 = 0 then now() - interval '10 days' end, now() - interval '10 days', 2, 40 + g % 300,
             now() - interval '100 days', now() - interval '400 days'
        from generate_series(1, ${CUSTOMERS}) g`;
    await pool`analyze`;
    const [campaign] = await pool<{ id: string }[]>`
      insert into public.winback_campaigns (user_id, name, holdout_percent, target_stages) values (${big.userId}, 'Big', 10, '{at_risk}') returning id`;
    const cid = campaign?.id ?? '';
    const preview = await timed(() => pool`select private.winback_preview(${big.userId}, ${cid})`);
    const { activation, rest } = await activateCampaign(scratch.url, big.userId, cid);
    const [enrolled] = await pool<{ n: number; jobs: number }[]>`
      select (select count(*)::int from public.winback_recipients where user_id = ${big.userId}) as n,
             (select count(*)::int from graphile_worker.jobs where task_identifier = 'klaviyo_send') as jobs`;
    await pool`analyze`;
    const results = await timed(() => pool`select private.winback_results(${big.userId}, ${cid})`);
    // The recipients list as the campaign page asks for it (`listRecipients`: a keyset page with
    // the counts by status): the first page, one status, and a page from the middle.
    const bigId = big?.userId ?? '';
    const [middle] = await pool<{ id: string }[]>`
      select id from public.winback_recipients where user_id = ${bigId} and campaign_id = ${cid}
       order by id offset (select count(*) / 2 from public.winback_recipients where user_id = ${bigId} and campaign_id = ${cid}) limit 1`;
    const pages: RecipientListQuery[] = [{ limit: 50 }, { limit: 50, status: 'control' }, { limit: 50, after: middle?.id }];
    const pageTimes: number[] = [];
    for (let round = 0; round < 12; round++) {
      for (const q of pages) {
        const t = await timed(() => withTenant(bigId, (tx) => listRecipients(tx, bigId, cid, q)));
        if (round >= 2) pageTimes.push(t.ms);
      }
    }

    const [rows] = await pool<{ sent: number; attempts: number }[]>`
      select count(*) filter (where status = 'sent')::int as sent, sum(attempts)::int as attempts from public.klaviyo_messages`;
    const span = stats.first !== null && stats.last !== null ? (stats.last - stats.first) / 1000 : run.ms / 1000;
    const perSec = stats.accepted / span;
    const wall = MESSAGES / (run.ms / 1000);
    return [
      `## winback (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. Reproduce: \`npm run bench -- winback\` (\`BENCH_MESSAGES\`, \`JOB_CONCURRENCY\`).`,
      '',
      `${fmt(MESSAGES, 0)} messages due at once for one merchant, one runner (graphile-worker, ${CONCURRENCY} jobs at a time), the Klaviyo stand-in in a process of its own limited to ${LIMIT} events a second (fixed one-second windows, 429 with Retry-After past it). Enqueued in one statement in ${fmt(enqueue.ms / 1000, 2)} s (the insert trigger adds the jobs).`,
      '',
      '| measure | result | target | |',
      '| --- | --- | --- | --- |',
      `| accepted events per second, first request to last | ${fmt(perSec, 0)}/s (${fmt((perSec / LIMIT) * 100, 0)}% of the limit) | ≥ 90% of ${LIMIT}/s | ${perSec >= 0.9 * LIMIT ? 'met' : '**not met**'} |`,
      `| all sent, from the first job to the last record | ${fmt(run.ms / 1000, 1)} s (${fmt(wall, 0)}/s) | | |`,
      `| messages sent | ${fmt(rows?.sent ?? 0, 0)} of ${fmt(MESSAGES, 0)}, Klaviyo holds ${fmt(stats.accepted, 0)} events | all, once | ${rows?.sent === MESSAGES && stats.accepted === MESSAGES ? 'met' : '**not met**'} |`,
      `| unique_ids sent more than once | ${fmt(stats.repeated, 0)} (requests ${fmt(stats.requests, 0)}) | 0 beyond 429s | ${stats.requests - stats.rateLimited === MESSAGES ? 'met' : '**not met**'} |`,
      `| 429s received | ${fmt(stats.rateLimited, 0)} (each deferred to its Retry-After; attempts counted ${fmt(rows?.attempts ?? 0, 0)}) | few | |`,
      '',
      `A merchant with ${fmt(CUSTOMERS, 0)} customers, half at risk, and a campaign for them holding back 10%:`,
      '',
      '| measure | result | target | |',
      '| --- | --- | --- | --- |',
      `| audience preview (\`winback_preview\`, the form's count) | ${fmt(preview.ms, 0)} ms | | |`,
      `| activation (\`winback_activate\`: the first 5,000 enrolled, the rest handed to a job) | ${fmt(activation.ms, 0)} ms | | |`,
      `| the whole audience enrolled: ${fmt(enrolled?.n ?? 0, 0)} recipients with their offers and jobs, 5,000 a transaction | ${fmt(rest.ms / 1000, 1)} s after activation (${fmt((enrolled?.n ?? 0) / ((activation.ms + rest.ms) / 1000), 0)}/s) | | |`,
      `| results with the lift (\`winback_results\`, a pass over the campaign's recipients) | ${fmt(results.ms, 0)} ms | | |`,
      `| recipients list (\`listRecipients\`, with the counts by status): first page, one status, a page from the middle | p95 ${fmt(percentile(pageTimes, 95), 1)} ms | p95 < 100 ms | ${percentile(pageTimes, 95) < 100 ? 'met' : '**not met**'} |`,
    ].join('\n');
  } finally {
    await pool.end();
    await closeDb();
    standIn.stop();
    await scratch.drop();
  }
}
