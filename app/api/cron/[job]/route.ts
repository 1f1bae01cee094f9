import { z } from 'zod';
import { AppError } from '@/lib/errors';
import { withCron } from '@/lib/api/handler';
import { CRON_JOBS, runCronJob } from '@/lib/cron/jobs';

const params = z.object({ job: z.string().max(64) });

// GET|POST /api/cron/:job with Authorization: Bearer $CRON_SECRET -> {job, ...counts}
const handler = withCron({ params }, async ({ params: { job } }) => {
  const run = Object.hasOwn(CRON_JOBS, job) ? CRON_JOBS[job] : undefined;
  if (!run) throw new AppError('not_found', `Unknown cron job: ${job}`);
  return { job, ...(await runCronJob(job, run)) };
});

// Each call works for CRON_BUDGET_SECONDS (default 10) and finishes the step under way; keep the budget under this.
export const maxDuration = 60;

export const GET = handler;
export const POST = handler;
