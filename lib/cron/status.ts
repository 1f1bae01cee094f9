import 'server-only';
import { CRON_JOB_INFO, type CronJobName, type CronJobStatus, type CronStatus } from '@/lib/cron/schemas';
import { asServer, type Tx } from '@/lib/db';

interface RunRow {
  job: string;
  lastStartedAt: string;
  lastFinishedAt: string | null;
  behind: boolean;
  failed: boolean;
}

/**
 * Every scheduled job's last call, for Settings. Jobs run for every merchant at once, so this
 * says only when and how long, never the counts or the error text (another merchant's work).
 */
export async function cronStatus(tx: Tx, now = new Date()): Promise<CronStatus> {
  const rows = await asServer(tx, () => tx<RunRow[]>`
    select job, last_started_at, last_finished_at,
           coalesce((last_result ->> 'behind')::int, 0) = 1 as behind, last_error is not null as failed
      from private.cron_runs`);
  const byJob = new Map(rows.map((r) => [r.job, r]));
  const jobs = (Object.keys(CRON_JOB_INFO) as CronJobName[]).map((job): CronJobStatus => {
    const r = byJob.get(job);
    if (!r) return { job, lastStartedAt: null, lastFinishedAt: null, durationMs: null, state: 'never' };
    const started = new Date(r.lastStartedAt).getTime();
    const finished = r.lastFinishedAt ? new Date(r.lastFinishedAt).getTime() : null;
    const done = finished !== null && finished >= started;
    const late = now.getTime() - started > 2 * CRON_JOB_INFO[job].everyMinutes * 60_000;
    const state = !done ? (late ? 'late' : 'running') : r.failed ? 'failed' : late ? 'late' : r.behind ? 'behind' : 'ok';
    return { job, lastStartedAt: r.lastStartedAt, lastFinishedAt: r.lastFinishedAt, durationMs: done ? finished - started : null, state };
  });
  return { jobs };
}
