import 'server-only';
import { AppError } from '@/lib/errors';
import { asServer, fieldsOf, jsonb, type Tx } from '@/lib/db';
import { claimPath, giftCodeHash, mintGiftCode } from '@/lib/gifts/codes';
import {
  giftSchema,
  GIFT_STATUSES,
  type ClaimResult,
  type Gift,
  type GiftCreate,
  type GiftListQuery,
  type GiftPage,
  type GiftStats,
  type GiftStatus,
  type PublicGift,
} from '@/lib/gifts/schemas';

const GIFT = fieldsOf(giftSchema).map((f) => `g.${f}`);

/** Gifts with their coupon and latest announcement, in one statement (no query per gift). */
const selectGifts = (tx: Tx) => tx`
  select ${tx(GIFT)}, k.code as coupon_code,
         (select jsonb_build_object('status', m.status, 'hold', m.hold, 'reason', m.reason, 'attempts', m.attempts,
                                    'dueAt', m.due_at, 'sentAt', m.sent_at)
            from public.klaviyo_messages m
           where m.user_id = g.user_id and m.source = 'gift' and m.source_id = g.id
           order by m.created_at desc, m.id desc limit 1) as announcement
    from public.gifts g
    left join public.coupons k on k.user_id = g.user_id and k.id = g.coupon_id`;

/** The merchant's gifts, newest first, optionally of one status; keyset pages (`after` the last id). */
export async function listGifts(tx: Tx, userId: string, q: GiftListQuery): Promise<GiftPage> {
  const rows = await tx<Gift[]>`
    ${selectGifts(tx)}
     where g.user_id = ${userId}
       ${q.status ? tx`and g.status = ${q.status}` : tx``}
       ${q.after ? tx`and (g.created_at, g.id) < (select a.created_at, a.id from public.gifts a where a.user_id = ${userId} and a.id = ${q.after})` : tx``}
     order by g.created_at desc, g.id desc
     limit ${q.limit + 1}`;
  const page = rows.slice(0, q.limit);
  return { gifts: page, next: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null };
}

export async function getGift(tx: Tx, userId: string, id: string): Promise<Gift> {
  const [row] = await tx<Gift[]>`${selectGifts(tx)} where g.user_id = ${userId} and g.id = ${id}`;
  if (!row) throw new AppError('not_found', 'Gift not found');
  return row;
}

/** Counts by status, claim rate and values, aggregated in the database. */
export async function giftStats(tx: Tx, userId: string): Promise<GiftStats> {
  const [row] = await tx<(Omit<GiftStats, 'byStatus' | 'claimRate'> & Record<GiftStatus, number>)[]>`
    select count(*)::int as total,
           ${tx.unsafe(GIFT_STATUSES.map((s) => `(count(*) filter (where g.status = '${s}'))::int as ${s}`).join(', '))},
           (count(*) filter (where g.delivered_at is not null))::int as announced,
           coalesce(sum(g.value) filter (where g.status = 'claimed'), 0)::float8 as value_claimed,
           coalesce(sum(g.value) filter (where g.status in ('pending', 'delivered') and g.expires_at > now()), 0)::float8 as value_outstanding,
           (select count(*)::int from public.klaviyo_messages m where m.user_id = ${userId} and m.status = 'held' and m.source = 'gift') as held,
           (select s.currency from public.merchant_settings s where s.user_id = ${userId}) as currency
      from public.gifts g
     where g.user_id = ${userId}`;
  if (!row) throw new AppError('not_found', 'Merchant not found');
  const byStatus = Object.fromEntries(GIFT_STATUSES.map((s) => [s, row[s]])) as GiftStats['byStatus'];
  const claimed = byStatus.claimed;
  return {
    total: row.total,
    byStatus,
    announced: row.announced,
    claimRate: row.announced > 0 ? claimed / row.announced : null,
    valueClaimed: row.valueClaimed,
    valueOutstanding: row.valueOutstanding,
    held: row.held,
    currency: row.currency ?? 'USD',
  };
}

export async function createGift(tx: Tx, userId: string, input: GiftCreate): Promise<Gift> {
  const [row] = await asServer(tx, () => tx<{ id: string }[]>`
    select (private.create_gift(${userId}, ${jsonb(tx, { ...input, origin: 'dashboard' })})).id`);
  if (!row) throw new Error('create_gift returned nothing');
  await tx`select public.log_activity(${userId}, 'gift.created', 'gift', ${row.id}, ${tx.json({ scheduled: Boolean(input.scheduledDeliveryAt) })})`;
  return getGift(tx, userId, row.id);
}

export async function cancelGift(tx: Tx, userId: string, id: string): Promise<Gift> {
  await asServer(tx, () => tx`select private.cancel_gift(${userId}, ${id})`);
  await tx`select public.log_activity(${userId}, 'gift.cancelled', 'gift', ${id}, '{}'::jsonb)`;
  return getGift(tx, userId, id);
}

export async function resendGift(tx: Tx, userId: string, id: string): Promise<{ action: 'sent' | 'brought_forward' | 'retried'; gift: Gift }> {
  const [row] = await asServer(tx, () => tx<{ r: { action: 'sent' | 'brought_forward' | 'retried' } }[]>`
    select private.resend_gift(${userId}, ${id}) as r`);
  if (!row) throw new Error('resend_gift returned nothing');
  await tx`select public.log_activity(${userId}, 'gift.resent', 'gift', ${id}, ${tx.json({ action: row.r.action })})`;
  return { action: row.r.action, gift: await getGift(tx, userId, id) };
}

/** A new claim link for the merchant to pass on: shown once (only its hash is kept). */
export async function giftLink(tx: Tx, userId: string, id: string, absolute: (path: string) => string): Promise<{ code: string; url: string; gift: Gift }> {
  const code = mintGiftCode();
  await asServer(tx, () => tx`select private.gift_link(${userId}, ${id}, ${giftCodeHash(code)})`);
  await tx`select public.log_activity(${userId}, 'gift.link_made', 'gift', ${id}, '{}'::jsonb)`;
  return { code, url: absolute(claimPath(code)), gift: await getGift(tx, userId, id) };
}

// ---- The public claim page (system transaction: the code is the only credential) ----------

const NOT_FOUND = () => new AppError('not_found', 'This gift link is not valid. Check that it is the whole link from your email.');

/** The gift a code names, as the recipient may see it; one answer for every code that is not one. */
export async function publicGift(tx: Tx, code: string): Promise<PublicGift> {
  const [row] = await tx<{ v: PublicGift | null }[]>`select private.gift_view(${giftCodeHash(code)}) as v`;
  if (!row?.v) throw NOT_FOUND();
  return row.v;
}

type ClaimOutcome = 'claimed' | 'already_claimed' | 'not_found' | 'not_delivered' | 'cancelled' | 'expired' | 'claimed_by_other' | 'wrong_email';

const REFUSALS: Record<Exclude<ClaimOutcome, 'claimed' | 'already_claimed' | 'not_found'>, () => AppError> = {
  not_delivered: () => new AppError('conflict', 'This gift is not ready yet: it can be claimed from its delivery day.'),
  cancelled: () => new AppError('conflict', 'This gift was cancelled by the store.'),
  expired: () => new AppError('conflict', 'This gift has expired.'),
  claimed_by_other: () => new AppError('conflict', 'This gift has already been claimed.'),
  wrong_email: () => new AppError('forbidden', 'Use the email address this gift was sent to.', { field: 'email' }),
};

/** Claim the gift a code names for this email (one locked SQL call); refusals are 4xx with words for the recipient. */
export async function claimGift(tx: Tx, code: string, email: string): Promise<ClaimResult> {
  const [row] = await tx<{ r: { outcome: ClaimOutcome; gift?: PublicGift; coupon?: ClaimResult['coupon'] } }[]>`
    select private.claim_gift(${giftCodeHash(code)}, ${email}) as r`;
  const outcome = row?.r.outcome ?? 'not_found';
  if (outcome === 'not_found' || !row?.r.gift) throw NOT_FOUND();
  if (outcome !== 'claimed' && outcome !== 'already_claimed') throw REFUSALS[outcome]();
  return { gift: row.r.gift, coupon: row.r.coupon ?? null, again: outcome === 'already_claimed' };
}
