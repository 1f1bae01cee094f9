import { beforeAll, describe, expect, it } from 'vitest';
import { GET as dashboardRoute } from '@/app/api/loyalty/dashboard/route';
import { loyaltyDashboardSchema, type LoyaltyDashboard } from '@/lib/loyalty/schemas';
import { db, withSystem } from '@/lib/db';
import { call } from '@/tests/helpers/http';
import { applyOrder, applyRefund } from '@/tests/helpers/journey';
import { adjust, customerId, makeReward, redeem, setupLoyalty } from '@/tests/helpers/loyalty';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

/** The same figures straight from the ledger and the members: what the rollups must add up to. */
async function direct(userId: string) {
  const [t] = await db()<{ issued: number; redeemed: number; expired: number; clawedBack: number; adjusted: number; outstanding: number; members: number }[]>`
    select coalesce(sum(points) filter (where type like 'earn\\_%'), 0)::int as issued,
           coalesce(-sum(points) filter (where type in ('redeem', 'redeem_return')), 0)::int as redeemed,
           coalesce(-sum(points) filter (where type = 'expire'), 0)::int as expired,
           coalesce(-sum(points) filter (where type = 'clawback'), 0)::int as clawed_back,
           coalesce(sum(points) filter (where type = 'adjustment'), 0)::int as adjusted,
           (select coalesce(sum(points_balance), 0)::int from public.loyalty_members where user_id = ${userId}) as outstanding,
           (select count(*)::int from public.loyalty_members where user_id = ${userId}) as members
      from public.points_transactions where user_id = ${userId}`;
  const tiers = await db()<{ name: string; members: number }[]>`
    select t.name, count(m.customer_id)::int as members from public.loyalty_tiers t
      left join public.loyalty_members m on m.user_id = t.user_id and m.tier_id = t.id
     where t.user_id = ${userId} group by t.name, t.tier_order order by t.tier_order`;
  return { ...t, tiers };
}

async function dashboard(m: TestMerchant) {
  const res = await call<LoyaltyDashboard>(dashboardRoute, '/api/loyalty/dashboard', { cookie: m.cookie });
  expect(res.status).toBe(200);
  expect(loyaltyDashboardSchema.parse(res.body)).toEqual(res.body);
  const { totals, members, tiers } = res.body;
  return { issued: totals.issued, redeemed: totals.redeemed, expired: totals.expired, clawedBack: totals.clawedBack,
    adjusted: totals.adjusted, outstanding: totals.outstanding, members, tiers: tiers.map((t) => ({ name: t.name, members: t.members })) };
}

describe('the loyalty dashboard reads rollups that stay exact', () => {
  let m: TestMerchant;
  beforeAll(async () => {
    m = await createMerchant('loyalty-rollups');
    await setupLoyalty(m.userId, { expiryMonths: 1 });
    const t0 = new Date(Date.now() - 60 * 86_400_000);
    await applyOrder(m.userId, { shopOrderId: 'd-1', email: 'a@example.test', total: 800, orderedAt: t0 });
    await applyOrder(m.userId, { shopOrderId: 'd-2', email: 'b@example.test', total: 300, orderedAt: t0 });
    await applyOrder(m.userId, { shopOrderId: 'd-3', email: 'c@example.test', total: 100, orderedAt: new Date() });
    await applyRefund(m.userId, 'dr-2', 'd-2', 150, new Date());
    const a = await customerId(m.userId, 'a@example.test');
    await adjust(m.userId, a, 40, 'Welcome gift');
    const reward = await makeReward(m.userId, { name: 'Ten off', pointsCost: 100 });
    await withSystem((tx) => redeem(tx, m.userId, a, reward));
    await withSystem((tx) => tx`select private.loyalty_expire(now(), 1000)`);
  });

  it('matches the ledger, the balances and the tiers, before and after the cron folds it', async () => {
    const expected = await direct(m.userId);
    expect(expected.expired).toBeGreaterThan(0);
    expect(expected.clawedBack).toBe(150);
    expect(await dashboard(m)).toEqual(expected);
    await withSystem((tx) => tx`select private.compact_loyalty(100000)`);
    const [pending] = await db()<{ n: number }[]>`select count(*)::int as n from public.loyalty_daily_deltas where user_id = ${m.userId}`;
    expect(pending?.n).toBe(0);
    expect(await dashboard(m)).toEqual(expected);
  });

  it('gives the liability at the point value and twelve weeks of points', async () => {
    const res = await call<LoyaltyDashboard>(dashboardRoute, '/api/loyalty/dashboard', { cookie: m.cookie });
    expect(res.body.totals.liability).toBe(Math.round(res.body.totals.outstanding * 0.01 * 100) / 100);
    expect(res.body.weeks).toHaveLength(12);
    expect(res.body.weeks.reduce((s, w) => s + w.redeemed, 0)).toBe(100);
    expect(res.body.recentRedemptions).toMatchObject([{ rewardName: 'Ten off', pointsSpent: 100, email: 'a@example.test' }]);
  });

  it('stays exact when the time zone changes and when a member is erased', async () => {
    await withSystem((tx) => tx`select private.set_time_zone(${m.userId}, 'Pacific/Auckland')`);
    expect(await dashboard(m)).toEqual(await direct(m.userId));
    await db()`delete from public.customers where user_id = ${m.userId} and email = 'b@example.test'`;
    const after = await direct(m.userId);
    expect(after.members).toBe(2);
    const seen = await dashboard(m);
    // The erased member's points are no longer owed; what was issued to it stays issued.
    expect({ outstanding: seen.outstanding, members: seen.members, tiers: seen.tiers }).toEqual({
      outstanding: after.outstanding, members: after.members, tiers: after.tiers,
    });
  });

  it('answers 404 before the program is set up', async () => {
    const other = await createMerchant('loyalty-rollups-none');
    expect((await call(dashboardRoute, '/api/loyalty/dashboard', { cookie: other.cookie })).status).toBe(404);
  });
});
