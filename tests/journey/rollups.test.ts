import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journeyAnalytics } from '@/lib/customers/service';
import { connect, db, withSystem, withTenant, type Sql } from '@/lib/db';
import { applyOrder, applyRefund, DAY, evaluateStages, track } from '@/tests/helpers/journey';
import { createMerchant } from '@/tests/helpers/merchants';

let userId: string;
let pool: Sql;
beforeAll(async () => {
  userId = (await createMerchant('rollups')).userId;
  pool = connect(process.env.DATABASE_URL ?? '', 6);
});
afterAll(() => pool.end());

/** The same numbers straight from customers, the way the rollups must add up. */
async function direct() {
  return db()<{ stage: string; collection: string; n: number; leads: number; buyers: number; repeaters: number; ltv: string }[]>`
    select stage, coalesce(primary_collection, '') as collection, count(*)::int as n,
           count(*) filter (where became_lead_at is not null or total_orders > 0)::int as leads,
           count(*) filter (where total_orders >= 1)::int as buyers,
           count(*) filter (where total_orders >= 2)::int as repeaters, sum(lifetime_value)::text as ltv
      from public.customers where user_id = ${userId} group by 1, 2 order by 1, 2`;
}

async function rolled() {
  return db()<{ stage: string; collection: string; n: number; leads: number; buyers: number; repeaters: number; ltv: string }[]>`
    select stage, collection, sum(customers)::int as n, sum(leads)::int as leads, sum(buyers)::int as buyers,
           sum(repeaters)::int as repeaters, sum(lifetime_value)::text as ltv
      from (select * from public.customer_rollups where user_id = ${userId}
            union all
            select user_id, stage, collection, customers, leads, buyers, repeaters, lifetime_value
              from public.customer_rollup_deltas where user_id = ${userId}) t
     group by 1, 2 having sum(customers) <> 0 order by 1, 2`;
}

describe('analytics rollups stay exact', () => {
  it('after events, orders, refunds, timed moves, merchant edits, concurrent writers and compaction', async () => {
    const t0 = new Date(Date.now() - 400 * DAY);
    await track(userId, [
      { email: 'r1@example.test', type: 'lead_capture', occurredAt: t0 },
      { email: 'r2@example.test', type: 'page_view', occurredAt: t0, collection: 'growth' },
    ]);
    await applyOrder(userId, { shopOrderId: 'r-1', email: 'r1@example.test', total: 300, orderedAt: t0 });
    await applyOrder(userId, { shopOrderId: 'r-2', email: 'r1@example.test', total: 300, orderedAt: t0 });
    await applyRefund(userId, 'rr-1', 'r-2', 150, t0);
    // Eight writers at once (no shared row to wait on).
    await Promise.all(Array.from({ length: 8 }, (_, i) => pool.begin((tx) => tx`
      select private.apply_order(${userId}, ${tx.json({ shopOrderId: `c-${i}`, email: `c${i % 3}@example.test`, total: 10 + i, orderedAt: t0.toISOString() })}, ${t0})`)));
    await evaluateStages(userId, new Date());
    await withTenant(userId, (tx) => tx`update public.customers set first_name = 'Edited' where user_id = ${userId}`);
    expect(await rolled()).toEqual(await direct());

    await withSystem((tx) => tx`select private.compact_customer_rollups(100000)`);
    const [pending] = await db()<{ n: number }[]>`select count(*)::int as n from public.customer_rollup_deltas where user_id = ${userId}`;
    expect(pending?.n).toBe(0);
    expect(await rolled()).toEqual(await direct());

    const analytics = await withTenant(userId, (tx) => journeyAnalytics(tx, userId));
    const rows = await direct();
    expect(analytics.totalCustomers).toBe(rows.reduce((s, r) => s + r.n, 0));
    expect(analytics.conversionFunnel.repeat).toBe(rows.reduce((s, r) => s + r.repeaters, 0));
  });

  it('a merchant cannot write rollups or deltas', async () => {
    const code = await withTenant(userId, (tx) =>
      tx`insert into public.customer_rollup_deltas (user_id, stage, collection, customers, leads, buyers, repeaters, lifetime_value)
         values (${userId}, 'vip', '', 1000, 0, 0, 0, 0)`).then(() => 'inserted', (e: { code?: string }) => e.code);
    expect(code).toBe('42501');
  });
});
