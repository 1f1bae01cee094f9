import 'server-only';
import { asServer, fieldsOf, type Tx } from '@/lib/db';
import { type KeyColumn, type Keyed, keysetPage, sortKeyOf } from '@/lib/db/keyset';
import { searchCondition } from '@/lib/customers/service';
import { AppError } from '@/lib/errors';
import {
  checkRewardTerms, ledgerRowSchema, programSchema, redemptionSchema, rewardSchema, tierSchema,
  type AdjustBody, type MemberDetail, type MemberList, type MemberListQuery, type Program, type ProgramPatch,
  type RedemptionResult, type Reward, type RewardCreate, type RewardList, type RewardPatch, type Tier, type TierCreate,
  type TierList, type TierPatch,
} from '@/lib/loyalty/schemas';

const PROGRAM = fieldsOf(programSchema);
const TIER = fieldsOf(tierSchema);
const REWARD = fieldsOf(rewardSchema);
const LEDGER = fieldsOf(ledgerRowSchema);

// Every write below runs in the merchant's transaction with the server's role (the API roles
// may only read loyalty rows): the SQL functions hold the rules, and a route names its fields.

/** The program's settings, or 404 until the merchant has set it up. */
export async function getProgram(tx: Tx, userId: string): Promise<Program> {
  const [row] = await tx<Program[]>`select ${tx(PROGRAM)} from public.loyalty_programs where user_id = ${userId}`;
  if (!row) throw new AppError('not_found', 'The loyalty program is not set up yet');
  return row;
}

/** Set up (or switch on) the program: defaults and, the first time, Bronze, Silver and Gold. */
export async function setupProgram(tx: Tx, userId: string): Promise<Program> {
  await asServer(tx, () => tx`select private.loyalty_setup(${userId})`);
  await tx`select public.log_activity(${userId}, 'loyalty.setup', 'loyalty', null)`;
  return getProgram(tx, userId);
}

const PROGRAM_EDITABLE = [
  'enabled', 'pointsPerUnit', 'pointValue', 'expiryMonths', 'tierBasis', 'signupPoints', 'birthdayPoints', 'reviewPoints',
  'referralPercent', 'friendRewardType', 'friendRewardValue', 'friendMinimumPurchase',
] as const satisfies readonly (keyof Program & keyof ProgramPatch)[];

/** Named fields only; a change of the tier basis moves members to the tiers it now gives. */
export async function updateProgram(tx: Tx, userId: string, patch: ProgramPatch): Promise<Program> {
  const current = await getProgram(tx, userId);
  const row = Object.fromEntries(PROGRAM_EDITABLE.filter((k) => patch[k] !== undefined).map((k) => [k, patch[k]]));
  const type = patch.friendRewardType ?? current.friendRewardType;
  const value = patch.friendRewardValue ?? current.friendRewardValue;
  if (type === 'percentage' && value > 100) throw new AppError('bad_request', 'A percentage cannot be more than 100', { field: 'friendRewardValue' });
  if (Object.keys(row).length > 0) {
    if (patch.tierBasis !== undefined && patch.tierBasis !== current.tierBasis) await lockProgram(tx, userId);
    await asServer(tx, () => tx`update public.loyalty_programs set ${tx(row)} where user_id = ${userId}`);
    if (patch.tierBasis !== undefined && patch.tierBasis !== current.tierBasis) {
      await asServer(tx, () => tx`select private.loyalty_refresh_tiers(${userId})`);
    }
    await tx`select public.log_activity(${userId}, 'loyalty.program_updated', 'loyalty', null, ${tx.json({ changed: Object.keys(row) })})`;
  }
  return getProgram(tx, userId);
}

// ---- Tiers ------------------------------------------------------------------------------

export async function listTiers(tx: Tx, userId: string): Promise<TierList> {
  const tiers = await tx<TierList['tiers']>`
    select ${tx(TIER.map((f) => `t.${f}`))}, coalesce(sum(c.members), 0)::int as members
      from public.loyalty_tiers t
      left join (select tier_id, members from public.loyalty_tier_counts where user_id = ${userId}
                 union all
                 select tier_id, members from public.loyalty_tier_count_deltas where user_id = ${userId}) c on c.tier_id = t.id
     where t.user_id = ${userId}
     group by t.user_id, t.id order by t.tier_order`;
  return { tiers };
}

const TIER_EDITABLE = ['name', 'description', 'tierOrder', 'threshold', 'pointsMultiplier', 'perks', 'badgeColor'] as const satisfies
  readonly (keyof Tier & keyof TierPatch)[];

async function findTier(tx: Tx, userId: string, id: string): Promise<Tier> {
  const [row] = await tx<Tier[]>`select ${tx(TIER)} from public.loyalty_tiers where user_id = ${userId} and id = ${id}`;
  if (!row) throw new AppError('not_found', 'Tier not found');
  return row;
}

/**
 * Changing a tier moves every member, so it takes the program lock exclusive first (every writer
 * of a member holds it shared): nothing else waits on a member row it holds, and it waits on none.
 */
const lockProgram = (tx: Tx, userId: string) => asServer(tx, () => tx`select private.lock_loyalty(${userId}, true)`);

/** Tier names and orders are unique per program; a clash is a 409 naming the field. */
async function writeTier(tx: Tx, fn: () => Promise<unknown>): Promise<void> {
  try {
    await tx.savepoint(() => asServer(tx, fn));
  } catch (err) {
    const constraint = (err as { constraint_name?: string }).constraint_name;
    if (constraint === 'loyalty_tiers_user_id_tier_order_key') throw new AppError('conflict', 'Another tier has that position', { field: 'tierOrder' });
    if (constraint === 'loyalty_tiers_user_id_name_key') throw new AppError('conflict', 'Another tier has that name', { field: 'name' });
    throw err;
  }
}

export async function createTier(tx: Tx, userId: string, input: TierCreate): Promise<Tier> {
  await getProgram(tx, userId);
  await lockProgram(tx, userId);
  const row = { userId, ...Object.fromEntries(TIER_EDITABLE.filter((k) => input[k] !== undefined).map((k) => [k, input[k]])) };
  let id = '';
  await writeTier(tx, async () => {
    const [created] = await tx<{ id: string }[]>`insert into public.loyalty_tiers ${tx(row)} returning id`;
    id = created?.id ?? '';
  });
  await asServer(tx, () => tx`select private.loyalty_refresh_tiers(${userId})`);
  return findTier(tx, userId, id);
}

export async function updateTier(tx: Tx, userId: string, id: string, patch: TierPatch): Promise<Tier> {
  await lockProgram(tx, userId);
  await findTier(tx, userId, id);
  const row = Object.fromEntries(TIER_EDITABLE.filter((k) => patch[k] !== undefined).map((k) => [k, patch[k]]));
  if (Object.keys(row).length > 0) {
    await writeTier(tx, () => tx`update public.loyalty_tiers set ${tx(row)} where user_id = ${userId} and id = ${id}`);
    await asServer(tx, () => tx`select private.loyalty_refresh_tiers(${userId})`);
  }
  return findTier(tx, userId, id);
}

/** A tier a reward requires stays (409 says which); otherwise its members move to the tiers that remain. */
export async function deleteTier(tx: Tx, userId: string, id: string): Promise<{ deleted: true }> {
  await lockProgram(tx, userId);
  await findTier(tx, userId, id);
  const used = await tx<{ name: string }[]>`
    select name from public.loyalty_rewards where user_id = ${userId} and min_tier_id = ${id} and deleted_at is null order by name limit 3`;
  if (used.length > 0) {
    throw new AppError('conflict', `Rewards require this tier (${used.map((r) => r.name).join(', ')}); change them first`);
  }
  // Deleted rewards keep their history but give up the tier they required.
  await asServer(tx, () => tx`update public.loyalty_rewards set min_tier_id = null where user_id = ${userId} and min_tier_id = ${id}`);
  await asServer(tx, () => tx`delete from public.loyalty_tiers where user_id = ${userId} and id = ${id}`);
  await asServer(tx, () => tx`select private.loyalty_refresh_tiers(${userId})`);
  return { deleted: true };
}

// ---- Rewards ----------------------------------------------------------------------------

const REWARD_EDITABLE = [
  'name', 'description', 'pointsCost', 'rewardType', 'rewardValue', 'rewardProductId', 'minimumPurchase', 'minTierId',
  'minOrders', 'redemptionLimit', 'totalAvailable', 'codeValidDays', 'isActive', 'startsAt', 'endsAt',
] as const satisfies readonly (keyof Reward & keyof RewardPatch)[];

export async function listRewards(tx: Tx, userId: string): Promise<RewardList> {
  const rewards = await tx<Reward[]>`
    select ${tx(REWARD)} from public.loyalty_rewards where user_id = ${userId} and deleted_at is null order by points_cost, id`;
  return { rewards };
}

async function findReward(tx: Tx, userId: string, id: string): Promise<Reward> {
  const [row] = await tx<Reward[]>`select ${tx(REWARD)} from public.loyalty_rewards where user_id = ${userId} and id = ${id} and deleted_at is null`;
  if (!row) throw new AppError('not_found', 'Reward not found');
  return row;
}

async function assertTier(tx: Tx, userId: string, tierId: string | null | undefined): Promise<void> {
  if (tierId) await findTier(tx, userId, tierId).catch(() => {
    throw new AppError('bad_request', 'That tier is not one of yours', { field: 'minTierId' });
  });
}

function rewardRow(input: RewardPatch): Partial<Reward> {
  const row = Object.fromEntries(REWARD_EDITABLE.filter((k) => input[k] !== undefined).map((k) => [k, input[k]])) as Partial<Reward>;
  // A type change leaves no value or product the new type does not use.
  if (input.rewardType === 'free_shipping') row.rewardValue = null;
  if (input.rewardType && input.rewardType !== 'free_product') row.rewardProductId = null;
  return row;
}

export async function createReward(tx: Tx, userId: string, input: RewardCreate): Promise<Reward> {
  await getProgram(tx, userId);
  await assertTier(tx, userId, input.minTierId);
  const [created] = await asServer(tx, () => tx<{ id: string }[]>`
    insert into public.loyalty_rewards ${tx({ userId, ...rewardRow(input) })} returning id`);
  await tx`select public.log_activity(${userId}, 'loyalty.reward_created', 'loyalty_reward', ${created?.id ?? null})`;
  return findReward(tx, userId, created?.id ?? '');
}

export async function updateReward(tx: Tx, userId: string, id: string, patch: RewardPatch): Promise<Reward> {
  const current = await findReward(tx, userId, id);
  await assertTier(tx, userId, patch.minTierId);
  const row = rewardRow(patch);
  const problem = checkRewardTerms({ ...current, ...row });
  if (problem) throw new AppError('bad_request', problem.message, { field: problem.field });
  if (row.totalAvailable != null && row.totalAvailable < current.totalRedeemed) {
    throw new AppError('bad_request', `${current.totalRedeemed} have been redeemed already; the inventory cannot be less`, { field: 'totalAvailable' });
  }
  if (Object.keys(row).length > 0) {
    await asServer(tx, () => tx`update public.loyalty_rewards set ${tx(row)} where user_id = ${userId} and id = ${id}`);
  }
  return findReward(tx, userId, id);
}

/** A reward is closed and hidden, never removed: its redemptions keep pointing at it (S31). */
export async function deleteReward(tx: Tx, userId: string, id: string): Promise<{ deleted: true }> {
  await findReward(tx, userId, id);
  await asServer(tx, () => tx`update public.loyalty_rewards set deleted_at = now(), is_active = false where user_id = ${userId} and id = ${id}`);
  await tx`select public.log_activity(${userId}, 'loyalty.reward_deleted', 'loyalty_reward', ${id})`;
  return { deleted: true };
}

// ---- Members ----------------------------------------------------------------------------

const MEMBER_COLUMNS = (tx: Tx) => tx`
  m.customer_id, c.email, c.first_name, c.last_name, m.points_balance, m.points_earned, m.points_redeemed, m.points_expired,
  m.tier_id, t.name as tier_name, m.joined_at`;

export const MEMBER_SORT_COLUMNS = {
  balance: { column: 'm.points_balance', type: 'integer' },
  earned: { column: 'm.points_earned', type: 'integer' },
  joined: { column: 'm.joined_at', type: 'timestamptz' },
} as const satisfies Record<MemberListQuery['sort'], KeyColumn>;

/**
 * Members by balance, points earned or join date, one tier or all, a keyset page (each sort has
 * an index on (user_id, column, customer_id)); the count in SQL.
 */
export async function listMembers(tx: Tx, userId: string, q: MemberListQuery): Promise<MemberList> {
  const where = tx`m.user_id = ${userId}
    ${q.tierId ? tx`and m.tier_id = ${q.tierId}` : tx``}
    ${searchCondition(tx, 'm.customer_id', q.search)}`;
  const sort = MEMBER_SORT_COLUMNS[q.sort];
  const key = sortKeyOf(tx, q.sort, sort, q.order, 'm.customer_id');
  const page = await keysetPage<MemberList['members'][number]>(tx, key, q, q.limit, (scan) => tx<(MemberList['members'][number] & Keyed)[]>`
    select ${MEMBER_COLUMNS(tx)} ${scan.cursor}
      from public.loyalty_members m
      join public.customers c on c.user_id = m.user_id and c.id = m.customer_id
      left join public.loyalty_tiers t on t.user_id = m.user_id and t.id = m.tier_id
     where ${where} and ${scan.where}
     order by ${scan.orderBy}
     limit ${scan.limit}`);
  const [count] = await tx<{ n: number }[]>`
    select count(*)::int as n from public.loyalty_members m where ${where}`;
  return { members: page.rows, total: count?.n ?? 0, limit: q.limit, prev: page.prev, next: page.next };
}

/** One member: balance, tier and the way to the next, a page of the ledger (newest first) and the redemptions. */
export async function getMember(tx: Tx, userId: string, customerId: string, page: { limit: number; offset: number }): Promise<MemberDetail> {
  const [m] = await tx<Omit<MemberDetail, 'ledger' | 'redemptions'>[]>`
    select ${MEMBER_COLUMNS(tx)}, m.next_tier_id, n.name as next_tier_name, m.to_next_tier, m.referral_code,
           to_char(m.birthday, 'YYYY-MM-DD') as birthday, coalesce(p.tier_basis, 'points') as tier_basis
      from public.loyalty_members m
      join public.customers c on c.user_id = m.user_id and c.id = m.customer_id
      left join public.loyalty_tiers t on t.user_id = m.user_id and t.id = m.tier_id
      left join public.loyalty_tiers n on n.user_id = m.user_id and n.id = m.next_tier_id
      left join public.loyalty_programs p on p.user_id = m.user_id
     where m.user_id = ${userId} and m.customer_id = ${customerId}`;
  if (!m) throw new AppError('not_found', 'Not a member of the loyalty program');
  const rows = await tx<MemberDetail['ledger']['rows']>`
    select ${tx(LEDGER)} from public.points_transactions
     where user_id = ${userId} and customer_id = ${customerId}
     order by seq desc limit ${page.limit} offset ${page.offset}`;
  const redemptions = await tx<MemberDetail['redemptions']>`
    select ${tx(fieldsOf(redemptionSchema).filter((f) => f !== 'rewardName').map((f) => `rr.${f}`))}, r.name as reward_name
      from public.reward_redemptions rr
      join public.loyalty_rewards r on r.user_id = rr.user_id and r.id = rr.reward_id
     where rr.user_id = ${userId} and rr.customer_id = ${customerId}
     order by rr.created_at desc limit 50`;
  // The member's last row is its seq: the ledger's length without counting it.
  const [last] = await tx<{ n: number }[]>`
    select last_seq as n from public.loyalty_members where user_id = ${userId} and customer_id = ${customerId}`;
  return { ...m, ledger: { rows, total: last?.n ?? 0, ...page }, redemptions };
}

async function assertCustomer(tx: Tx, userId: string, customerId: string): Promise<void> {
  const [c] = await tx`select 1 from public.customers where user_id = ${userId} and id = ${customerId}`;
  if (!c) throw new AppError('not_found', 'Customer not found');
}

/** Redeem through the one SQL function: its refusals come back as 404 / 409 / 422 with the reason. */
export async function redeemReward(tx: Tx, userId: string, customerId: string, rewardId: string, requestId?: string): Promise<RedemptionResult> {
  await assertCustomer(tx, userId, customerId);
  const [row] = await asServer(tx, () => tx<{ r: RedemptionResult }[]>`
    select private.loyalty_redeem(${userId}, ${customerId}, ${rewardId}, now(), ${requestId ?? null}) as r`);
  if (!row) throw new AppError('internal', 'Redemption returned nothing');
  await tx`select public.log_activity(${userId}, 'loyalty.redeemed', 'customer', ${customerId}, ${tx.json({ rewardId, points: row.r.pointsSpent })})`;
  return row.r;
}

/** A manual adjustment or bonus, with the merchant as its author. */
export async function adjustPoints(tx: Tx, userId: string, customerId: string, body: AdjustBody): Promise<{ seq: number; balance: number }> {
  await assertCustomer(tx, userId, customerId);
  await asServer(tx, () => body.kind === 'bonus'
    ? tx`select private.loyalty_bonus(${userId}, ${customerId}, ${body.points}, ${body.reason}, ${userId})`
    : tx`select private.loyalty_adjust(${userId}, ${customerId}, ${body.points}, ${body.reason}, ${userId})`);
  const [m] = await tx<{ seq: number; balance: number }[]>`
    select last_seq as seq, points_balance as balance from public.loyalty_members where user_id = ${userId} and customer_id = ${customerId}`;
  await tx`select public.log_activity(${userId}, 'loyalty.adjusted', 'customer', ${customerId}, ${tx.json({ kind: body.kind, points: body.points })})`;
  return m ?? { seq: 0, balance: 0 };
}

