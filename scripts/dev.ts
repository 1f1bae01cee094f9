/**
 * `npm run dev`: with no DATABASE_URL, start embedded PostgreSQL 17 in DATA_DIR (default
 * .data/), apply migrations, seed the demo merchant, then run `next dev`, the job worker and
 * the scheduled jobs (as Vercel's crons would call them) with the env they need. Every variable the caller sets is honoured. Ctrl-C stops Postgres cleanly.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { CRON_JOB_INFO, type CronJobName } from '@/lib/cron/schemas';
import { connect } from '@/lib/db';
import { migrate } from '@/lib/db/migrate';
import { DEMO_GIFT_RECIPIENT } from '@/lib/demo/gifts';
import { DEMO_EMAIL, DEMO_PASSWORD, seedDemo } from '@/lib/demo/seed';
import { startEmbedded, type EmbeddedServer } from '@/scripts/embedded-postgres';
import { loadLocalSecrets } from '@/scripts/secrets';

const started = Date.now();
const dataDir = path.resolve(process.env.DATA_DIR || '.data');
const port = process.env.PORT || '3000';
const log = (line: string) => console.log(`[dev] ${line}`);

async function main(): Promise<void> {
  const secrets = await loadLocalSecrets(dataDir);
  // The seed encrypts as the app will (a demo data request): the same key, in this process too.
  process.env.APP_ENCRYPTION_KEY = secrets.APP_ENCRYPTION_KEY;
  let server: EmbeddedServer | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const pgPort = Number(process.env.PGPORT || 54329);
    log(`starting embedded PostgreSQL on 127.0.0.1:${pgPort} (data in ${path.join(dataDir, 'pg')})`);
    server = await startEmbedded({ dataDir: path.join(dataDir, 'pg'), port: pgPort });
    databaseUrl = server.url;
  }

  const sql = connect(databaseUrl, 2);
  // A failure from here on (drift, a bad seed) must not leave the embedded server running:
  // the next `npm run dev` would find its port taken.
  const stopOnFailure = async (err: unknown) => {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    if (server) await server.stop().catch(() => undefined);
    throw err;
  };
  try {
    const resetHint = server
      ? `This is the embedded development database: \`npm run db:reset\` deletes ${path.relative('.', dataDir) || dataDir}/ and the next \`npm run dev\` builds it afresh.`
      : undefined;
    const applied = await migrate(databaseUrl, { log, resetHint });
    if (applied.length === 0) log('migrations up to date');
    const demo = await seedDemo(sql);
    log(!demo ? 'not the local auth store: no demo merchant' : demo.created ? 'demo merchant created' : 'demo merchant ready');
    if (demo?.giftClaimPath) {
      log(`a demo gift to claim: http://localhost:${port}${demo.giftClaimPath} (with ${DEMO_GIFT_RECIPIENT}; shown once, Gifts makes new links)`);
    }
  } catch (err) {
    await stopOnFailure(err);
  } finally {
    await sql.end().catch(() => undefined);
  }

  const childEnv = { ...process.env, ...secrets, DATABASE_URL: databaseUrl, DATA_DIR: dataDir };
  const child = spawn(path.resolve('node_modules/.bin/next'), ['dev', '--port', port], { stdio: 'inherit', env: childEnv });
  // The job queue's worker (messages to Klaviyo), as `npm run worker` runs it.
  const worker = spawn(path.resolve('node_modules/.bin/tsx'), ['--conditions=react-server', 'scripts/worker.ts'], {
    stdio: 'inherit',
    env: { JOB_CONCURRENCY: '4', ...childEnv },
  });

  console.log(`
  Haven Hub is starting on http://localhost:${port}  (ready in about 5 s)
    Demo login:   ${DEMO_EMAIL}  /  ${DEMO_PASSWORD}
    Cron secret:  ${secrets.CRON_SECRET}   (curl -H "Authorization: Bearer <secret>" http://localhost:${port}/api/cron/rate-limits)
    Database:     ${server ? `embedded, ${databaseUrl}` : 'DATABASE_URL'}
    Prepared in   ${((Date.now() - started) / 1000).toFixed(1)} s
`);

  // The scheduler: each job once its interval has passed since its last successful call (vercel.json's
  // intervals), checked every minute; one round at a time, so a slow round is never doubled, and a
  // call that failed (the app still starting) goes again next minute. Messages are the worker's,
  // so /api/cron/jobs is left out.
  const lastOk = new Map<CronJobName, number>();
  let running = false;
  const runDue = async () => {
    if (running) return;
    running = true;
    try {
      const now = Date.now();
      const due = (Object.keys(CRON_JOB_INFO) as CronJobName[])
        .filter((job) => job !== 'jobs' && now - (lastOk.get(job) ?? 0) >= CRON_JOB_INFO[job].everyMinutes * 60_000 - 5_000);
      for (const job of due) {
        const res = await fetch(`http://localhost:${port}/api/cron/${job}`, {
          method: 'POST', headers: { authorization: `Bearer ${secrets.CRON_SECRET}` }, signal: AbortSignal.timeout(90_000),
        }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
        if (res instanceof Error || !res.ok) log(`cron ${job}: ${res instanceof Error ? res.message : res.status}`);
        else lastOk.set(job, now);
      }
    } finally {
      running = false;
    }
  };
  let schedule: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    void runDue();
    schedule = setInterval(() => void runDue(), 60_000);
  }, 15_000);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    clearTimeout(first);
    if (schedule) clearInterval(schedule);
    child.kill('SIGTERM');
    worker.kill('SIGTERM');
    if (server) {
      log('stopping PostgreSQL');
      await server.stop().catch(() => undefined);
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  child.on('exit', (code) => void stop(code ?? 0));
}

main().catch((err: unknown) => {
  console.error('[dev] failed to start:', err instanceof Error ? err.message : (JSON.stringify(err) ?? String(err)));
  process.exit(1);
});
