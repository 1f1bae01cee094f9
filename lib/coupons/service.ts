import 'server-only';
import { AppError } from '@/lib/errors';
import { generateCode } from '@/lib/coupons/codes';
import { checkCouponTerms, couponSchema, couponUseSchema } from '@/lib/coupons/schemas';
import type {
  Coupon, CouponBatchList, CouponBatchSummary, CouponBulkCreate, CouponCreate, CouponDeleteResult, CouponList, CouponPatch,
  CouponReason, CouponStats,
  CouponUse, CouponUses, CouponValidate, CouponValidation,
} from '@/lib/coupons/schemas';
import { toCsv } from '@/lib/csv';
import { assertCollections } from '@/lib/collections/service';
import { fieldsOf, type Tx } from '@/lib/db';

const COUPON = fieldsOf(couponSchema);
const USE = fieldsOf(couponUseSchema);

/** The fields a merchant writes; everything else (ids, tenant, status, counters) only the server sets. */
const EDITABLE = [
  'discountType', 'discountValue', 'buyQuantity', 'getQuantity', 'usageLimit', 'perCustomerLimit', 'minimumPurchase',
  'minimumQuantity', 'productIds', 'collections', 'firstTimeOnly', 'startsAt', 'expiresAt', 'description', 'internalNotes',
] as const satisfies readonly (keyof Coupon & keyof CouponPatch)[];

type CouponWrite = Partial<Pick<Coupon, (typeof EDITABLE)[number] | 'status'>>;

/** Named fields only: a request body is never spread into a row, so it cannot set ids, tenant or counters. */
function columns(f: CouponPatch | CouponCreate): CouponWrite {
  // Each key names a field of both the request and the coupon (`satisfies` above); zod has checked its value.
  const out = Object.fromEntries(EDITABLE.filter((k) => f[k] !== undefined).map((k) => [k, f[k]])) as CouponWrite;
  if (f.discountType === 'free_shipping') out.discountValue = null;
  return out;
}

/**
 * A coupon of this merchant with its figures (coupons_counted: its row's plus its stripes');
 * `lock` first holds its row, as redemption does when it judges a code on the row, while it is
 * changed.
 */
async function findCoupon(tx: Tx, userId: string, id: string, lock = false): Promise<Coupon> {
  if (lock) await tx`select 1 from public.coupons where id = ${id} and user_id = ${userId} for no key update`;
  const [row] = await tx<Coupon[]>`
    select ${tx(COUPON)} from public.coupons_counted where id = ${id} and user_id = ${userId}`;
  if (!row) throw new AppError('not_found', 'Coupon not found');
  return row;
}

export async function getCoupon(tx: Tx, userId: string, id: string): Promise<Coupon> {
  return findCoupon(tx, userId, id);
}

/**
 * Coupons newest first; archived ones only when asked for. Codes of a batch, and the
 * single-use codes other modules issue (a loyalty reward, a referral), stay out of the list
 * unless asked for by batch, source or search: one merchant's campaign list is not flooded by
 * a thousand members' codes. Stats aggregated in SQL.
 */
export async function listCoupons(
  tx: Tx,
  userId: string,
  q: { status?: string; source?: string; search?: string; batchId?: string; stats: boolean; limit: number; offset: number },
): Promise<CouponList> {
  const where = tx`
    user_id = ${userId}
    ${q.status ? tx`and status = ${q.status}` : tx`and status <> 'archived'`}
    ${q.source ? tx`and source = ${q.source}` : tx``}
    ${q.batchId ? tx`and batch_id = ${q.batchId}` : q.search ? tx`` : tx`and batch_id is null`}
    ${q.source || q.search || q.batchId ? tx`` : tx`and source in ('manual', 'bulk')`}
    ${q.search ? tx`and strpos(code, ${q.search.toUpperCase()}) > 0` : tx``}`;
  const coupons = await tx<Coupon[]>`
    select ${tx(COUPON)} from public.coupons_counted where ${where}
    order by created_at desc, id limit ${q.limit} offset ${q.offset}`;
  const [count] = await tx<{ n: number }[]>`select count(*)::int as n from public.coupons_counted where ${where}`;
  let stats: CouponStats | undefined;
  if (q.stats) {
    // Stripes are few (eight a busy code at most): summed once and joined by hash, not per coupon.
    [stats] = await tx<CouponStats[]>`
      select count(*)::int as total,
             count(*) filter (where c.status = 'active'
                                and not coalesce(c.usage_count + t.uses >= c.usage_limit, false))::int as active,
             (coalesce(sum(c.usage_count), 0) + coalesce(sum(t.uses), 0))::int as total_uses,
             coalesce(sum(c.total_discount_amount), 0) + coalesce(sum(t.discount), 0) as total_discount,
             (coalesce(sum(c.rejected_count), 0) + coalesce(sum(t.rejected), 0))::int as rejected_uses
        from public.coupons c
        left join (
          select coupon_id, sum(uses) as uses, sum(discount) as discount, sum(rejected) as rejected
            from public.coupon_tallies where user_id = ${userId} group by coupon_id
        ) t on t.coupon_id = c.id
       where c.user_id = ${userId} and c.status <> 'archived'`;
  }
  return { coupons, total: count?.n ?? 0, ...(stats ? { stats } : {}) };
}

export async function createCoupon(tx: Tx, userId: string, input: CouponCreate): Promise<Coupon> {
  await assertCollections(tx, userId, input.collections, 'collections');
  const row = { userId, code: input.code, status: input.status, source: 'manual', ...columns(input) };
  const [created] = await tx<{ id: string }[]>`insert into public.coupons ${tx(row)} returning id`;
  if (!created) throw new AppError('internal', 'Coupon was not created');
  await tx`select public.log_activity(${userId}, 'coupon.created', 'coupon', ${created.id}, ${tx.json({ code: input.code })})`;
  return getCoupon(tx, userId, created.id);
}

/**
 * Edit a coupon. A limit below the uses so far is refused; raising the limit of a depleted
 * coupon, or moving the end date of an expired one into the future, makes it active again.
 */
export async function updateCoupon(tx: Tx, userId: string, id: string, patch: CouponPatch): Promise<Coupon> {
  await assertCollections(tx, userId, patch.collections, 'collections');
  const current = await findCoupon(tx, userId, id, true);
  if (current.status === 'archived') throw new AppError('conflict', 'An archived coupon cannot be edited');
  if (patch.usageLimit != null && patch.usageLimit < current.usageCount) {
    throw new AppError('bad_request', `usageLimit: This coupon has already been used ${current.usageCount} times`, { field: 'usageLimit' });
  }
  const type = patch.discountType ?? current.discountType;
  const problem = checkCouponTerms({
    discountType: type,
    discountValue: patch.discountValue !== undefined ? patch.discountValue : current.discountValue,
    buyQuantity: patch.buyQuantity !== undefined ? patch.buyQuantity : current.buyQuantity,
    getQuantity: patch.getQuantity !== undefined ? patch.getQuantity : current.getQuantity,
    startsAt: patch.startsAt ?? current.startsAt,
    expiresAt: patch.expiresAt !== undefined ? patch.expiresAt : current.expiresAt,
  });
  if (problem) throw new AppError('bad_request', `${problem.field}: ${problem.message}`, { field: problem.field });
  const merged = columns(patch);
  const limit = patch.usageLimit === undefined ? current.usageLimit : patch.usageLimit;
  const expires = patch.expiresAt === undefined ? current.expiresAt : patch.expiresAt;
  if (current.status === 'depleted' && (limit === null || limit > current.usageCount)) merged.status = 'active';
  if (current.status === 'expired' && (expires === null || Date.parse(expires) > Date.now())) merged.status = 'active';
  await tx`update public.coupons set ${tx(merged)} where id = ${id} and user_id = ${userId}`;
  return getCoupon(tx, userId, id);
}

/** Pause an active coupon, or resume a paused or draft one. */
export async function setCouponActive(tx: Tx, userId: string, id: string, active: boolean): Promise<Coupon> {
  const current = await findCoupon(tx, userId, id, true);
  const allowed = active ? ['paused', 'draft'] : ['active'];
  if (!allowed.includes(current.status)) {
    throw new AppError('conflict', active ? `A ${current.status} coupon cannot be resumed` : `Only an active coupon can be paused (this one is ${current.status})`);
  }
  await tx`
    update public.coupons
       set status = case when ${active} then (case when expires_at is not null and expires_at <= now() then 'expired' else 'active' end)
                         else 'paused' end
     where id = ${id} and user_id = ${userId}`;
  return getCoupon(tx, userId, id);
}

/** Delete an unused coupon; one with uses is archived instead (its history stays). */
export async function deleteCoupon(tx: Tx, userId: string, id: string): Promise<CouponDeleteResult> {
  const current = await findCoupon(tx, userId, id, true);
  if (current.usageCount + current.rejectedCount > 0) {
    await tx`update public.coupons set status = 'archived' where id = ${id} and user_id = ${userId}`;
    return { deleted: false, archived: true, message: `${current.code} has been used, so it was archived instead of deleted` };
  }
  await tx`delete from public.coupons where id = ${id} and user_id = ${userId}`;
  return { deleted: true, archived: false, message: `${current.code} was deleted` };
}

interface CheckRow {
  valid: boolean;
  reason: CouponReason | null;
  message: string | null;
  discount: number;
  freeShipping: boolean;
}

/** Ask the one SQL rule set whether a code applies to this cart right now. */
export async function validateCoupon(tx: Tx, userId: string, input: CouponValidate): Promise<CouponValidation> {
  const [r] = await tx<CheckRow[]>`
    select valid, reason, message, discount, free_shipping
      from public.validate_coupon(${userId}, ${input.code}, ${input.email}, ${input.cartTotal}, ${input.quantity}, ${input.productIds})`;
  if (!r) throw new AppError('internal', 'Validation returned nothing');
  return r.valid
    ? { valid: true, discountAmount: r.discount, freeShipping: r.freeShipping }
    : { valid: false, reason: r.reason ?? 'not_found', message: r.message ?? 'This code cannot be used' };
}

/** Create `count` unique single-use codes in one batch (set-based insert, collisions retried). */
export async function bulkCreateCoupons(tx: Tx, userId: string, input: CouponBulkCreate): Promise<{ batchId: string; count: number }> {
  await assertCollections(tx, userId, input.collections, 'collections');
  const [batch] = await tx<{ id: string }[]>`
    insert into public.coupon_batches (user_id, prefix, count) values (${userId}, ${input.prefix}, ${input.count}) returning id`;
  if (!batch) throw new AppError('internal', 'Batch was not created');
  const value = input.discountType === 'free_shipping' ? null : (input.discountValue ?? null);
  let made = 0;
  for (let attempt = 0; attempt < 5 && made < input.count; attempt++) {
    const codes = Array.from({ length: input.count - made }, () => generateCode(input.prefix));
    const inserted = await tx`
      insert into public.coupons (user_id, code, source, batch_id, discount_type, discount_value, buy_quantity, get_quantity,
                                  usage_limit, per_customer_limit, minimum_purchase, minimum_quantity, product_ids,
                                  collections, first_time_only, starts_at, expires_at, description)
      select ${userId}, c, 'bulk', ${batch.id}, ${input.discountType}, ${value}::numeric,
             ${input.buyQuantity ?? null}::int, ${input.getQuantity ?? null}::int, 1, 1,
             ${input.minimumPurchase ?? null}::numeric, ${input.minimumQuantity ?? null}::int,
             ${input.productIds ?? []}::text[], ${input.collections ?? []}::text[], ${input.firstTimeOnly ?? false},
             coalesce(${input.startsAt ?? null}::timestamptz, now()), ${input.expiresAt ?? null}::timestamptz,
             ${input.description ?? null}
        from unnest(${codes}::text[]) c
      on conflict (user_id, code) do nothing`;
    made += inserted.count;
  }
  if (made < input.count) throw new AppError('conflict', 'Could not generate enough unique codes; try another prefix');
  await tx`select public.log_activity(${userId}, 'coupon.bulk_created', 'coupon_batch', ${batch.id}, ${tx.json({ count: made })})`;
  return { batchId: batch.id, count: made };
}

/**
 * The merchant's batches newest first, each one row: its codes counted and their uses summed in
 * SQL (one grouped scan of the batch's codes by the batch index), its terms from one code.
 */
export async function listBatches(tx: Tx, userId: string, page: { limit: number; offset: number }): Promise<CouponBatchList> {
  const batches = await tx<CouponBatchSummary[]>`
    select b.id, b.prefix, b.created_at,
           coalesce(s.codes, 0) as codes, coalesce(s.used_codes, 0) as used_codes, coalesce(s.uses, 0) as uses,
           coalesce(s.rejected_uses, 0) as rejected_uses, coalesce(s.total_discount_amount, 0) as total_discount_amount,
           t.terms
      from public.coupon_batches b
      left join lateral (
        select count(*)::int as codes, count(*) filter (where c.usage_count > 0)::int as used_codes,
               sum(c.usage_count)::int as uses, sum(c.rejected_count)::int as rejected_uses,
               sum(c.total_discount_amount) as total_discount_amount
          from public.coupons_counted c where c.user_id = b.user_id and c.batch_id = b.id
      ) s on true
      left join lateral (
        select jsonb_build_object('discountType', c.discount_type, 'discountValue', c.discount_value,
                 'buyQuantity', c.buy_quantity, 'getQuantity', c.get_quantity, 'minimumPurchase', c.minimum_purchase,
                 'expiresAt', to_char(c.expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) as terms
          from public.coupons c where c.user_id = b.user_id and c.batch_id = b.id limit 1
      ) t on true
     where b.user_id = ${userId}
     order by b.created_at desc, b.id
     limit ${page.limit} offset ${page.offset}`;
  const [count] = await tx<{ n: number }[]>`select count(*)::int as n from public.coupon_batches where user_id = ${userId}`;
  return { batches, total: count?.n ?? 0, limit: page.limit, offset: page.offset };
}

/** The file name a batch's CSV downloads as: its prefix and the day it was made. */
export async function batchFileName(tx: Tx, userId: string, batchId: string): Promise<string> {
  const [batch] = await tx<{ prefix: string; createdAt: string }[]>`
    select prefix, created_at from public.coupon_batches where id = ${batchId} and user_id = ${userId}`;
  if (!batch) throw new AppError('not_found', 'Batch not found');
  return `${batch.prefix.toLowerCase()}-codes-${batch.createdAt.slice(0, 10)}.csv`;
}

/** Every code of a batch as CSV. */
export async function batchCsv(tx: Tx, userId: string, batchId: string): Promise<string> {
  const [batch] = await tx<{ id: string }[]>`select id from public.coupon_batches where id = ${batchId} and user_id = ${userId}`;
  if (!batch) throw new AppError('not_found', 'Batch not found');
  const rows = await tx<Pick<Coupon, 'code' | 'status' | 'usageCount'>[]>`
    select code, status, usage_count from public.coupons_counted where user_id = ${userId} and batch_id = ${batchId} order by code`;
  return toCsv(['code', 'status', 'used'], rows.map((r) => [r.code, r.status, r.usageCount]));
}

/** Uses of a coupon, newest first, accepted and rejected. */
export async function listUses(tx: Tx, userId: string, id: string, page: { limit: number; offset: number }): Promise<CouponUses> {
  await findCoupon(tx, userId, id);
  const uses = await tx<CouponUse[]>`
    select ${tx(USE)} from public.coupon_uses where coupon_id = ${id} and user_id = ${userId}
     order by used_at desc, id limit ${page.limit} offset ${page.offset}`;
  const [count] = await tx<{ n: number }[]>`select count(*)::int as n from public.coupon_uses where coupon_id = ${id} and user_id = ${userId}`;
  return { uses, total: count?.n ?? 0, limit: page.limit, offset: page.offset };
}

export async function usesCsv(tx: Tx, userId: string, id: string): Promise<string> {
  await findCoupon(tx, userId, id);
  const rows = await tx<CouponUse[]>`
    select ${tx(USE)} from public.coupon_uses where coupon_id = ${id} and user_id = ${userId} order by used_at`;
  return toCsv(
    ['used_at', 'customer_email', 'order', 'status', 'reason', 'discount_amount', 'order_total'],
    rows.map((r) => [r.usedAt, r.customerEmail, r.shopOrderId, r.status, r.reason, r.discountAmount.toFixed(2), r.orderTotal.toFixed(2)]),
  );
}
