import 'server-only';
import { AppError } from '@/lib/errors';
import { generateCode } from '@/lib/coupons/codes';
import { COUPON_COLUMNS, toCoupon, toUse, type CouponRow, type CouponUseRow } from '@/lib/coupons/rows';
import { checkCouponTerms } from '@/lib/coupons/schemas';
import type {
  Coupon, CouponBulkCreate, CouponCreate, CouponDeleteResult, CouponList, CouponPatch, CouponReason, CouponStats,
  CouponUses, CouponValidate, CouponValidation,
} from '@/lib/coupons/schemas';
import { toCsv } from '@/lib/csv';
import { assertCollections } from '@/lib/collections/service';
import type { Tx } from '@/lib/db';

/** Named columns only: a request body is never spread into a row, so it cannot set ids, tenant or counters. */
function columns(f: CouponPatch | CouponCreate): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (col: string, v: unknown) => {
    if (v !== undefined) out[col] = v;
  };
  set('discount_type', f.discountType);
  set('discount_value', f.discountType === 'free_shipping' ? null : f.discountValue);
  set('buy_quantity', f.buyQuantity);
  set('get_quantity', f.getQuantity);
  set('usage_limit', f.usageLimit);
  set('per_customer_limit', f.perCustomerLimit);
  set('minimum_purchase', f.minimumPurchase);
  set('minimum_quantity', f.minimumQuantity);
  set('product_ids', f.productIds);
  set('collections', f.collections);
  set('first_time_only', f.firstTimeOnly);
  set('starts_at', f.startsAt);
  set('expires_at', f.expiresAt);
  set('description', f.description);
  set('internal_notes', f.internalNotes);
  return out;
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));

/** A coupon of this merchant; `lock` holds its row (as redemption does) while it is changed. */
async function findCoupon(tx: Tx, userId: string, id: string, lock = false): Promise<CouponRow> {
  const [row] = await tx<CouponRow[]>`
    select ${tx(COUPON_COLUMNS)} from public.coupons where id = ${id} and user_id = ${userId} ${lock ? tx`for update` : tx``}`;
  if (!row) throw new AppError('not_found', 'Coupon not found');
  return row;
}

export async function getCoupon(tx: Tx, userId: string, id: string): Promise<Coupon> {
  return toCoupon(await findCoupon(tx, userId, id));
}

/** Coupons newest first; archived ones only when asked for. Stats aggregated in SQL. */
export async function listCoupons(
  tx: Tx,
  userId: string,
  q: { status?: string; source?: string; search?: string; stats: boolean; limit: number; offset: number },
): Promise<CouponList> {
  const where = tx`
    user_id = ${userId}
    ${q.status ? tx`and status = ${q.status}` : tx`and status <> 'archived'`}
    ${q.source ? tx`and source = ${q.source}` : tx``}
    ${q.search ? tx`and strpos(code, ${q.search.toUpperCase()}) > 0` : tx``}`;
  const rows = await tx<CouponRow[]>`
    select ${tx(COUPON_COLUMNS)} from public.coupons where ${where}
    order by created_at desc, id limit ${q.limit} offset ${q.offset}`;
  const [count] = await tx<{ n: number }[]>`select count(*)::int as n from public.coupons where ${where}`;
  let stats: CouponStats | undefined;
  if (q.stats) {
    const [s] = await tx<{ total: number; active: number; uses: number; discount: string; rejected: number }[]>`
      select count(*)::int as total, count(*) filter (where status = 'active')::int as active,
             coalesce(sum(usage_count), 0)::int as uses, coalesce(sum(total_discount_amount), 0)::text as discount,
             coalesce(sum(rejected_count), 0)::int as rejected
        from public.coupons where user_id = ${userId} and status <> 'archived'`;
    stats = { total: s?.total ?? 0, active: s?.active ?? 0, totalUses: s?.uses ?? 0, totalDiscount: Number(s?.discount ?? 0), rejectedUses: s?.rejected ?? 0 };
  }
  return { coupons: rows.map(toCoupon), total: count?.n ?? 0, ...(stats ? { stats } : {}) };
}

export async function createCoupon(tx: Tx, userId: string, input: CouponCreate): Promise<Coupon> {
  await assertCollections(tx, userId, input.collections, 'collections');
  const row = { user_id: userId, code: input.code, status: input.status, source: 'manual', ...columns(input) };
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
  if (patch.usageLimit != null && patch.usageLimit < current.usage_count) {
    throw new AppError('bad_request', `usageLimit: This coupon has already been used ${current.usage_count} times`, { field: 'usageLimit' });
  }
  const type = patch.discountType ?? current.discount_type;
  const problem = checkCouponTerms({
    discountType: type,
    discountValue: patch.discountValue !== undefined ? patch.discountValue : num(current.discount_value),
    buyQuantity: patch.buyQuantity !== undefined ? patch.buyQuantity : current.buy_quantity,
    getQuantity: patch.getQuantity !== undefined ? patch.getQuantity : current.get_quantity,
    startsAt: patch.startsAt ?? current.starts_at.toISOString(),
    expiresAt: patch.expiresAt !== undefined ? patch.expiresAt : (current.expires_at?.toISOString() ?? null),
  });
  if (problem) throw new AppError('bad_request', `${problem.field}: ${problem.message}`, { field: problem.field });
  const merged = { ...columns(patch) };
  if (patch.discountType && type === 'free_shipping') merged.discount_value = null;
  const limit = patch.usageLimit === undefined ? current.usage_limit : patch.usageLimit;
  const expires = patch.expiresAt === undefined ? current.expires_at : patch.expiresAt ? new Date(patch.expiresAt) : null;
  if (current.status === 'depleted' && (limit === null || limit > current.usage_count)) merged.status = 'active';
  if (current.status === 'expired' && (expires === null || expires > new Date())) merged.status = 'active';
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
  if (current.usage_count + current.rejected_count > 0) {
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
  discount: string;
  free_shipping: boolean;
}

/** Ask the one SQL rule set whether a code applies to this cart right now. */
export async function validateCoupon(tx: Tx, userId: string, input: CouponValidate): Promise<CouponValidation> {
  const [r] = await tx<CheckRow[]>`
    select valid, reason, message, discount::text, free_shipping
      from public.validate_coupon(${userId}, ${input.code}, ${input.email}, ${input.cartTotal}, ${input.quantity}, ${input.productIds})`;
  if (!r) throw new AppError('internal', 'Validation returned nothing');
  return r.valid
    ? { valid: true, discountAmount: Number(r.discount), freeShipping: r.free_shipping }
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

/** Every code of a batch as CSV. */
export async function batchCsv(tx: Tx, userId: string, batchId: string): Promise<string> {
  const [batch] = await tx<{ id: string }[]>`select id from public.coupon_batches where id = ${batchId} and user_id = ${userId}`;
  if (!batch) throw new AppError('not_found', 'Batch not found');
  const rows = await tx<{ code: string; status: string; usage_count: number }[]>`
    select code, status, usage_count from public.coupons where user_id = ${userId} and batch_id = ${batchId} order by code`;
  return toCsv(['code', 'status', 'used'], rows.map((r) => [r.code, r.status, r.usage_count]));
}

/** Uses of a coupon, newest first, accepted and rejected. */
export async function listUses(tx: Tx, userId: string, id: string, page: { limit: number; offset: number }): Promise<CouponUses> {
  await findCoupon(tx, userId, id);
  const rows = await tx<CouponUseRow[]>`
    select id, customer_email, shop_order_id, status, reason, discount_amount, order_total, used_at
      from public.coupon_uses where coupon_id = ${id} and user_id = ${userId}
     order by used_at desc, id limit ${page.limit} offset ${page.offset}`;
  const [count] = await tx<{ n: number }[]>`select count(*)::int as n from public.coupon_uses where coupon_id = ${id} and user_id = ${userId}`;
  return { uses: rows.map(toUse), total: count?.n ?? 0, limit: page.limit, offset: page.offset };
}

export async function usesCsv(tx: Tx, userId: string, id: string): Promise<string> {
  await findCoupon(tx, userId, id);
  const rows = await tx<CouponUseRow[]>`
    select id, customer_email, shop_order_id, status, reason, discount_amount, order_total, used_at
      from public.coupon_uses where coupon_id = ${id} and user_id = ${userId} order by used_at`;
  return toCsv(
    ['used_at', 'customer_email', 'order', 'status', 'reason', 'discount_amount', 'order_total'],
    rows.map((r) => [r.used_at.toISOString(), r.customer_email, r.shop_order_id, r.status, r.reason, r.discount_amount, r.order_total]),
  );
}
