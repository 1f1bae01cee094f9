import { describe, expect, it } from 'vitest';
import { db } from '@/lib/db';
import { COLUMNS } from '@/tests/db/personal-data';

describe('every column is classified as personal data or not', () => {
  it('lists each table of public and private with exactly its columns, each once', async () => {
    const rows = await db()<{ table: string; columns: string[] }[]>`
      select n.nspname || '.' || c.relname as table, array_agg(a.attname::text order by a.attnum) as columns
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       where n.nspname in ('public', 'private') and c.relkind in ('r', 'p')
       group by 1 order by 1`;
    const catalog = Object.fromEntries(rows.map((r) => [r.table, [...r.columns].sort()]));
    const listed = Object.fromEntries(Object.entries(COLUMNS).map(([t, c]) => [t, [...c.personal, ...c.other].sort()]));
    // A table or column added without a word about it fails here: classify it in tests/db/personal-data.ts.
    expect(listed).toEqual(catalog);
    for (const [table, c] of Object.entries(COLUMNS)) {
      expect(c.personal.filter((p) => c.other.includes(p)), table).toEqual([]);
      if (c.personal.length > 0) expect(c.why, `${table} says why its columns are personal`).toBeTruthy();
    }
  });
});
