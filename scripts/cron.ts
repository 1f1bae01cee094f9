/**
 * `npm run cron [job ...]`: call /api/cron/<job> on a running app, as the scheduler would.
 * APP_URL (default http://localhost:3000) and CRON_SECRET (default: DATA_DIR/secrets.json).
 */
import path from 'node:path';
import { CRON_JOBS } from '@/lib/cron/jobs';
import { loadLocalSecrets } from '@/scripts/secrets';

const base = process.env.APP_URL || `http://localhost:${process.env.PORT || 3000}`;
const secret = process.env.CRON_SECRET || (await loadLocalSecrets(path.resolve(process.env.DATA_DIR || '.data'))).CRON_SECRET;
const jobs = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(CRON_JOBS);
let failed = false;
for (const job of jobs) {
  const res = await fetch(new URL(`/api/cron/${job}`, base), { method: 'POST', headers: { authorization: `Bearer ${secret}` } });
  const body = await res.text();
  console.log(`${job}: ${res.status} ${body}`);
  if (!res.ok) failed = true;
}
process.exit(failed ? 1 : 0);
