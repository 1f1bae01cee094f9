import type { Coupon, CouponReason, CouponSource, CouponStatus, CouponUse, DiscountType } from '@/lib/coupons/schemas';

export interface CouponRow {
  id: string;
  code: string;
  status: CouponStatus;
  source: CouponSource;
  batch_id: string | null;
  discount_type: DiscountType;
  discount_value: string | null;
  buy_quantity: number | null;
  get_quantity: number | null;
  usage_limit: number | null;
  per_customer_limit: number | null;
  usage_count: number;
  rejected_count: number;
  minimum_purchase: string | null;
  minimum_quantity: number | null;
  product_ids: string[];
  collections: string[];
  first_time_only: boolean;
  starts_at: Date;
  expires_at: Date | null;
  total_discount_amount: string;
  total_orders: number;
  description: string | null;
  internal_notes: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Every column a coupon query selects, in one place. */
export const COUPON_COLUMNS = [
  'id', 'code', 'status', 'source', 'batch_id', 'discount_type', 'discount_value', 'buy_quantity', 'get_quantity',
  'usage_limit', 'per_customer_limit', 'usage_count', 'rejected_count', 'minimum_purchase', 'minimum_quantity',
  'product_ids', 'collections', 'first_time_only', 'starts_at', 'expires_at', 'total_discount_amount', 'total_orders',
  'description', 'internal_notes', 'created_at', 'updated_at',
] as const;

const num = (v: string | null): number | null => (v === null ? null : Number(v));

export function toCoupon(r: CouponRow): Coupon {
  return {
    id: r.id,
    code: r.code,
    status: r.status,
    source: r.source,
    batchId: r.batch_id,
    discountType: r.discount_type,
    discountValue: num(r.discount_value),
    buyQuantity: r.buy_quantity,
    getQuantity: r.get_quantity,
    usageLimit: r.usage_limit,
    perCustomerLimit: r.per_customer_limit,
    usageCount: r.usage_count,
    rejectedCount: r.rejected_count,
    minimumPurchase: num(r.minimum_purchase),
    minimumQuantity: r.minimum_quantity,
    productIds: r.product_ids,
    collections: r.collections,
    firstTimeOnly: r.first_time_only,
    startsAt: r.starts_at.toISOString(),
    expiresAt: r.expires_at?.toISOString() ?? null,
    totalDiscountAmount: Number(r.total_discount_amount),
    totalOrders: r.total_orders,
    description: r.description,
    internalNotes: r.internal_notes,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export interface CouponUseRow {
  id: string;
  customer_email: string;
  shop_order_id: string;
  status: 'accepted' | 'rejected';
  reason: CouponReason | null;
  discount_amount: string;
  order_total: string;
  used_at: Date;
}

export function toUse(r: CouponUseRow): CouponUse {
  return {
    id: r.id,
    customerEmail: r.customer_email,
    shopOrderId: r.shop_order_id,
    status: r.status,
    reason: r.reason,
    discountAmount: Number(r.discount_amount),
    orderTotal: Number(r.order_total),
    usedAt: r.used_at.toISOString(),
  };
}
