import { describe, expect, it } from 'vitest';
import { db, withSystem } from '@/lib/db';
import { applyOrder, track } from '@/tests/helpers/journey';
import { makeCoupon, orderWithCode } from '@/tests/helpers/coupons';
import { createMerchant } from '@/tests/helpers/merchants';

describe('deleting a merchant', () => {
  it('removes every row of theirs in one delete (rollup triggers included) and leaves others alone', async () => {
    const gone = await createMerchant('gone');
    const stays = await createMerchant('stays');
    for (const m of [gone, stays]) {
      await track(m.userId, [{ email: 'x@example.test', type: 'lead_capture', occurredAt: new Date() }]);
      await applyOrder(m.userId, { shopOrderId: 'o-1', email: 'x@example.test', total: 50, orderedAt: new Date() });
      await makeCoupon(m.userId, { code: 'BYE10' });
      await orderWithCode(m.userId, { id: 'o-2', email: 'y@example.test', total: 30, code: 'BYE10' });
    }
    await withSystem((tx) => tx`delete from auth.users where id = ${gone.userId}`);

    const tables = await db()<{ table: string }[]>`
      select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r'
         and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'user_id')`;
    const left: string[] = [];
    for (const { table } of tables) {
      const [g] = await db().unsafe(`select count(*)::int as n from public.${table} where user_id = $1`, [gone.userId]);
      if (Number(g?.n) > 0) left.push(table);
    }
    expect(left).toEqual([]);
    const [s] = await db()<{ n: number }[]>`select count(*)::int as n from public.customers where user_id = ${stays.userId}`;
    expect(s?.n).toBe(2);
  });
});
