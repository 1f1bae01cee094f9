import { z } from 'zod';
import { emailSchema } from '@/lib/auth/schemas';
import { collectionSlug } from '@/lib/collections/schemas';

export const COUPON_STATUSES = ['draft', 'active', 'paused', 'expired', 'depleted', 'archived'] as const;
export type CouponStatus = (typeof COUPON_STATUSES)[number];

export const DISCOUNT_TYPES = ['percentage', 'fixed_amount', 'free_shipping', 'buy_x_get_y'] as const;
export type DiscountType = (typeof DISCOUNT_TYPES)[number];

/** Where a coupon came from; loyalty, referral and win-back issue codes through this module. */
export const COUPON_SOURCES = ['manual', 'bulk', 'loyalty', 'referral', 'winback'] as const;
export type CouponSource = (typeof COUPON_SOURCES)[number];

/** Every reason a code can be refused, as validation and redemption both report it. */
export const COUPON_REASONS = [
  'not_found', 'not_active', 'paused', 'not_started', 'expired', 'depleted', 'customer_limit',
  'minimum_purchase', 'minimum_quantity', 'first_time_only', 'product_restriction', 'collection_restriction',
] as const;
export type CouponReason = (typeof COUPON_REASONS)[number];

/** Codes are stored upper case: letters, digits, dash and underscore. */
export const couponCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9_-]{3,40}$/, 'Use 3 to 40 letters, digits, dashes or underscores');

const money = z.number().min(0).max(10_000_000);
const count = z.number().int().min(1).max(100_000_000);
const date = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });

/** Fields shared by create, bulk create and edit; checked together by `refineCoupon`. */
const couponFields = {
  discountType: z.enum(DISCOUNT_TYPES),
  discountValue: z.number().positive('must be more than 0').max(10_000_000).nullable().optional(),
  buyQuantity: z.number().int().min(1).max(1000).nullable().optional(),
  getQuantity: z.number().int().min(1).max(1000).nullable().optional(),
  usageLimit: count.nullable().optional(),
  perCustomerLimit: count.nullable().optional(),
  minimumPurchase: money.nullable().optional(),
  minimumQuantity: z.number().int().min(1).max(100_000).nullable().optional(),
  productIds: z.array(z.string().trim().min(1).max(64)).max(500).optional(),
  collections: z.array(collectionSlug).max(100).optional(),
  firstTimeOnly: z.boolean().optional(),
  startsAt: date.optional(),
  expiresAt: date.nullable().optional(),
  description: z.string().trim().max(500).nullable().optional(),
  internalNotes: z.string().trim().max(2000).nullable().optional(),
};

/** The discount terms the cross-field rules look at (a create body, or a stored coupon merged with an edit). */
export interface CouponTerms {
  discountType?: DiscountType;
  discountValue?: number | null;
  buyQuantity?: number | null;
  getQuantity?: number | null;
  startsAt?: string;
  expiresAt?: string | null;
}

/**
 * Cross-field rules: percent 0-100, amounts > 0, buy X get Y needs both quantities
 * (its `discountValue` is unused: the `get` items are free), dates ordered. Returns the first
 * problem as {field, message}, or null.
 */
export function checkCouponTerms(v: CouponTerms): { field: string; message: string } | null {
  if (v.discountType === 'percentage') {
    if (v.discountValue == null) return { field: 'discountValue', message: 'A percentage discount needs a value' };
    if (v.discountValue > 100) return { field: 'discountValue', message: 'A percentage cannot be more than 100' };
  }
  if (v.discountType === 'fixed_amount' && v.discountValue == null) return { field: 'discountValue', message: 'A fixed discount needs an amount' };
  if (v.discountType === 'buy_x_get_y') {
    if (v.buyQuantity == null) return { field: 'buyQuantity', message: 'Buy X get Y needs how many to buy' };
    if (v.getQuantity == null) return { field: 'getQuantity', message: 'Buy X get Y needs how many they get' };
  }
  if (v.startsAt && v.expiresAt && Date.parse(v.expiresAt) <= Date.parse(v.startsAt)) {
    return { field: 'expiresAt', message: 'The end date must be after the start date' };
  }
  return null;
}

function refineCoupon(v: CouponTerms, ctx: z.RefinementCtx): void {
  const problem = checkCouponTerms(v);
  if (problem) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
}

/**
 * POST /api/coupons. Unknown fields (usage_count, user_id...) are dropped, and a status other
 * than draft or active (depleted, expired...) is ignored: those only come from the coupon's use.
 */
export const couponCreate = z
  .object({ code: couponCode, status: z.enum(['draft', 'active']).catch('active').default('active'), ...couponFields })
  .superRefine(refineCoupon);
export type CouponCreate = z.infer<typeof couponCreate>;

/**
 * PATCH /api/coupons/[id]: each editable field is optional; the code and counters never change here. The
 * cross-field rules run in the service on the stored coupon merged with the edit, so a lone
 * `{discountValue: 150}` on a percentage coupon is refused and a lone type change is judged
 * with the stored value.
 */
export const couponPatch = z
  .object({ ...couponFields, discountType: z.enum(DISCOUNT_TYPES).optional() })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'Send at least one field to change' });
export type CouponPatch = z.infer<typeof couponPatch>;

/** POST /api/coupons/bulk: `count` unique single-use codes `PREFIX-XXXXXXXXXX` (limits are always 1). */
const { usageLimit: _usageLimit, perCustomerLimit: _perCustomerLimit, ...bulkFields } = couponFields;
export const couponBulkCreate = z
  .object({
    prefix: z.string().trim().toUpperCase().regex(/^[A-Z0-9]{2,12}$/, 'Use 2 to 12 letters or digits'),
    count: z.number().int().min(1).max(10_000, 'At most 10,000 codes per batch'),
    ...bulkFields,
  })
  .superRefine(refineCoupon);
export type CouponBulkCreate = z.infer<typeof couponBulkCreate>;

/**
 * GET /api/coupons: archived coupons are left out unless `status=archived`. `stats` describe
 * every coupon that is not archived, whatever the filters.
 */
export const couponListQuery = z.object({
  status: z.enum(COUPON_STATUSES).optional(),
  source: z.enum(COUPON_SOURCES).optional(),
  search: z.string().trim().max(40).optional(),
  stats: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  limit: z.coerce.number().int().min(1).max(200).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

/** POST /api/coupons/validate: what a checkout asks before an order exists. */
export const couponValidate = z.object({
  code: z.string().trim().toUpperCase().min(1).max(40),
  email: emailSchema,
  cartTotal: money,
  quantity: z.number().int().min(1).max(100_000).default(1),
  productIds: z.array(z.string().trim().min(1).max(64)).max(500).default([]),
});
export type CouponValidate = z.infer<typeof couponValidate>;

export interface CouponValidation {
  valid: boolean;
  reason?: CouponReason;
  message?: string;
  discountAmount?: number;
  freeShipping?: boolean;
}

export interface Coupon {
  id: string;
  code: string;
  status: CouponStatus;
  source: CouponSource;
  batchId: string | null;
  discountType: DiscountType;
  discountValue: number | null;
  buyQuantity: number | null;
  getQuantity: number | null;
  usageLimit: number | null;
  perCustomerLimit: number | null;
  usageCount: number;
  rejectedCount: number;
  minimumPurchase: number | null;
  minimumQuantity: number | null;
  productIds: string[];
  collections: string[];
  firstTimeOnly: boolean;
  startsAt: string;
  expiresAt: string | null;
  totalDiscountAmount: number;
  totalOrders: number;
  description: string | null;
  internalNotes: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CouponStats {
  total: number;
  active: number;
  totalUses: number;
  totalDiscount: number;
  rejectedUses: number;
}

export interface CouponList {
  coupons: Coupon[];
  total: number;
  stats?: CouponStats;
}

/** One order's use of a coupon. `discountAmount` is what the shop reported (or computed); 0 if the shop sent none. */
export interface CouponUse {
  id: string;
  customerEmail: string;
  shopOrderId: string;
  status: 'accepted' | 'rejected';
  reason: CouponReason | null;
  discountAmount: number;
  orderTotal: number;
  usedAt: string;
}

export interface CouponUses {
  uses: CouponUse[];
  total: number;
  limit: number;
  offset: number;
}

export const usesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  format: z.enum(['json', 'csv']).default('json'),
});

export interface CouponBatch {
  batchId: string;
  count: number;
  /** CSV of every code in the batch. */
  csvUrl: string;
}

/** DELETE answers what happened: removed, or archived because it has uses. */
export interface CouponDeleteResult {
  deleted: boolean;
  archived: boolean;
  message: string;
}
