import 'server-only';
import type { Tx } from '@/lib/db';
import { AppError } from '@/lib/errors';
import type { LoyaltyDashboard, ReferralList, ReferralListQuery, ReferralStats } from '@/lib/loyalty/schemas';

/**
 * The program at a glance, from the rollups (days and tier counts, folded plus pending deltas)
 * and two short index reads (the last redemptions, the program): it costs the same at 200
 * members or 200,000.
 */
export async function loyaltyDashboard(tx: Tx, userId: string): Promise<LoyaltyDashboard> {
  const [program] = await tx<{ pointValue: number; timeZone: string; today: string }[]>`
    select p.point_value, coalesce(s.time_zone, 'UTC') as time_zone,
           to_char((now() at time zone coalesce(s.time_zone, 'UTC'))::date, 'YYYY-MM-DD') as today
      from public.loyalty_programs p left join public.merchant_settings s on s.user_id = p.user_id
     where p.user_id = ${userId}`;
  if (!program) throw new AppError('not_found', 'The loyalty program is not set up yet');
  const days = tx`
    select day, issued, redeemed, expired, clawed_back, adjusted, members_joined from public.loyalty_daily where user_id = ${userId}
    union all
    select day, issued, redeemed, expired, clawed_back, adjusted, members_joined from public.loyalty_daily_deltas where user_id = ${userId}`;
  const [t] = await tx<{ issued: number; redeemed: number; expired: number; clawedBack: number; adjusted: number; members: number }[]>`
    select coalesce(sum(issued), 0)::numeric as issued, coalesce(sum(redeemed), 0)::numeric as redeemed,
           coalesce(sum(expired), 0)::numeric as expired, coalesce(sum(clawed_back), 0)::numeric as clawed_back,
           coalesce(sum(adjusted), 0)::numeric as adjusted, coalesce(sum(members_joined), 0)::numeric as members
      from (${days}) d`;
  const weeks = await tx<LoyaltyDashboard['weeks']>`
    with w as (
      select generate_series(date_trunc('week', ${program.today}::date - 77), date_trunc('week', ${program.today}::date), interval '1 week')::date as week
    ), d as (
      select date_trunc('week', day)::date as week, sum(issued) as issued, sum(redeemed) as redeemed, sum(expired) as expired,
             sum(clawed_back) as clawed_back
        from (${days}) x where day >= (select min(week) from w) group by 1
    )
    select to_char(w.week, 'YYYY-MM-DD') as week, coalesce(d.issued, 0)::numeric as issued, coalesce(d.redeemed, 0)::numeric as redeemed,
           coalesce(d.expired, 0)::numeric as expired, coalesce(d.clawed_back, 0)::numeric as clawed_back
      from w left join d on d.week = w.week order by w.week`;
  const tiers = await tx<LoyaltyDashboard['tiers']>`
    select t.id, t.name, t.tier_order, t.badge_color, coalesce(sum(c.members), 0)::int as members
      from public.loyalty_tiers t
      left join (select tier_id, members from public.loyalty_tier_counts where user_id = ${userId}
                 union all
                 select tier_id, members from public.loyalty_tier_count_deltas where user_id = ${userId}) c on c.tier_id = t.id
     where t.user_id = ${userId}
     group by t.user_id, t.id order by t.tier_order`;
  const recentRedemptions = await tx<LoyaltyDashboard['recentRedemptions']>`
    select rr.id, rr.customer_id, c.email, r.name as reward_name, rr.points_spent, rr.status, rr.created_at
      from public.reward_redemptions rr
      join public.customers c on c.user_id = rr.user_id and c.id = rr.customer_id
      join public.loyalty_rewards r on r.user_id = rr.user_id and r.id = rr.reward_id
     where rr.user_id = ${userId}
     order by rr.created_at desc limit 10`;
  const totals = t ?? { issued: 0, redeemed: 0, expired: 0, clawedBack: 0, adjusted: 0, members: 0 };
  const outstanding = Number(totals.issued) - Number(totals.redeemed) - Number(totals.expired) - Number(totals.clawedBack) + Number(totals.adjusted);
  return {
    timeZone: program.timeZone,
    members: totals.members,
    totals: {
      issued: Number(totals.issued), redeemed: Number(totals.redeemed), expired: Number(totals.expired),
      clawedBack: Number(totals.clawedBack), adjusted: Number(totals.adjusted), outstanding,
      liability: Math.round(outstanding * program.pointValue * 100) / 100,
    },
    pointValue: program.pointValue,
    tiers,
    weeks,
    recentRedemptions,
  };
}

type Counted = 'totalReferrals' | 'pendingReferrals' | 'convertedReferrals' | 'reversedReferrals' | 'rejectedReferrals' | 'totalRevenueGenerated' | 'pointsGiven';
type StatsRow = Pick<ReferralStats, Counted> & { selfReferral: number; existingCustomer: number; alreadyReferred: number };

/** Referral figures, every one counted from the referral rows (S30), in one aggregate. */
export async function referralStats(tx: Tx, userId: string): Promise<ReferralStats> {
  const [s] = await tx<StatsRow[]>`
    select count(*) filter (where status <> 'rejected')::int as total_referrals,
           count(*) filter (where status = 'pending')::int as pending_referrals,
           count(*) filter (where status = 'converted')::int as converted_referrals,
           count(*) filter (where status = 'reversed')::int as reversed_referrals,
           count(*) filter (where status = 'rejected')::int as rejected_referrals,
           count(*) filter (where rejection_reason = 'self_referral')::int as self_referral,
           count(*) filter (where rejection_reason = 'existing_customer')::int as existing_customer,
           count(*) filter (where rejection_reason = 'already_referred')::int as already_referred,
           coalesce(sum(order_revenue) filter (where status = 'converted'), 0) as total_revenue_generated,
           coalesce(sum(points_given) filter (where status = 'converted'), 0)::int as points_given
      from public.referrals where user_id = ${userId}`;
  const topReferrers = await tx<ReferralStats['topReferrers']>`
    select r.referrer_id as customer_id, c.email, count(*)::int as referrals,
           count(*) filter (where r.status = 'converted')::int as conversions,
           coalesce(sum(r.order_revenue) filter (where r.status = 'converted'), 0) as revenue
      from public.referrals r
      join public.customers c on c.user_id = r.user_id and c.id = r.referrer_id
     where r.user_id = ${userId} and r.status <> 'rejected'
     group by r.referrer_id, c.email
     order by conversions desc, revenue desc, referrals desc, c.email
     limit 10`;
  const stats: StatsRow = s ?? {
    totalReferrals: 0, pendingReferrals: 0, convertedReferrals: 0, reversedReferrals: 0, rejectedReferrals: 0, totalRevenueGenerated: 0,
    pointsGiven: 0, selfReferral: 0, existingCustomer: 0, alreadyReferred: 0,
  };
  const { selfReferral, existingCustomer, alreadyReferred, ...rest } = stats;
  return {
    ...rest,
    rejectedByReason: { self_referral: selfReferral, existing_customer: existingCustomer, already_referred: alreadyReferred },
    conversionRate: stats.totalReferrals > 0 ? Math.round((stats.convertedReferrals / stats.totalReferrals) * 10_000) / 10_000 : null,
    topReferrers,
  };
}

/** Referrals newest first, by status or referrer, one page. */
export async function listReferrals(tx: Tx, userId: string, q: ReferralListQuery): Promise<ReferralList> {
  const where = tx`r.user_id = ${userId}
    ${q.status ? tx`and r.status = ${q.status}` : tx``}
    ${q.referrerId ? tx`and r.referrer_id = ${q.referrerId}` : tx``}`;
  const referrals = await tx<ReferralList['referrals']>`
    select r.id, r.referrer_id, c.email as referrer_email, r.code, r.friend_email, r.status, r.rejection_reason, r.order_revenue,
           r.points_given, r.friend_code, r.created_at, r.converted_at
      from public.referrals r join public.customers c on c.user_id = r.user_id and c.id = r.referrer_id
     where ${where}
     order by r.created_at desc, r.id desc limit ${q.limit} offset ${q.offset}`;
  const [n] = await tx<{ n: number }[]>`select count(*)::int as n from public.referrals r where ${where}`;
  return { referrals, total: n?.n ?? 0, limit: q.limit, offset: q.offset };
}
