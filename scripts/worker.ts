/**
 * `npm run worker`: run queued jobs (messages to Klaviyo) as they fall due, until stopped.
 * `npm run dev` starts one; on a server of your own run it beside `npm start`. On Vercel there
 * is no long-running process: the cron route /api/cron/jobs drains what is due instead.
 * DATABASE_URL and APP_ENCRYPTION_KEY as for the app; JOB_CONCURRENCY jobs at a time.
 */
import { env } from '@/lib/env';
import { startWorker } from '@/lib/jobs/queue';

const { DATABASE_URL, JOB_CONCURRENCY } = env();
if (!DATABASE_URL) {
  console.error('[worker] DATABASE_URL is not set');
  process.exit(1);
}
const runner = await startWorker(DATABASE_URL, JOB_CONCURRENCY);
console.log(`[worker] running jobs, ${JOB_CONCURRENCY} at a time`);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  // Running jobs finish; none is cut off between Klaviyo's answer and its record.
  runner.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
await runner.promise;
