import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReservedSql } from 'postgres';
import type { Sql } from '@/lib/db';

const MIGRATION_FILE = /^(\d+)_([a-z0-9_]+)\.sql$/;
// Any constant works; it keeps two migrators (dev server + a test run) from interleaving.
const MIGRATION_LOCK = 724_201_611;

export interface MigrateOptions {
  /** Folder holding `migrations/` and `local/`; defaults to ./supabase. */
  supabaseDir?: string;
  log?: (line: string) => void;
}

/** A migration file, named `<digits>_<name>.sql` as the Supabase CLI expects. */
export interface MigrationFile {
  version: string;
  name: string;
  file: string;
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

/**
 * Apply pending migrations in order, each in its own transaction, recording them in
 * supabase_migrations.schema_migrations like the Supabase CLI. Re-running applies nothing.
 * On plain Postgres the local Supabase shim (auth schema, roles) is applied first.
 */
export async function migrate(sql: Sql, options: MigrateOptions = {}): Promise<string[]> {
  const supabaseDir = options.supabaseDir ?? path.resolve(process.cwd(), 'supabase');
  const log = options.log ?? (() => {});
  if (sql.options.port?.includes(6543)) {
    throw new Error('Migrate over a direct connection (port 5432): the session lock does not hold through the transaction pooler');
  }
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK})`;
    const [{ has_auth } = { has_auth: false }] = await conn<{ has_auth: boolean }[]>`
      select to_regclass('auth.users') is not null as has_auth`;
    if (!has_auth) {
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
      );`);
    const done = new Set(
      (await conn<{ version: string }[]>`select version from supabase_migrations.schema_migrations`).map(
        (r) => r.version,
      ),
    );
    const applied: string[] = [];
    for (const m of await listMigrations(supabaseDir)) {
      if (done.has(m.version)) continue;
      const text = await readFile(m.file, 'utf8');
      await inTransaction(conn, async () => {
        await conn.unsafe(text);
        await conn`insert into supabase_migrations.schema_migrations (version, statements, name)
                   values (${m.version}, ${[text]}, ${m.name})`;
      });
      applied.push(`${m.version}_${m.name}`);
      log(`applied ${m.version}_${m.name}`);
    }
    return applied;
  } finally {
    await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => undefined);
    conn.release();
  }
}
