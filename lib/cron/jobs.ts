import 'server-only';
import { withSystem, type Tx } from '@/lib/db';
import { env } from '@/lib/env';
import { drainJobs } from '@/lib/jobs/queue';

/** A timed job: bounded work per call, idempotent, safe when two runs overlap. */
export type CronJob = (now: Date) => Promise<Record<string, number>>;

/** What one step of a stepped job did, and whether more may be left. */
export interface StepResult {
  kind: string;
  more: boolean;
  [count: string]: number | string | boolean;
}

/** The time one call may spend, from CRON_BUDGET_SECONDS. */
const budgetMs = () => env().CRON_BUDGET_SECONDS * 1000;

/**
 * A job made of steps: each step is its own transaction doing one bounded slice, so what it did
 * is kept whatever happens next. A call runs steps until one says nothing is left or the budget
 * (CRON_BUDGET_SECONDS) is spent, at least one (each is told its turn, so a job can rotate its work); the next call resumes where this one stopped
 * (every job takes its work from a queue or an indexed due time, so "where it stopped" is simply
 * what is still due). Counts are summed by name, steps counted by kind; `behind` is 1 when the
 * call ended with work left.
 */
export function stepped(step: (tx: Tx, now: Date, turn: number) => Promise<StepResult>, budget: () => number = budgetMs): CronJob {
  return async (now) => {
    const deadline = Date.now() + budget();
    const totals: Record<string, number> = { steps: 0 };
    let more = true;
    do {
      const turn = totals.steps ?? 0;
      const r = await withSystem((tx) => step(tx, now, turn));
      totals.steps = (totals.steps ?? 0) + 1;
      for (const [key, value] of Object.entries(r)) {
        if (key === 'kind' || key === 'more') continue;
        if (typeof value === 'number') totals[key] = (totals[key] ?? 0) + value;
      }
      if (r.kind !== 'idle') totals[r.kind] = (totals[r.kind] ?? 0) + 1;
      more = r.more;
    } while (more && Date.now() < deadline);
    return { ...totals, behind: more ? 1 : 0 };
  };
}

/** Rows one step of a job takes at most: small enough that a step is well under a second. */
export const STEP_ROWS = 1000;
/** Queued storefront batches (up to 500 events each, of different stores) one step folds: about a second. */
const FOLD_BATCHES = 4;
/** Analytics deltas one step folds (a fold is one cheap statement per kind). */
const FOLD_ROWS = 20_000;

/**
 * A step of SQL calls, each bounded by its own row limit: more may be left when a count reached
 * its limit (`full`: the counts that say so, with the limit each was called with). A claim
 * skips rows another transaction holds (an order on the same customer), so a count just under
 * its limit does not prove the queue empty: `due`, a cheap indexed probe, says whether work is
 * still due after a step that did some.
 */
function limited(
  sqlStep: (tx: Tx, now: Date) => Promise<Record<string, number>>,
  full: Record<string, number>,
  due?: (tx: Tx, now: Date) => Promise<boolean>,
): CronJob {
  return stepped(async (tx, now) => {
    const counts = await sqlStep(tx, now);
    const reached = Object.entries(full).some(([k, limit]) => (counts[k] ?? 0) >= limit);
    const worked = Object.values(counts).some((n) => n > 0);
    return { kind: 'work', ...counts, more: reached || (worked && due !== undefined && (await due(tx, now))) };
  });
}

/** Whether a query finds a row. */
const exists = async (rows: Promise<{ due: boolean }[]>) => (await rows)[0]?.due ?? false;

/** Every job behind /api/cron/[job]; later modules add theirs here. */
export const CRON_JOBS: Record<string, CronJob> = {
  // Rate-limit windows that have ended.
  'rate-limits': limited(async (tx, now) => {
    const [row] = await tx<{ purged: number }[]>`select private.purge_rate_limits(${now}, ${STEP_ROWS * 10}) as purged`;
    return { purged: row?.purged ?? 0 };
  }, { purged: STEP_ROWS * 10 }),
  // Time-based stage changes (at risk, churned): the reviews that are due, oldest first.
  stages: limited(async (tx, now) => {
    const [row] = await tx<{ r: { checked: number; changed: number } }[]>`
      select private.evaluate_stages(null, ${now}, ${STEP_ROWS}) as r`;
    return row?.r ?? { checked: 0, changed: 0 };
  }, { checked: STEP_ROWS }, (tx, now) => exists(tx`select exists (select 1 from private.stage_reviews where review_at <= ${now}) as due`)),
  // Storefront batches /api/track accepted: folded into their customers (activity, lead
  // capture, affinity, stage), the oldest batch of each store in turn (each store's in the
  // order they were queued).
  touchpoints: limited(async (tx, now) => {
    const [row] = await tx<{ r: { batches: number; events: number } }[]>`
      select private.fold_touchpoints(${FOLD_BATCHES}, ${now}) as r`;
    return row?.r ?? { batches: 0, events: 0 };
  }, { batches: FOLD_BATCHES }, (tx) => exists(tx`select exists (select 1 from private.touchpoint_folds) as due`)),
  // Fold analytics deltas (customer counts, daily trends, cohorts, loyalty days and tiers, win-back figures and recipients by status) into the totals.
  rollups: limited(async (tx) => {
    const [row] = await tx<{ customers: number; trends: number; loyalty: number; winback: number; winbackStatuses: number }[]>`
      select private.compact_customer_rollups(${FOLD_ROWS}) as customers, private.compact_trends(${FOLD_ROWS}) as trends,
             private.compact_loyalty(${FOLD_ROWS}) as loyalty, private.compact_winback(${FOLD_ROWS}) as winback,
             private.compact_winback_statuses(${FOLD_ROWS}) as winback_statuses`;
    return {
      folded: row?.customers ?? 0, trends: row?.trends ?? 0, loyalty: row?.loyalty ?? 0, winback: row?.winback ?? 0,
      winbackStatuses: row?.winbackStatuses ?? 0,
    };
  }, { folded: FOLD_ROWS, trends: FOLD_ROWS, loyalty: FOLD_ROWS, winback: FOLD_ROWS, winbackStatuses: FOLD_ROWS }),
  // Coupons past their end date become expired.
  coupons: limited(async (tx, now) => {
    const [row] = await tx<{ n: number }[]>`select private.expire_coupons(${now}, ${STEP_ROWS}) as n`;
    return { expired: row?.n ?? 0 };
  }, { expired: STEP_ROWS }, (tx, now) => exists(tx`
    select exists (select 1 from public.coupons where status in ('active', 'paused') and expires_at is not null and expires_at <= ${now}) as due`)),
  // Loyalty: points past their date expire, birthdays earn their points, unused reward codes expire.
  loyalty: limited(async (tx, now) => {
    const [row] = await tx<{ expired: { members: number; points: number }; birthdays: number; codes: number }[]>`
      select private.loyalty_expire(${now}, ${STEP_ROWS}) as expired, private.loyalty_birthdays(${now}, ${STEP_ROWS}) as birthdays,
             private.loyalty_expire_codes(${now}, ${STEP_ROWS}) as codes`;
    return {
      expiredMembers: row?.expired.members ?? 0,
      expiredPoints: row?.expired.points ?? 0,
      birthdays: row?.birthdays ?? 0,
      expiredCodes: row?.codes ?? 0,
    };
  }, { expiredMembers: STEP_ROWS, birthdays: STEP_ROWS, expiredCodes: STEP_ROWS }, (tx, now) => exists(tx`
    select exists (select 1 from public.points_lots where remaining > 0 and expires_at is not null and expires_at <= ${now}) as due`)),
  // Win-back: enrol customers who became at risk or churned into active campaigns (from the
  // journey's stage changes, never a scan of customers), and complete campaigns past their end.
  winback: limited(async (tx, now) => {
    const [row] = await tx<{ r: { events: number; enrolled: number; completed: number } }[]>`
      select private.winback_tick(${now}, ${STEP_ROWS}) as r`;
    return row?.r ?? { events: 0, enrolled: 0, completed: 0 };
  }, { events: STEP_ROWS, completed: 100 }, (tx) => exists(tx`select exists (select 1 from private.stage_events where consumer = 'winback') as due`)),
  // Gifts past their expiry that were never claimed expire, and their waiting announcements stop
  // (deliveries themselves are jobs, due on their day).
  gifts: limited(async (tx, now) => {
    const [row] = await tx<{ n: number }[]>`select private.expire_gifts(${now}, ${STEP_ROWS}) as n`;
    return { expired: row?.n ?? 0 };
  }, { expired: STEP_ROWS }, (tx, now) => exists(tx`
    select exists (select 1 from public.gifts where status in ('pending', 'delivered') and expires_at <= ${now}) as due`)),
  // Queued jobs (messages to Klaviyo) that are due, for a deployment without `npm run worker`
  // (Vercel): run within the call's budget (running jobs finish; the rest wait for the next call).
  jobs: async () => {
    const { DATABASE_URL, JOB_CONCURRENCY } = env();
    if (!DATABASE_URL) throw new Error('DATABASE_URL is not set');
    const started = Date.now();
    // Messages held for a key that has been saved since go again first.
    const released = await withSystem(async (tx) => (await tx<{ n: number }[]>`select private.klaviyo_sweep(now(), 5000) as n`)[0]?.n ?? 0);
    const r = await drainJobs(DATABASE_URL, { concurrency: JOB_CONCURRENCY, deadlineMs: Math.max(budgetMs() - (Date.now() - started), 100) });
    return { released, ran: r.ran, succeeded: r.succeeded, failed: r.failed, behind: r.left ? 1 : 0 };
  },
  // Segment membership that follows change: queued customers first, then days-since-purchase
  // thresholds crossed since the last call, then chunks of segments being built from scratch.
  segments: stepped(async (tx, now, turn) => {
    const [row] = await tx<{ r: StepResult }[]>`select private.segments_step(${now}, ${turn}) as r`;
    return row?.r ?? { kind: 'idle', more: false };
  }),
};
/** Run a job and record the outcome for the Settings page. */
export async function runCronJob(name: string, job: CronJob, now = new Date()): Promise<Record<string, number>> {
  await withSystem(
    (tx) => tx`
      insert into private.cron_runs (job, last_started_at, runs) values (${name}, now(), 1)
      on conflict (job) do update set last_started_at = excluded.last_started_at, runs = private.cron_runs.runs + 1`,
  );
  try {
    const result = await job(now);
    await withSystem(
      (tx) => tx`update private.cron_runs set last_finished_at = now(), last_result = ${tx.json(result)}, last_error = null
                  where job = ${name}`,
    );
    return result;
  } catch (err) {
    await withSystem(
      (tx) => tx`update private.cron_runs set last_finished_at = now(), last_error = ${err instanceof Error ? err.message : String(err)}
                  where job = ${name}`,
    );
    throw err;
  }
}
