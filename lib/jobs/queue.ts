import 'server-only';
import { Logger, run, runMigrations, type JobHelpers, type LogFunctionFactory, type RunnerOptions, type TaskList } from 'graphile-worker';
import { withSystem } from '@/lib/db';
import { deliverMessage } from '@/lib/klaviyo/deliver';
import { syncSegmentList } from '@/lib/klaviyo/lists';
import { requestKlaviyoDeletion } from '@/lib/klaviyo/privacy';
import { syncProfiles } from '@/lib/klaviyo/profiles';
import { enrolNextBatch } from '@/lib/winback/enrol';

/**
 * The job queue: graphile-worker on our own Postgres. Jobs are added from SQL in the same
 * transaction as the change that causes them (`graphile_worker.add_jobs`, see the Klaviyo
 * outbox migration), so a job exists exactly when its change committed. A long-running worker
 * (`npm run worker`, started by `npm run dev`) runs them as they fall due; on Vercel the cron
 * route /api/cron/jobs drains what is due within a deadline. Both can run at once: the queue
 * locks each job to one runner (SKIP LOCKED), and a runner that dies leaves its jobs to be
 * unlocked and run again, which our messages survive (their `unique_id`, the 202 rule).
 */
/** For a task to run itself again after a delay, under its own job key (the next batch, or after a 429). */
const again = (task: string, payload: unknown, helpers: JobHelpers, queueName?: string) => async (delayMs: number) => {
  const key = helpers.job.key;
  await helpers.addJob(task, payload, { runAt: new Date(Date.now() + delayMs), ...(key ? { jobKey: key } : {}), ...(queueName ? { queueName } : {}), maxAttempts: 10 });
};

export const TASKS: TaskList = {
  klaviyo_send: async (payload, helpers) => {
    await deliverMessage(payload, { attempts: helpers.job.attempts, maxAttempts: helpers.job.max_attempts });
  },
  // One segment's Klaviyo list (added by the segment membership triggers, keyed by segment).
  klaviyo_list_sync: async (payload, helpers) => {
    // In the segment's own queue, as the triggers add it: its runs go one at a time (the key alone
    // lets a second job in beside a running one).
    await syncSegmentList(payload, again('klaviyo_list_sync', payload, helpers, helpers.job.key ?? undefined));
  },
  // The rest of a large activation's audience: batches (each its own transaction) for up to
  // 20 s a run, then the job hands on to its next run (a runner that stops loses one batch at most).
  winback_enrol: async (payload, helpers) => {
    const until = Date.now() + 20_000;
    let next = await enrolNextBatch(payload);
    while (next && Date.now() < until && !helpers.abortSignal.aborted) next = await enrolNextBatch(next);
    if (next) await helpers.addJob('winback_enrol', next, { ...(helpers.job.key ? { jobKey: helpers.job.key } : {}), maxAttempts: 10 });
  },
  // One merchant's changed profiles (added by the loyalty and stage triggers, keyed by merchant).
  klaviyo_profiles: async (payload, helpers) => {
    await syncProfiles(payload, again('klaviyo_profiles', payload, helpers));
  },
  // An erased shopper's Klaviyo profile, deleted there (added by the erasure, keyed by request).
  klaviyo_delete: async (payload) => {
    await requestKlaviyoDeletion(payload);
  },
};

// The queue's own chatter (each job started and finished) stays quiet; warnings and errors
// are printed, except under test where failures are the point and are asserted instead.
const logFactory: LogFunctionFactory = () => (level, message) => {
  if (process.env.NODE_ENV === 'test') return;
  if (level === 'error' || level === 'warning') console.error(`[jobs] ${message}`);
};
const logger = new Logger(logFactory);

function pooled(url: string): boolean {
  const u = new URL(url);
  return u.port === '6543' || u.searchParams.get('pgbouncer') === 'true';
}

export function runnerOptions(url: string, concurrency: number): RunnerOptions {
  return {
    connectionString: url,
    concurrency,
    maxPoolSize: concurrency + 2,
    // Supabase's transaction pooler cannot keep prepared statements.
    noPreparedStatements: pooled(url),
    logger,
    taskList: TASKS,
    noHandleSignals: true,
    pollInterval: 1000,
    // Fetch (and lock) a batch of due jobs at a time and record completions in batches: a
    // send costs one HTTP request and our two statements, not also two queue round trips.
    // The price: jobs locked by a runner that dies wait for the queue's 4-hour lock expiry,
    // as a job it was running does anyway.
    preset: { worker: { localQueue: { size: concurrency }, completeJobBatchDelay: 20, failJobBatchDelay: 20 } },
  };
}

/** Create or upgrade the queue's schema (graphile-worker versions its own migrations). */
export async function installJobQueue(url: string): Promise<void> {
  await runMigrations({ connectionString: url, logger, noPreparedStatements: pooled(url) });
}

/** A worker that runs jobs as they fall due until stopped (`npm run worker`). */
export function startWorker(url: string, concurrency: number) {
  return run(runnerOptions(url, concurrency));
}

export interface DrainResult {
  ran: number;
  succeeded: number;
  failed: number;
  /** Whether jobs were still due when the deadline came (the next call takes them). */
  left: boolean;
}

/** Whether any of our jobs is due and free (exists, not count: a backlog can be a million jobs). */
async function anyDue(): Promise<boolean> {
  const identifiers = Object.keys(TASKS);
  return withSystem(async (tx) => {
    const [row] = await tx<{ due: boolean }[]>`
      select exists (select 1 from graphile_worker.jobs
                      where task_identifier = any (${identifiers}) and run_at <= now() and locked_at is null
                        and attempts < max_attempts) as due`;
    return row?.due ?? false;
  });
}

/**
 * Run what is due now, with `concurrency` jobs at a time, until nothing due is left or the
 * deadline passes; then stop cleanly (running jobs finish, nothing is cut off mid-send).
 */
export async function drainJobs(url: string, { concurrency = 16, deadlineMs = 50_000 } = {}): Promise<DrainResult> {
  const runner = await run(runnerOptions(url, concurrency));
  const counts = { ran: 0, succeeded: 0, failed: 0 };
  let active = 0;
  runner.events.on('job:start', () => {
    active += 1;
    counts.ran += 1;
  });
  runner.events.on('job:success', () => {
    counts.succeeded += 1;
  });
  runner.events.on('job:error', () => {
    counts.failed += 1;
  });
  runner.events.on('job:complete', () => {
    active -= 1;
  });
  const deadline = Date.now() + deadlineMs;
  let left = false;
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      left = await anyDue();
      if ((!left && active === 0) || Date.now() >= deadline) break;
    }
  } finally {
    await runner.stop();
  }
  return { ...counts, left };
}
