import { beforeAll, describe, expect, it } from 'vitest';
import { db, withSystem, withTenant } from '@/lib/db';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { TENANT_FIXTURES } from '@/tests/helpers/tenant-fixtures';

interface TableInfo {
  table: string;
  rls: boolean;
  policies: number;
  hasUserId: boolean;
}

let a: TestMerchant;
let b: TestMerchant;
let tables: TableInfo[];

beforeAll(async () => {
  a = await createMerchant('a');
  b = await createMerchant('b');
  tables = await db()<TableInfo[]>`
    select c.relname as table, c.relrowsecurity as rls,
           (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies,
           exists (select 1 from pg_attribute at where at.attrelid = c.oid and at.attname = 'user_id' and not at.attisdropped) as has_user_id
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p')
     order by 1`;
  for (const fixture of Object.values(TENANT_FIXTURES)) {
    await withSystem((tx) => fixture(tx, a.userId));
  }
});

// Generic tenant guard over every table in public, so tables added later are covered too.
describe('row level security on every public table', () => {
  it('finds the tables', () => {
    expect(tables.map((t) => t.table)).toEqual(expect.arrayContaining(Object.keys(TENANT_FIXTURES)));
  });

  it('has RLS enabled, a policy, a user_id column and a fixture on each', () => {
    const problems = tables.flatMap((t) => [
      ...(t.rls ? [] : [`${t.table}: RLS disabled`]),
      ...(t.policies > 0 ? [] : [`${t.table}: no policy`]),
      ...(t.hasUserId ? [] : [`${t.table}: no user_id column`]),
      ...(TENANT_FIXTURES[t.table] ? [] : [`${t.table}: no fixture in tests/helpers/tenant-fixtures.ts`]),
    ]);
    expect(problems).toEqual([]);
  });

  it("lets merchant B neither read nor change A's rows, while A sees them", async () => {
    const leaks: string[] = [];
    for (const { table } of tables) {
      const ident = `public.${table}`;
      const [owned] = await db()<{ n: number }[]>`select count(*)::int as n from ${db()(ident)} where user_id = ${a.userId}`;
      if (!owned || owned.n === 0) leaks.push(`${table}: fixture left no row for A`);

      const seenByA = await withTenant(a.userId, (tx) =>
        tx<{ n: number }[]>`select count(*)::int as n from ${tx(ident)} where user_id = ${a.userId}`);
      if (seenByA[0]?.n !== owned?.n) leaks.push(`${table}: A cannot see its own rows`);

      const result = await withTenant(b.userId, async (tx) => {
        const [seen] = await tx<{ n: number }[]>`select count(*)::int as n from ${tx(ident)} where user_id = ${a.userId}`;
        const [all] = await tx<{ n: number }[]>`select count(*)::int as n from ${tx(ident)}`;
        // No privilege at all (42501) is as good as zero rows; anything else fails the test.
        const attempt = (statement: string) =>
          tx
            .savepoint((sp) => sp.unsafe(statement, [a.userId]))
            .then((r) => r.count)
            .catch((e: { code?: string }) => (e.code === '42501' ? 0 : Promise.reject(e)));
        const updated = await attempt(`update ${ident} set user_id = user_id where user_id = $1`);
        const deleted = await attempt(`delete from ${ident} where user_id = $1`);
        return { seen: seen?.n ?? -1, all: all?.n ?? -1, updated, deleted };
      });
      if (result.seen !== 0) leaks.push(`${table}: B read ${result.seen} of A's rows`);
      if (result.updated !== 0) leaks.push(`${table}: B updated ${result.updated} of A's rows`);
      if (result.deleted !== 0) leaks.push(`${table}: B deleted ${result.deleted} of A's rows`);

      const [after] = await db()<{ n: number }[]>`select count(*)::int as n from ${db()(ident)} where user_id = ${a.userId}`;
      if (after?.n !== owned?.n) leaks.push(`${table}: A's rows changed after B's attempt`);
    }
    expect(leaks).toEqual([]);
  });

  it("does not let B insert a row in A's name", async () => {
    const refused: string[] = [];
    await withTenant(b.userId, async (tx) => {
      await tx`savepoint s`;
      await tx`insert into public.leads (user_id, email) values (${a.userId}, 'forged@example.test')`.then(
        () => refused.push('leads: insert allowed'),
        () => undefined,
      );
      await tx`rollback to savepoint s`;
      await tx`select public.log_activity(${a.userId}, 'forged')`.then(
        () => refused.push('activity_log: insert allowed'),
        () => undefined,
      );
    }).catch(() => undefined);
    expect(refused).toEqual([]);
  });

  it("does not let B move its own rows into A's tenant (RLS with check or no privilege, 42501)", async () => {
    for (const fixture of Object.values(TENANT_FIXTURES)) await withSystem((tx) => fixture(tx, b.userId));
    const allowed: string[] = [];
    for (const { table } of tables) {
      const code = await withTenant(b.userId, (tx) =>
        tx
          .savepoint((sp) => sp.unsafe(`update public.${table} set user_id = $1 where user_id = $2`, [a.userId, b.userId]))
          .then((r) => (r.count === 0 ? 'no rows' : 'moved'))
          .catch((e: { code?: string }) => e.code ?? 'error'));
      if (code !== '42501') allowed.push(`${table}: ${code}`);
    }
    expect(allowed).toEqual([]);
  });

  it('gives anon no privilege on any table and allows no views that could bypass RLS', async () => {
    const rows = await db()<{ name: string; kind: string; anon: boolean; invoker: boolean }[]>`
      select c.relname as name, c.relkind::text as kind,
             has_table_privilege('anon', c.oid, 'select, insert, update, delete') as anon,
             coalesce('security_invoker=true' = any (c.reloptions), false) as invoker
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm')`;
    expect(rows.filter((r) => r.anon).map((r) => r.name)).toEqual([]);
    expect(rows.filter((r) => (r.kind === 'v' && !r.invoker) || r.kind === 'm').map((r) => r.name)).toEqual([]);
  });

  it('shows nothing to anon', async () => {
    const seen: string[] = [];
    for (const { table } of tables) {
      const n = await db()
        .begin(async (tx) => {
          await tx`set local role anon`;
          const [row] = await tx.unsafe(`select count(*)::int as n from public.${table}`);
          return Number(row?.n ?? 0);
        })
        .catch((e: { code?: string }) => (e.code === '42501' ? 0 : Promise.reject(e)));
      if (n !== 0) seen.push(`${table}: anon saw ${n} rows`);
    }
    expect(seen).toEqual([]);
  });
});
