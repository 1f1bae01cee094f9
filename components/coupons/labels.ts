import { DollarSign, Percent, Tag, Truck, type LucideIcon } from 'lucide-react';
import type { BadgeVariant } from '@/components/ui/badge';
import type { Coupon, CouponReason, CouponSource, CouponStatus, DiscountType } from '@/lib/coupons/schemas';
import { formatMoney, formatNumber } from '@/lib/format';

export const STATUS_LABELS: Record<CouponStatus, string> = {
  draft: 'Draft',
  active: 'Active',
  paused: 'Paused',
  expired: 'Expired',
  depleted: 'Used up',
  archived: 'Archived',
};

export const STATUS_VARIANTS: Record<CouponStatus, BadgeVariant> = {
  draft: 'info',
  active: 'success',
  paused: 'warning',
  expired: 'secondary',
  depleted: 'secondary',
  archived: 'secondary',
};

export const SOURCE_LABELS: Record<CouponSource, string> = {
  manual: 'Manual',
  bulk: 'Bulk batch',
  loyalty: 'Loyalty',
  referral: 'Referral',
  winback: 'Win-back',
  gift: 'Gift',
};

export const TYPE_LABELS: Record<DiscountType, string> = {
  percentage: 'Percentage',
  fixed_amount: 'Fixed amount',
  free_shipping: 'Free shipping',
  buy_x_get_y: 'Buy X get Y',
};

export const TYPE_HINTS: Record<DiscountType, string> = {
  percentage: 'e.g. 20% off the order',
  fixed_amount: 'e.g. $10 off the order',
  free_shipping: 'Shipping is free',
  buy_x_get_y: 'e.g. buy 2, get 1 free',
};

export const TYPE_ICONS: Record<DiscountType, LucideIcon> = {
  percentage: Percent,
  fixed_amount: DollarSign,
  free_shipping: Truck,
  buy_x_get_y: Tag,
};

/** Why a code was refused, in words a merchant reads in the uses table. */
export const REASON_LABELS: Record<CouponReason, string> = {
  not_found: 'Code not found',
  not_active: 'Coupon not active',
  paused: 'Coupon was paused',
  not_started: 'Before the start date',
  expired: 'After the end date',
  depleted: 'Over the usage limit',
  customer_limit: 'Over the per-customer limit',
  minimum_purchase: 'Below the minimum purchase',
  minimum_quantity: 'Below the minimum quantity',
  first_time_only: 'Not a first order',
  product_restriction: 'Products not eligible',
  collection_restriction: 'Collection not eligible',
};

/** Money without the cents when they are zero: "$10", "$12.50". */
export function shortMoney(amount: number): string {
  return formatMoney(amount).replace(/\.00$/, '');
}

type DiscountTerms = Pick<Coupon, 'discountType'> & Partial<Pick<Coupon, 'discountValue' | 'buyQuantity' | 'getQuantity'>>;

/** "20% off", "$10 off", "Free shipping", "Buy 2 get 1". */
export function describeDiscount(c: DiscountTerms): string {
  switch (c.discountType) {
    case 'percentage':
      return c.discountValue == null ? 'Percentage off' : `${formatNumber(c.discountValue)}% off`;
    case 'fixed_amount':
      return c.discountValue == null ? 'Amount off' : `${shortMoney(c.discountValue)} off`;
    case 'free_shipping':
      return 'Free shipping';
    case 'buy_x_get_y':
      return `Buy ${formatNumber(c.buyQuantity ?? 1)} get ${formatNumber(c.getQuantity ?? 1)}`;
  }
}

/** The conditions a customer must meet, as short phrases ("Min. $50", "First order only"). */
export function describeConditions(c: Coupon): string[] {
  const out: string[] = [];
  if (c.minimumPurchase != null && c.minimumPurchase > 0) out.push(`Min. ${shortMoney(c.minimumPurchase)}`);
  if (c.minimumQuantity != null && c.minimumQuantity > 1) out.push(`Min. ${formatNumber(c.minimumQuantity)} items`);
  if (c.perCustomerLimit != null) out.push(`${formatNumber(c.perCustomerLimit)} per customer`);
  if (c.firstTimeOnly) out.push('First order only');
  return out;
}

/** "3 / 10", or "3 / ∞" without a limit. */
export function formatUses(c: Pick<Coupon, 'usageCount' | 'usageLimit'>): string {
  return `${formatNumber(c.usageCount)} / ${c.usageLimit == null ? '∞' : formatNumber(c.usageLimit)}`;
}

/** Which of Pause / Resume a status allows; drafts are activated through resume. */
export function toggleAction(status: CouponStatus): 'pause' | 'resume' | 'activate' | null {
  if (status === 'active') return 'pause';
  if (status === 'paused') return 'resume';
  if (status === 'draft') return 'activate';
  return null;
}
