import { db, withSystem, type Tx } from '@/lib/db';

/** Switch the program on for a merchant (default tiers included), optionally with settings. */
export async function setupLoyalty(userId: string, settings: { expiryMonths?: number; tierBasis?: string } = {}): Promise<void> {
  await withSystem(async (tx) => {
    await tx`select private.loyalty_setup(${userId})`;
    if (settings.expiryMonths !== undefined) await tx`update public.loyalty_programs set expiry_months = ${settings.expiryMonths} where user_id = ${userId}`;
    if (settings.tierBasis !== undefined) await tx`update public.loyalty_programs set tier_basis = ${settings.tierBasis} where user_id = ${userId}`;
  });
}

export interface Member {
  pointsBalance: number;
  pointsEarned: number;
  pointsRedeemed: number;
  pointsExpired: number;
  lastSeq: number;
  tier: string | null;
  nextTier: string | null;
  toNextTier: number | null;
  referralCode: string;
}

export async function member(userId: string, customerId: string): Promise<Member | undefined> {
  const [m] = await db()<Member[]>`
    select m.points_balance, m.points_earned, m.points_redeemed, m.points_expired, m.last_seq, m.referral_code,
           t.name as tier, n.name as next_tier, m.to_next_tier
      from public.loyalty_members m
      left join public.loyalty_tiers t on t.user_id = m.user_id and t.id = m.tier_id
      left join public.loyalty_tiers n on n.user_id = m.user_id and n.id = m.next_tier_id
     where m.user_id = ${userId} and m.customer_id = ${customerId}`;
  return m;
}

export interface LedgerRow {
  seq: number;
  type: string;
  points: number;
  balanceBefore: number;
  balanceAfter: number;
  source: string | null;
  shortfall: number;
}

export async function ledger(userId: string, customerId: string): Promise<LedgerRow[]> {
  return db()<LedgerRow[]>`
    select seq, type, points, balance_before, balance_after, source, shortfall from public.points_transactions
     where user_id = ${userId} and customer_id = ${customerId} order by seq`;
}

export async function customerId(userId: string, email: string): Promise<string> {
  const [c] = await db()<{ id: string }[]>`select id from public.customers where user_id = ${userId} and email = ${email}`;
  if (!c) throw new Error(`no customer ${email}`);
  return c.id;
}

export interface RewardInput {
  name: string;
  pointsCost: number;
  rewardType?: string;
  rewardValue?: number | null;
  minTier?: string;
  minOrders?: number;
  redemptionLimit?: number;
  totalAvailable?: number;
  startsAt?: string;
  endsAt?: string;
}

export async function makeReward(userId: string, r: RewardInput): Promise<string> {
  const [row] = await db()<{ id: string }[]>`
    insert into public.loyalty_rewards (user_id, name, points_cost, reward_type, reward_value, min_tier_id, min_orders,
                                        redemption_limit, total_available, starts_at, ends_at)
    values (${userId}, ${r.name}, ${r.pointsCost}, ${r.rewardType ?? 'fixed_discount'},
            ${r.rewardValue === undefined ? 5 : r.rewardValue},
            (select id from public.loyalty_tiers where user_id = ${userId} and name = ${r.minTier ?? null}),
            ${r.minOrders ?? null}, ${r.redemptionLimit ?? null}, ${r.totalAvailable ?? null}, ${r.startsAt ?? null}, ${r.endsAt ?? null})
    returning id`;
  if (!row) throw new Error('reward not created');
  return row.id;
}

export function redeem(tx: Tx, userId: string, customer: string, rewardId: string, now: Date = new Date()) {
  return tx<{ r: { redemptionId: string; code: string; couponId: string; pointsSpent: number; balance: number } }[]>`
    select private.loyalty_redeem(${userId}, ${customer}, ${rewardId}, ${now}) as r`.then((rows) => rows[0]?.r);
}

export function adjust(userId: string, customer: string, points: number, reason: string, now: Date = new Date()) {
  return withSystem((tx) => tx`select private.loyalty_adjust(${userId}, ${customer}, ${points}, ${reason}, ${userId}, ${now})`);
}

/**
 * The invariants the database keeps for every member of a merchant: the balance is the sum of
 * the member's rows and of its open lots, rows are numbered 1..n and chained, and each lifetime
 * figure is the sum of its kinds of rows. Returns the members that break one (none, when held).
 */
export async function brokenLedgers(userId: string): Promise<Record<string, unknown>[]> {
  const rows = await db()<Record<string, unknown>[]>`
    with t as (
      select customer_id, seq, points, balance_before, balance_after, type,
             lag(balance_after) over (partition by customer_id order by seq) as prev_after,
             row_number() over (partition by customer_id order by seq) as n
        from public.points_transactions where user_id = ${userId}
    ), sums as (
      select customer_id, sum(points) as total, max(seq) as last_seq, count(*) as rows,
             bool_and(n = seq and (seq = 1 and balance_before = 0 or balance_before = prev_after)) as chained,
             sum(points) filter (where type like 'earn\\_%' or type = 'clawback') as earned,
             -sum(points) filter (where type in ('redeem', 'redeem_return')) as redeemed,
             -sum(points) filter (where type = 'expire') as expired
        from t group by customer_id
    ), lots as (
      select customer_id, sum(remaining) as open from public.points_lots where user_id = ${userId} group by customer_id
    )
    select m.customer_id, m.points_balance, s.total, l.open, s.chained, m.last_seq, s.last_seq as rows_last
      from public.loyalty_members m
      left join sums s on s.customer_id = m.customer_id
      left join lots l on l.customer_id = m.customer_id
     where m.user_id = ${userId}
       and (m.points_balance <> coalesce(s.total, 0) or m.points_balance <> coalesce(l.open, 0) or not coalesce(s.chained, true)
            or m.last_seq <> coalesce(s.last_seq, 0) or m.points_balance < 0
            or m.points_earned <> coalesce(s.earned, 0) or m.points_redeemed <> coalesce(s.redeemed, 0)
            or m.points_expired <> coalesce(s.expired, 0))`;
  return [...rows];
}
