import 'server-only';
import { withSystem, type Tx } from '@/lib/db';
import { env } from '@/lib/env';
import { drainJobs } from '@/lib/jobs/queue';

/** A timed job: bounded work per call, idempotent, safe when two runs overlap. */
export type CronJob = (now: Date) => Promise<Record<string, number>>;

const inSystem =
  (fn: (tx: Tx, now: Date) => Promise<Record<string, number>>): CronJob =>
  (now) =>
    withSystem((tx) => fn(tx, now));

/** What one step of a stepped job did, and whether more may be left. */
export interface StepResult {
  kind: string;
  more: boolean;
  [count: string]: number | string | boolean;
}

/**
 * A job made of steps: each step is its own transaction doing one bounded slice, so what it did
 * is kept whatever happens next. A call runs steps until one says nothing is left or the budget
 * (CRON_BUDGET_SECONDS) is spent; the next call resumes where this one stopped. Counts are summed
 * by name, steps counted by kind; `behind` is 1 when the call ended with work left.
 */
export function stepped(step: (tx: Tx, now: Date) => Promise<StepResult>, budgetMs?: () => number): CronJob {
  return async (now) => {
    const deadline = Date.now() + (budgetMs ? budgetMs() : env().CRON_BUDGET_SECONDS * 1000);
    const totals: Record<string, number> = { steps: 0 };
    let more = true;
    // At least one step per call, so a budget shorter than a step still makes progress.
    do {
      const r = await withSystem((tx) => step(tx, now));
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

/** Every job behind /api/cron/[job]; later modules add theirs here. */
export const CRON_JOBS: Record<string, CronJob> = {
  'rate-limits': inSystem(async (tx, now) => {
    const [row] = await tx<{ purged: number }[]>`select private.purge_rate_limits(${now}) as purged`;
    return { purged: row?.purged ?? 0 };
  }),
  // Time-based stage changes (at risk, churned), bounded per call.
  stages: inSystem(async (tx, now) => {
    const [row] = await tx<{ r: { checked: number; changed: number } }[]>`
      select private.evaluate_stages(null, ${now}, 5000) as r`;
    return row?.r ?? { checked: 0, changed: 0 };
  }),
  // Fold analytics deltas (customer counts, daily trends, cohorts, loyalty days and tiers, win-back figures) into the totals.
  rollups: inSystem(async (tx) => {
    const [row] = await tx<{ customers: number; trends: number; loyalty: number; winback: number }[]>`
      select private.compact_customer_rollups(100000) as customers, private.compact_trends(100000) as trends,
             private.compact_loyalty(100000) as loyalty, private.compact_winback(100000) as winback`;
    return { folded: row?.customers ?? 0, trends: row?.trends ?? 0, loyalty: row?.loyalty ?? 0, winback: row?.winback ?? 0 };
  }),
  // Coupons past their end date become expired.
  coupons: inSystem(async (tx, now) => {
    const [row] = await tx<{ n: number }[]>`select private.expire_coupons(${now}, 5000) as n`;
    return { expired: row?.n ?? 0 };
  }),
  // Loyalty: points past their date expire, birthdays earn their points, unused reward codes expire.
  loyalty: inSystem(async (tx, now) => {
    const [row] = await tx<{ expired: { members: number; points: number }; birthdays: number; codes: number }[]>`
      select private.loyalty_expire(${now}, 5000) as expired, private.loyalty_birthdays(${now}, 5000) as birthdays,
             private.loyalty_expire_codes(${now}, 5000) as codes`;
    return {
      expiredMembers: row?.expired.members ?? 0,
      expiredPoints: row?.expired.points ?? 0,
      birthdays: row?.birthdays ?? 0,
      expiredCodes: row?.codes ?? 0,
    };
  }),
  // Win-back: enrol customers who became at risk or churned into active campaigns (from the
  // journey's stage changes, never a scan of customers), and complete campaigns past their end.
  winback: inSystem(async (tx, now) => {
    const [row] = await tx<{ r: { events: number; enrolled: number; completed: number } }[]>`
      select private.winback_tick(${now}, 5000) as r`;
    return row?.r ?? { events: 0, enrolled: 0, completed: 0 };
  }),
  // Gifts past their expiry that were never claimed expire, and their waiting announcements stop
  // (deliveries themselves are jobs, due on their day).
  gifts: inSystem(async (tx, now) => {
    const [row] = await tx<{ n: number }[]>`select private.expire_gifts(${now}, 5000) as n`;
    return { expired: row?.n ?? 0 };
  }),
  // Queued jobs (messages to Klaviyo) that are due, for a deployment without `npm run worker`
  // (Vercel): run within a deadline that leaves the function time to answer.
  jobs: async () => {
    const { DATABASE_URL, JOB_CONCURRENCY } = env();
    if (!DATABASE_URL) throw new Error('DATABASE_URL is not set');
    // Messages held for a key that has been saved since go again first.
    const released = await withSystem(async (tx) => (await tx<{ n: number }[]>`select private.klaviyo_sweep(now(), 5000) as n`)[0]?.n ?? 0);
    const r = await drainJobs(DATABASE_URL, { concurrency: JOB_CONCURRENCY, deadlineMs: 45_000 });
    return { released, ran: r.ran, succeeded: r.succeeded, failed: r.failed, left: r.left ? 1 : 0 };
  },
  // Segment membership that follows change: queued customers first, then days-since-purchase
  // thresholds crossed since the last call, then chunks of segments being built from scratch.
  segments: stepped(async (tx, now) => {
    const [row] = await tx<{ r: StepResult }[]>`select private.segments_step(${now}) as r`;
    return row?.r ?? { kind: 'idle', more: false };
  }),
};

/** Run a job and record the outcome for the Settings page. */
export async function runCronJob(name: string, job: CronJob, now = new Date()): Promise<Record<string, number>> {
  await withSystem(
    (tx) => tx`
      insert into private.cron_runs (job, last_started_at, runs) values (${name}, ${now}, 1)
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
