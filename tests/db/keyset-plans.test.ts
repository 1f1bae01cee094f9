import { describe, expect, it } from 'vitest';
import { CUSTOMER_SORT_COLUMNS } from '@/lib/customers/service';
import { withTenant } from '@/lib/db';
import { MEMBER_SORT_COLUMNS } from '@/lib/loyalty/service';
import { createMerchant } from '@/tests/helpers/merchants';

type Plan = { 'Node Type': string; 'Index Cond'?: string; Filter?: string; Plans?: Plan[] };
const nodes = (p: Plan): Plan[] => [p, ...(p.Plans ?? []).flatMap(nodes)];
const SAMPLE = { integer: '0', timestamptz: '2026-01-01 00:00:00+00', text: 'm' } as const;

/**
 * A keyset page is one index range only if Postgres may use its row comparison as an index
 * condition. Read as the dashboard reads (`authenticated`, under row level security), it may
 * only when every operator in it is leakproof: a numeric key is filtered row by row instead,
 * and a page from the middle of a million customers reads half of them.
 */
describe('keyset pages under row level security', () => {
  it('find each list sort\'s page through its index, the row comparison an index condition', async () => {
    const m = await createMerchant('keyset-plan');
    const lists = [
      ...Object.values(CUSTOMER_SORT_COLUMNS).map((k) => ({ table: 'public.customers', id: k.column === 'email' ? null : 'id', ...k })),
      ...Object.values(MEMBER_SORT_COLUMNS).map((k) => ({ table: 'public.loyalty_members m', id: 'm.customer_id', ...k })),
    ];
    const seen: string[] = [];
    for (const l of lists) {
      const plan = await withTenant(m.userId, async (tx) => {
        // Nothing in these tables yet: make the planner take an index if one can serve at all.
        await tx`set local enable_seqscan = off`;
        await tx`set local enable_bitmapscan = off`;
        const past = l.id === null ? `${l.column} > $2` : `(${l.column}, ${l.id}) > ($2, '00000000-0000-4000-8000-000000000000')`;
        const [row] = await tx.unsafe<{ 'QUERY PLAN': [{ Plan: Plan }] }[]>(
          `explain (format json) select 1 from ${l.table} where ${l.table.endsWith(' m') ? 'm.' : ''}user_id = $1 and ${past}
            order by ${l.column}${l.id ? `, ${l.id}` : ''} limit 21`, [m.userId, SAMPLE[l.type]]);
        return row?.['QUERY PLAN'][0].Plan;
      });
      const scan = nodes(plan ?? { 'Node Type': 'none' }).find((n) => n['Node Type'].startsWith('Index'));
      const bare = l.column.replace(/^m\./, '');
      seen.push(l.column);
      expect({ column: l.column, indexCond: scan?.['Index Cond']?.includes(l.id === null ? `(${bare} >` : 'ROW(') ?? false, filter: scan?.Filter ?? null })
        .toEqual({ column: l.column, indexCond: true, filter: null });
    }
    expect(seen).toContain('lifetime_value_cents');
  });
});
