import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connect } from '@/lib/db';
import { listMigrations, migrate, MigrationDriftError } from '@/lib/db/migrate';
import { withDatabase } from '@/scripts/embedded-postgres';

const adminUrl = inject('adminDatabaseUrl');
const admin = connect(adminUrl, 1);
afterAll(() => admin.end());

describe('migration runner', () => {
  it('applies every migration to an empty database, then nothing on a re-run', async () => {
    const name = `hh_empty_${randomBytes(4).toString('hex')}`;
    await admin.unsafe(`create database ${name}`);
    const url = withDatabase(adminUrl, name);
    const sql = connect(url, 2);
    try {
      const files = await listMigrations('supabase');
      const first = await migrate(url);
      expect(first).toEqual(files.map((f) => `${f.version}_${f.name}`));
      expect(first.length).toBeGreaterThan(0);

      const second = await migrate(url);
      expect(second).toEqual([]);

      const recorded = await sql<{ version: string }[]>`
        select version from supabase_migrations.schema_migrations order by version`;
      expect(recorded.map((r) => r.version)).toEqual(files.map((f) => f.version));
      // The local shim gave us what Supabase provides.
      const [row] = await sql<{ users: boolean; uid: boolean }[]>`
        select to_regclass('auth.users') is not null as users,
               to_regprocedure('auth.uid()') is not null as uid`;
      expect(row).toEqual({ users: true, uid: true });
    } finally {
      await sql.end();
      await admin.unsafe(`drop database ${name} with (force)`);
    }
  });

  it('rejects a file name the Supabase CLI would not accept', async () => {
    const { mkdtemp, mkdir, writeFile } = await import('node:fs/promises');
    const os = await import('node:os');
    const dir = await mkdtemp(`${os.tmpdir()}/hh-mig-`);
    await mkdir(`${dir}/migrations`);
    await writeFile(`${dir}/migrations/001-foundation.sql`, 'select 1');
    await expect(listMigrations(dir)).rejects.toThrow(/<digits>_<name>\.sql/);
  });

  it('refuses to start when an applied migration was edited or removed, naming the file and the reset command', async () => {
    const { cp, mkdtemp, writeFile, appendFile, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const dir = await mkdtemp(`${os.tmpdir()}/hh-drift-`);
    await cp('supabase', dir, { recursive: true });
    const name = `hh_drift_${randomBytes(4).toString('hex')}`;
    await admin.unsafe(`create database ${name}`);
    const url = withDatabase(adminUrl, name);
    const sql = connect(url, 2);
    try {
      const files = await listMigrations(dir);
      await migrate(url, { supabaseDir: dir });
      const last = files[files.length - 1];
      if (!last) throw new Error('no migrations');

      // A new file is simply applied.
      await writeFile(`${dir}/migrations/99990101000000_later.sql`, 'create table public.drift_probe (user_id uuid primary key);');
      expect(await migrate(url, { supabaseDir: dir })).toEqual(['99990101000000_later']);

      // Editing an applied file is refused, and nothing else is applied on that run.
      await appendFile(last.file, '\n-- an edit after landing\n');
      await writeFile(`${dir}/migrations/99990102000000_after.sql`, 'create table public.drift_after (user_id uuid primary key);');
      const edited = migrate(url, { supabaseDir: dir, resetHint: 'Run `npm run db:reset`.' });
      await expect(edited).rejects.toBeInstanceOf(MigrationDriftError);
      await expect(edited).rejects.toThrow(`${last.version}_${last.name}.sql changed after it was applied`);
      await expect(edited).rejects.toThrow('npm run db:reset');
      const [probe] = await sql<{ t: string | null }[]>`select to_regclass('public.drift_after')::text as t`;
      expect(probe?.t).toBeNull();

      // Removing an applied file is refused too.
      await cp(`supabase/migrations/${last.version}_${last.name}.sql`, last.file);
      await rm(`${dir}/migrations/99990101000000_later.sql`);
      await expect(migrate(url, { supabaseDir: dir })).rejects.toThrow('99990101000000_later.sql was applied but is no longer');
    } finally {
      await sql.end();
      await admin.unsafe(`drop database ${name} with (force)`);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('checks databases migrated before checksums were kept against the stored file text', async () => {
    const name = `hh_legacy_${randomBytes(4).toString('hex')}`;
    await admin.unsafe(`create database ${name}`);
    const url = withDatabase(adminUrl, name);
    const sql = connect(url, 2);
    try {
      await migrate(url);
      const [first] = await listMigrations('supabase');
      if (!first) throw new Error('no migrations');
      // What an older runner left: the whole file as the one statement, no checksum row.
      await sql`delete from supabase_migrations.migration_checksums`;
      await sql`update supabase_migrations.schema_migrations set statements = ${['-- the file as it was\n']}
                 where version = ${first.version}`;
      await expect(migrate(url)).rejects.toThrow(`${first.version}_${first.name}.sql changed after it was applied`);
    } finally {
      await sql.end();
      await admin.unsafe(`drop database ${name} with (force)`);
    }
  });
});
