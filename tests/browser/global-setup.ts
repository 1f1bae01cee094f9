import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { connect } from '@/lib/db';
import { seedDemo } from '@/lib/demo/seed';
import { reloadEnv } from '@/lib/env';
import { freePort, scratchDatabase } from '@/scripts/embedded-postgres';
import { startShopifyStandIn, TEST_APP } from '@/tests/helpers/shopify-stand-in';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    browserDatabaseUrl: string;
    /** The demo's gift with a claim link, as `npm run dev` prints it. */
    giftClaimPath: string;
  }
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app server exited with ${child.exitCode}`);
    try {
      const res = await fetch(url, { redirect: 'manual' });
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/**
 * The real app for browser tests: a production build (`next build`, run here if missing)
 * served by `npm start`'s server (scripts/start.ts) against a fresh embedded PostgreSQL.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync('.next/BUILD_ID')) {
    const build = spawnSync('node_modules/.bin/next', ['build'], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('next build failed');
  }
  const scratch = await scratchDatabase(`hh_browser_${process.pid}`);
  const databaseUrl = scratch.url;
  const sql = connect(databaseUrl, 2);
  // The demo merchant with its full history, as `npm run dev` creates it (with the app's key:
  // the demo's data request is stored encrypted).
  const encryptionKey = Buffer.alloc(32, 9).toString('base64');
  process.env.APP_ENCRYPTION_KEY = encryptionKey;
  reloadEnv();
  const demo = await seedDemo(sql);
  await sql.end();

  // Shopify, stood in for: the app installs through it from Settings.
  const shopify = await startShopifyStandIn(TEST_APP);
  const port = await freePort();
  const app = spawn('node_modules/.bin/tsx', ['scripts/start.ts'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...process.env,
      PORT: String(port),
      HOSTNAME: '127.0.0.1',
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      AUTH_SECRET: 'browser-test-auth-secret-0123456789abcdef',
      APP_ENCRYPTION_KEY: encryptionKey,
      CRON_SECRET: 'browser-test-cron-secret',
      APP_URL: `http://127.0.0.1:${port}`,
      SHOPIFY_API_KEY: TEST_APP.apiKey,
      SHOPIFY_API_SECRET: TEST_APP.apiSecret,
      SHOPIFY_API_ORIGIN: shopify.url,
      NEXT_TELEMETRY_DISABLED: '1',
    },
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${baseUrl}/login`, app, 60_000);
  project.provide('baseUrl', baseUrl);
  project.provide('browserDatabaseUrl', databaseUrl);
  project.provide('giftClaimPath', demo?.giftClaimPath ?? '');

  return async () => {
    app.kill('SIGTERM');
    await shopify.close();
    await scratch.drop();
  };
}
