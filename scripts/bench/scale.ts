import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { CRON_JOBS, runCronJob } from '@/lib/cron/jobs';
import { closeDb, db, withSystem, withTenant } from '@/lib/db';
import { listGifts } from '@/lib/gifts/service';
import { loyaltyDashboard } from '@/lib/loyalty/dashboard';
import { listMembers as listLoyaltyMembers } from '@/lib/loyalty/service';
import { listRecipients } from '@/lib/winback/service';
import { loadGifts } from '@/scripts/bench/gifts';
import { type BenchRow, benchListSync, benchMerchant, journeyRows, load, measureJourney, ok } from '@/scripts/bench/journey';
import { enrolMembers } from '@/scripts/bench/loyalty';
import { fmt, machine, percentile, timed } from '@/scripts/bench/util';
import { activateCampaign } from '@/scripts/bench/winback';

/** Where each size's last run is kept, so the section shows every size side by side. */
const RESULTS = 'docs/benchmarks-scale.json';

interface ScaleRun {
  customers: number;
  date: string;
  commit: string;
  machine: string;
  minutes: number;
  rows: BenchRow[];
}

/**
 * Every module's data beside the journey's: a loyalty program with 30% of the customers as
 * members (ledger, tiers, birthdays, some points expiring within a day), a win-back campaign
 * for the at-risk customers enrolled to the end by its job, and a gift for one customer in ten
 * (1% of the delivered ones expiring within a day).
 */
async function loadModules(userId: string, customers: number) {
  await withSystem((tx) => tx`select private.loyalty_setup(${userId})`);
  await db()`update public.loyalty_programs set birthday_points = 50 where user_id = ${userId}`;
  await enrolMembers(userId, Math.floor(customers * 0.3));
  const [campaign] = await db()<{ id: string }[]>`
    insert into public.winback_campaigns (user_id, name, holdout_percent, target_stages)
    values (${userId}, 'Scale', 10, '{at_risk}') returning id`;
  const campaignId = campaign?.id ?? '';
  const enrolment = await activateCampaign(process.env.DATABASE_URL ?? '', userId, campaignId);
  await loadGifts(db(), userId, Math.floor(customers / 10));
  await db()`
    update public.gifts set expires_at = now() + interval '12 hours'
     where user_id = ${userId} and status = 'delivered' and right(recipient_email, 13) = '02@bench.test'`;
  await db()`vacuum analyze`;
  const [counts] = await db()<{ members: number; recipients: number; gifts: number }[]>`
    select (select count(*)::int from public.loyalty_members where user_id = ${userId}) as members,
           (select count(*)::int from public.winback_recipients where user_id = ${userId}) as recipients,
           (select count(*)::int from public.gifts where user_id = ${userId}) as gifts`;
  return { campaignId, enrolMs: enrolment.activation.ms + enrolment.rest.ms, ...(counts ?? { members: 0, recipients: 0, gifts: 0 }) };
}

/** p95 of `fn` over rounds, the first rounds as warm-up. */
async function p95(fns: (() => Promise<unknown>)[], rounds = 12, warm = 2): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const fn of fns) {
      const t = await timed(fn);
      if (round >= warm) times.push(t.ms);
    }
  }
  return percentile(times, 95);
}

/** The modules' pages as their routes read them (each in the merchant's transaction, RLS on). */
async function benchModuleLists(userId: string, campaignId: string) {
  const tenant = <T>(fn: Parameters<typeof withTenant<T>>[1]) => () => withTenant(userId, fn);
  const dashboard = await p95([tenant((tx) => loyaltyDashboard(tx, userId))], 30, 5);
  const members = await p95([
    tenant((tx) => listLoyaltyMembers(tx, userId, { sort: 'balance', order: 'desc', limit: 20 })),
    tenant((tx) => listLoyaltyMembers(tx, userId, { sort: 'joined', order: 'desc', limit: 20, end: 'last' })),
    tenant((tx) => listLoyaltyMembers(tx, userId, { sort: 'balance', order: 'desc', limit: 20, search: 'c12345' })),
  ]);
  const [middle] = await db()<{ id: string }[]>`
    select id from public.winback_recipients where user_id = ${userId} and campaign_id = ${campaignId}
     order by id offset (select count(*) / 2 from public.winback_recipients where user_id = ${userId} and campaign_id = ${campaignId}) limit 1`;
  const recipients = await p95([
    tenant((tx) => listRecipients(tx, userId, campaignId, { limit: 50 })),
    tenant((tx) => listRecipients(tx, userId, campaignId, { limit: 50, status: 'control' })),
    tenant((tx) => listRecipients(tx, userId, campaignId, { limit: 50, after: middle?.id })),
  ]);
  const results = await timed(() => withSystem((tx) => tx`select private.winback_results(${userId}, ${campaignId})`));
  const [deep] = await db()<{ id: string }[]>`
    select id from public.gifts where user_id = ${userId} order by created_at desc, id desc
    offset (select count(*) * 9 / 10 from public.gifts where user_id = ${userId}) limit 1`;
  const gifts = await p95([
    tenant((tx) => listGifts(tx, userId, { limit: 25 })),
    tenant((tx) => listGifts(tx, userId, { limit: 25, after: deep?.id })),
    tenant((tx) => listGifts(tx, userId, { limit: 25, status: 'cancelled' })),
  ]);
  return { dashboard, members, recipients, resultsMs: results.ms, gifts };
}

/** The order every job runs in a cycle: storefront events folded and stage moves first, since enrolment and segments follow them; the rollups' fold and the queue after what fills them. */
const CYCLE = ['touchpoints', 'stages', 'winback', 'segments', 'loyalty', 'gifts', 'coupons', 'rollups', 'rate-limits', 'jobs'];

/**
 * A full cron cycle as of `now`: each job called (as `/api/cron/<job>` calls it, recording its
 * run for Settings) until it says it is not behind. Calls, the whole cycle's time, the longest
 * call, and what was done.
 */
async function cronCycle(now: Date) {
  const missing = Object.keys(CRON_JOBS).filter((job) => !CYCLE.includes(job));
  if (missing.length) throw new Error(`the cycle leaves out ${missing.join(', ')}`);
  let calls = 0;
  let longest = 0;
  let longestJob = '';
  const done: Record<string, number> = {};
  const total = await timed(async () => {
    for (const name of CYCLE) {
      const job = CRON_JOBS[name];
      if (!job) throw new Error(`no cron job ${name}`);
      for (let call = 0; ; call++) {
        if (call >= 500) throw new Error(`${name} still behind after 500 calls`);
        const t = await timed(() => runCronJob(name, job, now));
        calls += 1;
        if (t.ms > longest) [longest, longestJob] = [t.ms, name];
        for (const [k, v] of Object.entries(t.value)) {
          if (['steps', 'behind', 'work', 'idle'].includes(k)) continue;
          done[`${name}.${k}`] = (done[`${name}.${k}`] ?? 0) + v;
        }
        if (!t.value.behind) break;
      }
    }
  });
  const summary = ['stages.changed', 'winback.enrolled', 'segments.added', 'segments.removed', 'loyalty.expiredMembers', 'loyalty.birthdays', 'gifts.expired', 'jobs.ran']
    .map((k) => `${k.split('.')[1]} ${fmt(done[k] ?? 0, 0)}`).join(', ');
  return { calls, ms: total.ms, longest, longestJob, summary };
}

function commit(): string {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

/** Every size's last run, side by side: the rows of the largest run, each size's result in its column. */
function render(runs: ScaleRun[]): string {
  const sizes = [...runs].sort((a, b) => a.customers - b.customers);
  const largest = sizes[sizes.length - 1];
  const measures = [...new Set(sizes.slice().reverse().flatMap((r) => r.rows.map((row) => row.measure)))];
  const cell = (run: ScaleRun, measure: string) => {
    const row = run.rows.find((r) => r.measure === measure);
    return row ? `${row.result}${row.met === undefined ? '' : ` (${ok(row.met)})`}` : '';
  };
  const target = (measure: string) => sizes.map((r) => r.rows.find((row) => row.measure === measure)?.target).find((t) => t !== undefined) ?? '';
  return [
    `## scale (${largest?.date ?? ''})`,
    '',
    'One merchant with every module in use: BENCH_CUSTOMERS customers with 10 touchpoints each, 30% of them loyalty members,',
    'a win-back campaign for the at-risk ones, a gift for one in ten. Reproduce: `npm run bench -- scale` (1,000,000 customers;',
    '`BENCH_CUSTOMERS=200000 npm run bench -- scale` for the other column). Each column is that size\'s last run:',
    '',
    ...sizes.map((r) => `- ${fmt(r.customers, 0)} customers: ${r.date}, commit ${r.commit}, ${r.machine}; the whole run ${fmt(r.minutes)} min.`),
    '',
    `| measure | ${sizes.map((r) => `${fmt(r.customers, 0)} customers`).join(' | ')} | target |`,
    `| --- | ${sizes.map(() => '---').join(' | ')} | --- |`,
    ...measures.map((m) => `| ${m} | ${sizes.map((r) => cell(r, m)).join(' | ')} | ${target(m)} |`),
  ].join('\n');
}

export async function runScaleBench(): Promise<string> {
  const started = Date.now();
  const customers = Number(process.env.BENCH_CUSTOMERS ?? 1_000_000);
  const perCustomer = 10;
  const { scratch, env, userId, merchant } = await benchMerchant('bench_scale');
  try {
    console.log(`loading ${fmt(customers, 0)} customers and ${fmt(customers * perCustomer, 0)} touchpoints...`);
    const journeyLoad = await timed(() => load(userId, customers, perCustomer));
    console.log(`loaded in ${fmt(journeyLoad.ms / 1000)} s; loyalty members, a win-back campaign, gifts...`);
    const modules = await timed(() => loadModules(userId, customers));
    const { campaignId } = modules.value;
    console.log(`modules loaded in ${fmt(modules.ms / 1000)} s`);

    // Orders as a shop sends them to a store using every module: one in ten names a member's
    // referral code, one in twenty a gift's recipient; recipients of the campaign among the buyers are attributed.
    const codes = (await db()<{ code: string }[]>`
      select referral_code as code from public.loyalty_members where user_id = ${userId} order by customer_id desc limit 50`).map((r) => r.code);
    const journey = await measureJourney({ userId, merchant, env, customers }, {
      noteAttributes: (c, i): Record<string, string> | undefined => {
        const n = c * 250 + i;
        if (n % 10 === 0) return { referral_code: codes[(c + i) % codes.length] ?? '' };
        if (n % 20 === 5) return { gift_recipient_email: `friend-${c}-${i}@bench.test`, gift_message: 'Enjoy' };
        return undefined;
      },
    });
    const [made] = await db()<{ referrals: number; gifts: number; points: number; attributed: number }[]>`
      select (select count(*)::int from public.referrals where user_id = ${userId}) as referrals,
             (select count(*)::int from public.gifts where user_id = ${userId} and origin = 'order') as gifts,
             (select count(*)::int from public.points_transactions where user_id = ${userId} and type = 'earn_purchase' and source not like 'bench:%') as points,
             (select count(*)::int from public.winback_recipients where user_id = ${userId} and recovered_at is not null) as attributed`;

    console.log('module lists...');
    const lists = await benchModuleLists(userId, campaignId);
    console.log('cron cycles...');
    const day = await cronCycle(new Date(Date.now() + 86_400_000));
    const month = await cronCycle(new Date(Date.now() + 31 * 86_400_000));

    // The sync saves a Klaviyo key, which releases every message held for one (the campaign's
    // offers): they are cancelled first, so the sync's figures are the list's alone.
    await db()`update public.klaviyo_messages set status = 'cancelled', hold = null where user_id = ${userId} and status in ('held', 'pending')`;
    console.log('Klaviyo list sync...');
    const sync = await benchListSync(userId, journey.seg.segmentId, journey.seg.members);
    const minutes = (Date.now() - started) / 60_000;

    const budget = Number(process.env.CRON_BUDGET_SECONDS ?? 10);
    const cycleRow = (label: string, c: Awaited<ReturnType<typeof cronCycle>>): BenchRow => ({
      measure: `full cron cycle ${label}: every \`/api/cron/*\` job called until it is not behind (${CYCLE.join(', ')})`,
      result: `${c.calls} calls, ${fmt(c.ms / 1000)} s; longest call ${fmt(c.longest / 1000)} s (${c.longestJob}); ${c.summary}`,
      target: `every call within the budget (${budget} s) and one step`,
      met: c.longest < (budget + 2) * 1000,
    });
    const m = modules.value;
    const rows: BenchRow[] = [
      { measure: 'the data set loaded (customers and touchpoints by SQL, stages settled by the stage machine; then the modules\' data)', result: `${fmt(journeyLoad.ms / 1000, 0)} s + ${fmt(modules.ms / 1000, 0)} s: ${fmt(m.members, 0)} members, ${fmt(m.recipients, 0)} campaign recipients (enrolled by the job in ${fmt(m.enrolMs / 1000)} s), ${fmt(m.gifts, 0)} gifts`, target: '' },
      ...journeyRows(journey, sync),
      { measure: 'what those orders did in the modules', result: `${fmt(made?.points ?? 0, 0)} purchase points earned, ${fmt(made?.referrals ?? 0, 0)} referrals, ${fmt(made?.gifts ?? 0, 0)} gifts made, ${fmt(made?.attributed ?? 0, 0)} campaign recipients recovered`, target: '' },
      { measure: 'loyalty dashboard (`loyaltyDashboard`)', result: `p95 ${fmt(lists.dashboard)} ms`, target: 'p95 < 50 ms', met: lists.dashboard < 50 },
      { measure: 'loyalty members (`listMembers`): first page by balance, last page by join date, a search', result: `p95 ${fmt(lists.members)} ms`, target: 'p95 < 100 ms', met: lists.members < 100 },
      { measure: 'win-back recipients (`listRecipients`, with the counts by status): first page, one status, a page from the middle', result: `p95 ${fmt(lists.recipients)} ms`, target: 'p95 < 100 ms', met: lists.recipients < 100 },
      { measure: 'win-back results with the lift (`winback_results`)', result: `${fmt(lists.resultsMs, 0)} ms`, target: '' },
      { measure: 'gifts (`listGifts`): first page, a page 90% down, one status', result: `p95 ${fmt(lists.gifts)} ms`, target: 'p95 < 100 ms', met: lists.gifts < 100 },
      cycleRow('a day later', day),
      cycleRow('a month later (cron down for 30 days)', month),
      { measure: 'the whole run', result: `${fmt(minutes)} min`, target: customers >= 1_000_000 ? '< 25 min' : '', met: customers >= 1_000_000 ? minutes < 25 : undefined },
    ];

    const run: ScaleRun = { customers, date: new Date().toISOString().slice(0, 10), commit: commit(), machine: machine(), minutes, rows };
    const kept = JSON.parse(await readFile(RESULTS, 'utf8').catch(() => '[]')) as ScaleRun[];
    const runs = [...kept.filter((r) => r.customers !== customers), run];
    await writeFile(RESULTS, `${JSON.stringify(runs, null, 2)}\n`);
    return render(runs);
  } finally {
    await closeDb();
    await scratch.drop();
  }
}
