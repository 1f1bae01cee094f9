import { describe, expect, it } from 'vitest';
import { db } from '@/lib/db';

/**
 * Tables that are not one merchant's data, with why. Everything else must be tenant-keyed:
 * user_id in every primary and unique key and in every foreign key, so no row can point at
 * another merchant's row and the schema can be distributed by user_id (README, "Scaling past
 * one database").
 */
const NOT_TENANT_KEYED: Record<string, string> = {
  // One row per merchant; its global unique keys (tracking key, server key hash) route a
  // request to its merchant. A reference table when distributed.
  'public.merchant_settings': 'reference table',
  // One row per merchant; its unique shop is the binding OAuth proved, which routes the app's
  // deliveries to that one merchant. A reference table when distributed.
  'public.shopify_installs': 'reference table',
  'private.touchpoint_types': 'product configuration',
  'private.stage_rules': 'product configuration',
  'private.order_handlers': 'module registry',
  'private.stage_event_consumers': 'module registry',
  'private.klaviyo_sources': 'module registry',
  'private.coupon_sources': 'module registry',
  'private.shopper_exports': 'module registry',
  'private.shopper_erasers': 'module registry',
  'private.rate_limits': 'per client address, not per merchant',
  'private.cron_runs': 'per job',
};

interface KeyRow { table: string; name: string; kind: string; columns: string[]; refTable: string | null; refColumns: string[] | null }

describe('every key is tenant-keyed', () => {
  it('has user_id in every primary key, unique key and unique index of every merchant table', async () => {
    const tables = await db()<{ table: string; hasUserId: boolean }[]>`
      select n.nspname || '.' || c.relname as table,
             exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped) as has_user_id
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('public', 'private') and c.relkind in ('r', 'p')`;
    const unkeyed = tables.filter((t) => !t.hasUserId && !NOT_TENANT_KEYED[t.table]).map((t) => t.table);
    expect(unkeyed).toEqual([]);

    const uniques = await db()<{ table: string; index: string; columns: string[] }[]>`
      select n.nspname || '.' || c.relname as table, i.relname as index,
             array(select a.attname::text from unnest(x.indkey) k join pg_attribute a on a.attrelid = c.oid and a.attnum = k) as columns
        from pg_index x
        join pg_class c on c.oid = x.indrelid join pg_namespace n on n.oid = c.relnamespace
        join pg_class i on i.oid = x.indexrelid
       where n.nspname in ('public', 'private') and x.indisunique`;
    const bad = uniques
      .filter((u) => !NOT_TENANT_KEYED[u.table] && tables.some((t) => t.table === u.table && t.hasUserId))
      .filter((u) => !u.columns.includes('user_id'))
      .map((u) => `${u.table}: ${u.index} (${u.columns.join(', ')})`);
    expect(bad).toEqual([]);
  });

  it('carries user_id on both sides of every foreign key between merchant tables', async () => {
    const fks = await db()<KeyRow[]>`
      select n.nspname || '.' || c.relname as table, k.conname as name, k.contype::text as kind,
             array(select a.attname::text from unnest(k.conkey) with ordinality u(n, o)
                     join pg_attribute a on a.attrelid = c.oid and a.attnum = u.n order by u.o) as columns,
             rn.nspname || '.' || r.relname as ref_table,
             array(select a.attname::text from unnest(k.confkey) with ordinality u(n, o)
                     join pg_attribute a on a.attrelid = r.oid and a.attnum = u.n order by u.o) as ref_columns
        from pg_constraint k
        join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
        join pg_class r on r.oid = k.confrelid join pg_namespace rn on rn.oid = r.relnamespace
       where k.contype = 'f' and n.nspname in ('public', 'private')`;
    expect(fks.length).toBeGreaterThan(10);
    const bad = fks
      .filter((f) => !NOT_TENANT_KEYED[f.table])
      .filter((f) => {
        // The tenant itself: a merchant's rows hang off auth.users by user_id alone.
        if (f.refTable === 'auth.users') return !(f.columns.length === 1 && f.columns[0] === 'user_id');
        if (f.refTable && NOT_TENANT_KEYED[f.refTable]) return false;
        const i = f.columns.indexOf('user_id');
        return i < 0 || f.refColumns?.[i] !== 'user_id';
      })
      .map((f) => `${f.table}.${f.name}: (${f.columns.join(', ')}) -> ${f.refTable} (${f.refColumns?.join(', ')})`);
    expect(bad).toEqual([]);
  });
});
