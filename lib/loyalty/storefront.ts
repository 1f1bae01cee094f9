import 'server-only';
import { asServer, type Tx } from '@/lib/db';
import { AppError } from '@/lib/errors';
import type { RedemptionResult, StorefrontMember } from '@/lib/loyalty/schemas';

// The merchant's own backend, authenticated by its secret server key: the same SQL functions
// and rules as the dashboard, addressed by a shopper's email instead of an id. It runs in the
// server's transaction, so every query names the merchant.

async function customerByEmail(tx: Tx, userId: string, email: string): Promise<string> {
  const [c] = await tx<{ id: string }[]>`
    select id from public.customers where user_id = ${userId} and email = public.normalize_email(${email})`;
  if (!c) throw new AppError('not_found', 'No customer with that email');
  return c.id;
}

/** A member as the storefront shows it: balance, tier and the way to the next, the rewards it can take now, its referral link. */
export async function storefrontMember(tx: Tx, userId: string, email: string): Promise<StorefrontMember> {
  const customerId = await customerByEmail(tx, userId, email);
  const [m] = await tx<Omit<StorefrontMember, 'rewards' | 'referralUrl'>[]>`
    select c.email, m.points_balance, t.name as tier_name, n.name as next_tier_name, m.to_next_tier, p.tier_basis, m.referral_code
      from public.loyalty_members m
      join public.customers c on c.user_id = m.user_id and c.id = m.customer_id
      join public.loyalty_programs p on p.user_id = m.user_id and p.enabled
      left join public.loyalty_tiers t on t.user_id = m.user_id and t.id = m.tier_id
      left join public.loyalty_tiers n on n.user_id = m.user_id and n.id = m.next_tier_id
     where m.user_id = ${userId} and m.customer_id = ${customerId}`;
  if (!m) throw new AppError('not_found', 'Not a member of the loyalty program');
  const rewards = await tx<StorefrontMember['rewards']>`
    select r.id, r.name, r.description, r.points_cost, r.reward_type, r.reward_value
      from public.loyalty_rewards r
      join public.loyalty_members m on m.user_id = r.user_id and m.customer_id = ${customerId}
      join public.customers c on c.user_id = m.user_id and c.id = m.customer_id
      left join public.loyalty_tiers need on need.user_id = r.user_id and need.id = r.min_tier_id
      left join public.loyalty_tiers have on have.user_id = m.user_id and have.id = m.tier_id
     where r.user_id = ${userId} and r.deleted_at is null and r.is_active
       and (r.starts_at is null or r.starts_at <= now()) and (r.ends_at is null or r.ends_at > now())
       and (r.total_available is null or r.total_redeemed < r.total_available)
       and r.points_cost <= m.points_balance
       and (r.min_tier_id is null or have.tier_order >= need.tier_order)
       and (r.min_orders is null or c.total_orders >= r.min_orders)
       and (r.redemption_limit is null or r.redemption_limit > (
             select count(*) from public.reward_redemptions rr
              where rr.user_id = r.user_id and rr.customer_id = m.customer_id and rr.reward_id = r.id and rr.status <> 'cancelled'))
     order by r.points_cost, r.id`;
  const [shop] = await tx<{ shopDomain: string | null }[]>`select shop_domain from public.merchant_settings where user_id = ${userId}`;
  const referralUrl = shop?.shopDomain ? `https://${shop.shopDomain}/?ref=${encodeURIComponent(m.referralCode)}` : null;
  return { ...m, referralUrl, rewards };
}

/** Redeem for a shopper by email: the dashboard's function, the same refusals; a retry with the same requestId spends once. */
export async function storefrontRedeem(tx: Tx, userId: string, email: string, rewardId: string, requestId?: string): Promise<RedemptionResult> {
  const customerId = await customerByEmail(tx, userId, email);
  const [row] = await asServer(tx, () => tx<{ r: RedemptionResult }[]>`
    select private.loyalty_redeem(${userId}, ${customerId}, ${rewardId}, now(), ${requestId ?? null}) as r`);
  if (!row) throw new AppError('internal', 'Redemption returned nothing');
  return row.r;
}

/** A product review the merchant's backend reports: the review points, once per review id. */
export async function storefrontReview(tx: Tx, userId: string, email: string, reviewId: string): Promise<{ points: number }> {
  const [row] = await asServer(tx, () => tx<{ n: number }[]>`select private.loyalty_review(${userId}, ${email}, ${reviewId}) as n`);
  return { points: row?.n ?? 0 };
}

/** A friend claims a member's referral code: a pending referral and the friend's coupon. */
export async function storefrontReferral(tx: Tx, userId: string, code: string, email: string): Promise<{ referralId: string; code: string; status: string }> {
  const [row] = await asServer(tx, () => tx<{ r: { referralId: string; code: string; status: string } }[]>`
    select private.referral_claim(${userId}, ${code}, ${email}) as r`);
  if (!row) throw new AppError('internal', 'The claim returned nothing');
  return row.r;
}

/** The shopper created an account in the store: the program's signup points, once. */
export async function storefrontSignup(tx: Tx, userId: string, email: string): Promise<{ points: number }> {
  const [row] = await asServer(tx, () => tx<{ n: number }[]>`select private.loyalty_signup(${userId}, ${email}) as n`);
  return { points: row?.n ?? 0 };
}
