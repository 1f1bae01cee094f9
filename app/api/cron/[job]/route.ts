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

// The jobs drain runs up to 45 s; the others are bounded per call and finish well inside this.
export const maxDuration = 60;

export const GET = handler;
export const POST = handler;
