/**
 * The domain types in one place for pages and hooks. Each is defined once, next to the zod
 * schema it comes from in lib/<module>/schemas.ts; nothing here is written twice.
 */
export type {
  Channel, CollectionScores, Customer, CustomerList, CustomerListQuery, CustomerPatch, Journey,
  JourneyAnalytics, Stage, StageTransition, Touchpoint, TouchpointType,
} from '@/lib/customers/schemas';
export type {
  Segment, SegmentCreate, SegmentCriteria, SegmentEvaluation, SegmentList, SegmentMember, SegmentMembers, SegmentPatch,
} from '@/lib/segments/schemas';
export type {
  Coupon, CouponBatch, CouponCreate, CouponDeleteResult, CouponList, CouponPatch, CouponReason, CouponStats,
  CouponStatus, CouponUse, CouponUses, CouponValidation, DiscountType,
} from '@/lib/coupons/schemas';
export type { Collection, CollectionList, CollectionMappings } from '@/lib/collections/schemas';
export type { IntegrationsUpdate, IntegrationsView, SecretStatus } from '@/lib/settings/schemas';
export type { Merchant } from '@/lib/auth/types';
