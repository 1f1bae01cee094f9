import { describe, expect, it } from 'vitest';
import { db } from '@/lib/db';
import { AUTHENTICATED_WRITES, type Writes } from '@/tests/db/api-privileges';

interface ColumnGrant { table: string; column: string; insert: boolean; update: boolean }
interface TableGrant { table: string; delete: boolean; truncate: boolean }

/** Every write privilege `role` holds on the tables of public, as the catalog says (table grants imply every column). */
async function writesOf(role: string): Promise<Record<string, Writes>> {
  const columns = await db()<ColumnGrant[]>`
    select n.nspname || '.' || c.relname as table, a.attname as column,
           has_column_privilege(${role}, c.oid, a.attnum, 'INSERT') as insert,
           has_column_privilege(${role}, c.oid, a.attnum, 'UPDATE') as update
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
     where n.nspname = 'public' and c.relkind in ('r', 'p')
     order by 1, 2`;
  const tables = await db()<TableGrant[]>`
    select n.nspname || '.' || c.relname as table,
           has_table_privilege(${role}, c.oid, 'DELETE') as delete,
           has_table_privilege(${role}, c.oid, 'TRUNCATE') as truncate
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p')`;
  const out: Record<string, Writes> = {};
  const entry = (t: string) => (out[t] ??= {});
  for (const c of columns) {
    if (c.insert) (entry(c.table).insert ??= []).push(c.column);
    if (c.update) (entry(c.table).update ??= []).push(c.column);
  }
  for (const t of tables) {
    if (t.delete) entry(t.table).delete = true;
    if (t.truncate) (entry(t.table) as Writes & { truncate?: boolean }).truncate = true;
  }
  return out;
}

const sorted = (w: Record<string, Writes>) =>
  Object.fromEntries(Object.entries(w).sort(([a], [b]) => a.localeCompare(b)).map(([t, x]) => [t, {
    ...x, ...(x.insert ? { insert: [...x.insert].sort() } : {}), ...(x.update ? { update: [...x.update].sort() } : {}),
  }]));

describe('what the API roles may write', () => {
  it('authenticated may insert, update and delete exactly the allow-listed columns of every public table', async () => {
    expect(sorted(await writesOf('authenticated'))).toEqual(sorted(AUTHENTICATED_WRITES));
  });

  it('anon may write nothing', async () => {
    expect(await writesOf('anon')).toEqual({});
  });

  it('secrets, keys, counters and memberships are not among them', async () => {
    const writes = await writesOf('authenticated');
    const all = Object.entries(writes).flatMap(([t, w]) => [...(w.insert ?? []), ...(w.update ?? [])].map((c) => `${t}.${c}`));
    for (const column of [
      'public.merchant_credentials.ciphertext', 'public.merchant_settings.tracking_key', 'public.merchant_settings.server_key_hash',
      'public.merchant_settings.shop_verified_at', 'public.customer_segments.customer_count', 'public.coupons.usage_count',
      'public.segment_memberships.customer_id', 'public.leads.email', 'public.customers.lifetime_value',
    ]) expect(all).not.toContain(column);
  });
});
