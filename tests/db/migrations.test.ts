import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connect } from '@/lib/db';
import { listMigrations, migrate } from '@/lib/db/migrate';
import { withDatabase } from '@/scripts/embedded-postgres';

const adminUrl = inject('adminDatabaseUrl');
const admin = connect(adminUrl, 1);
afterAll(() => admin.end());

describe('migration runner', () => {
  it('applies every migration to an empty database, then nothing on a re-run', async () => {
    const name = `hh_empty_${randomBytes(4).toString('hex')}`;
    await admin.unsafe(`create database ${name}`);
    const sql = connect(withDatabase(adminUrl, name), 2);
    try {
      const files = await listMigrations('supabase');
      const first = await migrate(sql);
      expect(first).toEqual(files.map((f) => `${f.version}_${f.name}`));
      expect(first.length).toBeGreaterThan(0);

      const second = await migrate(sql);
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
});
