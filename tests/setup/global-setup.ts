import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { connect } from '@/lib/db';
import { migrate } from '@/lib/db/migrate';
import { startEmbedded, withDatabase, type EmbeddedServer } from '@/scripts/embedded-postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
  }
}

/**
 * One PostgreSQL for the whole run: DATABASE_URL when given, else a throwaway embedded
 * server. Migrations are applied once to a template; each test file copies it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: EmbeddedServer | undefined;
  let dir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dir = await mkdtemp(path.join(os.tmpdir(), 'haven-test-pg-'));
    server = await startEmbedded({ dataDir: path.join(dir, 'data'), ephemeral: true });
    adminUrl = server.url;
  }
  const template = `hh_template_${process.pid}`;
  const admin = connect(adminUrl, 1);
  try {
    await admin.unsafe(`drop database if exists ${template}`);
    await admin.unsafe(`create database ${template}`);
    await migrate(withDatabase(adminUrl, template));
  } catch (err) {
    await admin.end();
    if (server) await server.stop();
    throw err;
  }
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', template);

  return async () => {
    await admin.unsafe(`drop database if exists ${template} with (force)`).catch(() => undefined);
    await admin.end();
    if (server) await server.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
}
