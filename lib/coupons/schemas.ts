import { z } from 'zod';
import { emailSchema } from '@/lib/auth/schemas';
import { collectionSlug } from '@/lib/collections/schemas';
import { decimal, pageFields, text, wholeNumber } from '@/lib/fields';

export const COUPON_STATUSES = ['draft', 'active', 'paused', 'expired', 'depleted', 'archived'] as const;
export type CouponStatus = (typeof COUPON_STATUSES)[number];

export const DISCOUNT_TYPES = ['percentage', 'fixed_amount', 'free_shipping', 'buy_x_get_y'] as const;
export type DiscountType = (typeof DISCOUNT_TYPES)[number];

/** Where a coupon came from; loyalty, referral and win-back issue codes through this module. */
export const COUPON_SOURCES = ['manual', 'bulk', 'loyalty', 'referral', 'winback', 'gift'] as const;
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

const money = decimal(0, 10_000_000, { cents: true });
const count = wholeNumber(1, 100_000_000);
const productId = text({ max: 64, required: 'A product id cannot be empty' });
const date = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });

/** Fields shared by create, bulk create and edit; checked together by `refineCoupon`. The coupon form reads them too. */
export const couponFields = {
  discountType: z.enum(DISCOUNT_TYPES),
  discountValue: decimal(0, 10_000_000, { above: true, cents: true }).nullable().optional(),
  buyQuantity: wholeNumber(1, 1000).nullable().optional(),
  getQuantity: wholeNumber(1, 1000).nullable().optional(),
  usageLimit: count.nullable().optional(),
  perCustomerLimit: count.nullable().optional(),
  minimumPurchase: money.nullable().optional(),
  minimumQuantity: wholeNumber(1, 100_000).nullable().optional(),
  productIds: z.array(productId).max(500, 'At most 500 products').optional(),
  collections: z.array(collectionSlug).max(100).optional(),
  firstTimeOnly: z.boolean().optional(),
  startsAt: date.optional(),
  expiresAt: date.nullable().optional(),
  description: text({ max: 500 }).nullable().optional(),
  internalNotes: text({ max: 2000 }).nullable().optional(),
};


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

type CouponFields = { [K in keyof typeof couponFields]: z.infer<(typeof couponFields)[K]> };
/** The discount terms the cross-field rules look at (a create body, or a stored coupon merged with an edit). */
export type CouponTerms = Partial<Pick<CouponFields, 'discountType' | 'discountValue' | 'buyQuantity' | 'getQuantity' | 'startsAt' | 'expiresAt'>>;

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
    count: wholeNumber(1, 10_000),
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
  search: text({ max: 40 }).optional(),
  /**
   * The codes of one batch. Without it (and without a search, which finds any code) the list
   * leaves batch codes out: a batch is one row of its own (GET /api/coupons/batches).
   */
  batchId: z.uuid('Not a batch id').optional(),
  stats: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  limit: z.coerce.number().int().min(1).max(200).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

/** POST /api/coupons/validate: what a checkout asks before an order exists. */
export const couponValidate = z.object({
  code: text({ max: 40, required: 'Enter a code' }).toUpperCase(),
  email: emailSchema,
  cartTotal: money,
  quantity: wholeNumber(1, 100_000).default(1),
  productIds: z.array(productId).max(500, 'At most 500 products').default([]),
});
export type CouponValidate = z.infer<typeof couponValidate>;

export const couponValidationSchema = z.object({
  valid: z.boolean(),
  reason: z.enum(COUPON_REASONS).optional(),
  message: z.string().optional(),
  discountAmount: z.number().optional(),
  freeShipping: z.boolean().optional(),
});
export type CouponValidation = z.infer<typeof couponValidationSchema>;

const instant = z.iso.datetime({ offset: true });

/**
 * A coupon as the API returns it. The one definition: the SELECT lists its fields, rows come
 * back in this shape (numeric as numbers, times as ISO strings) and the type is inferred.
 */
export const couponSchema = z.object({
  id: z.uuid(),
  code: z.string(),
  status: z.enum(COUPON_STATUSES),
  source: z.enum(COUPON_SOURCES),
  batchId: z.uuid().nullable(),
  discountType: z.enum(DISCOUNT_TYPES),
  discountValue: z.number().nullable(),
  buyQuantity: z.number().int().nullable(),
  getQuantity: z.number().int().nullable(),
  usageLimit: z.number().int().nullable(),
  perCustomerLimit: z.number().int().nullable(),
  usageCount: z.number().int(),
  rejectedCount: z.number().int(),
  minimumPurchase: z.number().nullable(),
  minimumQuantity: z.number().int().nullable(),
  productIds: z.array(z.string()),
  collections: z.array(z.string()),
  firstTimeOnly: z.boolean(),
  startsAt: instant,
  expiresAt: instant.nullable(),
  totalDiscountAmount: z.number(),
  totalOrders: z.number().int(),
  description: z.string().nullable(),
  internalNotes: z.string().nullable(),
  createdAt: instant,
  updatedAt: instant,
});
export type Coupon = z.infer<typeof couponSchema>;

export const couponStatsSchema = z.object({
  total: z.number().int(),
  active: z.number().int(),
  totalUses: z.number().int(),
  totalDiscount: z.number(),
  rejectedUses: z.number().int(),
});
export type CouponStats = z.infer<typeof couponStatsSchema>;

export const couponListSchema = z.object({
  coupons: z.array(couponSchema),
  total: z.number().int(),
  stats: couponStatsSchema.optional(),
});
export type CouponList = z.infer<typeof couponListSchema>;

/** A use's outcome: accepted, refused (with its reason), or cancelled with its order. */
export const USE_STATUSES = ['accepted', 'rejected', 'cancelled'] as const;

/** One order's use of a coupon. `discountAmount` is what the shop reported (or computed); 0 if the shop sent none. */
export const couponUseSchema = z.object({
  id: z.uuid(),
  customerEmail: z.string(),
  shopOrderId: z.string(),
  status: z.enum(USE_STATUSES),
  reason: z.enum(COUPON_REASONS).nullable(),
  discountAmount: z.number(),
  orderTotal: z.number(),
  usedAt: instant,
});
export type CouponUse = z.infer<typeof couponUseSchema>;

export const couponUsesSchema = z.object({
  uses: z.array(couponUseSchema),
  ...pageFields,
});
export type CouponUses = z.infer<typeof couponUsesSchema>;

export const usesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  format: z.enum(['json', 'csv']).default('json'),
});

export const couponBatchSchema = z.object({
  batchId: z.uuid(),
  count: z.number().int(),
  /** CSV of every code in the batch. */
  csvUrl: z.string(),
});
export type CouponBatch = z.infer<typeof couponBatchSchema>;

/** A batch of single-use codes as one row: what it gives, and how its codes have been used. */
export const couponBatchSummarySchema = z.object({
  id: z.uuid(),
  prefix: z.string(),
  createdAt: instant,
  codes: z.number().int(),
  usedCodes: z.number().int(),
  uses: z.number().int(),
  rejectedUses: z.number().int(),
  totalDiscountAmount: z.number(),
  /** The terms its codes share (every code of a batch is made with the same). */
  terms: couponSchema.pick({
    discountType: true, discountValue: true, buyQuantity: true, getQuantity: true, minimumPurchase: true, expiresAt: true,
  }).nullable(),
});
export type CouponBatchSummary = z.infer<typeof couponBatchSummarySchema>;

export const couponBatchListSchema = z.object({ batches: z.array(couponBatchSummarySchema), ...pageFields });
export type CouponBatchList = z.infer<typeof couponBatchListSchema>;

export const batchListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).default(0),
});

/** DELETE answers what happened: removed, or archived because it has uses. */
export const couponDeleteResultSchema = z.object({ deleted: z.boolean(), archived: z.boolean(), message: z.string() });
export type CouponDeleteResult = z.infer<typeof couponDeleteResultSchema>;
