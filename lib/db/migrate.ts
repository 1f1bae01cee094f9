import 'server-only';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReservedSql } from 'postgres';
import { connect } from '@/lib/db';
import { installJobQueue } from '@/lib/jobs/queue';

const MIGRATION_FILE = /^(\d+)_([a-z0-9_]+)\.sql$/;
// Any constant works; it keeps two migrators (dev server + a test run) from interleaving.
const MIGRATION_LOCK = 724_201_611;

export interface MigrateOptions {
  /** Folder holding `migrations/` and `local/`; defaults to ./supabase. */
  supabaseDir?: string;
  log?: (line: string) => void;
  /** Said after a drift error: how to start over where that is possible (`npm run db:reset`). */
  resetHint?: string;
}

/** A migration file, named `<digits>_<name>.sql` as the Supabase CLI expects. */
export interface MigrationFile {
  version: string;
  name: string;
  file: string;
}

/** An applied migration whose file changed or went away: the database no longer matches the code. */
export class MigrationDriftError extends Error {
  constructor(
    readonly drifted: string[],
    resetHint?: string,
  ) {
    super(
      `Applied migrations differ from the files in supabase/migrations: ${drifted.join('; ')}. ` +
        'A migration that has been applied is never edited; put the change in a new migration.' +
        (resetHint ? ` ${resetHint}` : ''),
    );
    this.name = 'MigrationDriftError';
  }
}

export async function listMigrations(supabaseDir: string): Promise<MigrationFile[]> {
  const dir = path.join(supabaseDir, 'migrations');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return files.map((file) => {
    const m = MIGRATION_FILE.exec(file);
    if (!m || !m[1] || !m[2]) throw new Error(`Migration ${file} must be named <digits>_<name>.sql`);
    return { version: m[1], name: m[2], file: path.join(dir, file) };
  });
}

export function checksum(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

// A reserved connection has no begin(); the session-level advisory lock needs one connection.
async function inTransaction(conn: ReservedSql, fn: () => Promise<unknown>): Promise<void> {
  await conn.unsafe('begin');
  try {
    await fn();
    await conn.unsafe('commit');
  } catch (err) {
    await conn.unsafe('rollback');
    throw err;
  }
}

interface AppliedRow {
  version: string;
  name: string | null;
  statements: string[] | null;
  sha256: string | null;
}

/**
 * Apply pending migrations in order, each in its own transaction, recording them in
 * supabase_migrations.schema_migrations like the Supabase CLI, with a checksum of each file
 * beside it. Refuses to run (MigrationDriftError) when an applied file has changed or is gone.
 * Re-running applies nothing. On plain Postgres the local Supabase shim is applied first; the
 * job queue's own schema (graphile-worker, which versions itself) is brought up to date before
 * our files, so a migration may enqueue jobs.
 */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<string[]> {
  const supabaseDir = options.supabaseDir ?? path.resolve(process.cwd(), 'supabase');
  const log = options.log ?? (() => {});
  const sql = connect(databaseUrl, 1);
  if (sql.options.port?.includes(6543)) {
    await sql.end();
    throw new Error('Migrate over a direct connection (port 5432): the session lock does not hold through the transaction pooler');
  }
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK})`;
    const [{ hasAuth } = { hasAuth: false }] = await conn<{ hasAuth: boolean }[]>`
      select to_regclass('auth.users') is not null as has_auth`;
    if (!hasAuth) {
      const shimDir = path.join(supabaseDir, 'local');
      for (const file of (await readdir(shimDir)).filter((f) => f.endsWith('.sql')).sort()) {
        const text = await readFile(path.join(shimDir, file), 'utf8');
        await inTransaction(conn, () => conn.unsafe(text));
        log(`applied local shim ${file}`);
      }
    }
    await conn.unsafe(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key,
        statements text[],
        name text
      );
      create table if not exists supabase_migrations.migration_checksums (
        version text primary key,
        sha256 text not null,
        applied_at timestamptz not null default now()
      );`);
    const applied = new Map(
      (
        await conn<AppliedRow[]>`
          select m.version, m.name, m.statements, c.sha256
            from supabase_migrations.schema_migrations m
            left join supabase_migrations.migration_checksums c using (version)`
      ).map((r) => [r.version, r]),
    );
    const files = await listMigrations(supabaseDir);
    const texts = new Map<string, string>();
    for (const m of files) texts.set(m.version, await readFile(m.file, 'utf8'));

    const drifted: string[] = [];
    for (const [version, row] of applied) {
      const file = files.find((f) => f.version === version);
      const text = texts.get(version);
      if (!file || text === undefined) {
        drifted.push(`${version}_${row.name ?? ''}.sql was applied but is no longer in supabase/migrations`);
        continue;
      }
      // Rows written before checksums were kept (or by this runner's earlier versions) carry
      // the whole file as their one statement; the CLI's split statements cannot be compared.
      const recorded = row.sha256 ?? (row.statements?.length === 1 && row.statements[0] ? checksum(row.statements[0]) : null);
      if (recorded && recorded !== checksum(text)) {
        drifted.push(`${version}_${file.name}.sql changed after it was applied`);
      }
    }
    if (drifted.length) throw new MigrationDriftError(drifted, options.resetHint);
    await installJobQueue(databaseUrl);

    const done: string[] = [];
    for (const m of files) {
      const text = texts.get(m.version) ?? '';
      if (applied.has(m.version)) {
        if (!applied.get(m.version)?.sha256) {
          await conn`insert into supabase_migrations.migration_checksums (version, sha256)
                     values (${m.version}, ${checksum(text)}) on conflict (version) do nothing`;
        }
        continue;
      }
      await inTransaction(conn, async () => {
        await conn.unsafe(text);
        await conn`insert into supabase_migrations.schema_migrations (version, statements, name)
                   values (${m.version}, ${[text]}, ${m.name})`;
        await conn`insert into supabase_migrations.migration_checksums (version, sha256)
                   values (${m.version}, ${checksum(text)})`;
      });
      done.push(`${m.version}_${m.name}`);
      log(`applied ${m.version}_${m.name}`);
    }
    return done;
  } finally {
    await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => undefined);
    conn.release();
    await sql.end();
  }
}
