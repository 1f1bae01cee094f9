import { z } from 'zod';
import { collectionSlug } from '@/lib/collections/schemas';

/** Lifecycle stages, in funnel order (seed 17.1). */
export const STAGES = ['visitor', 'lead', 'prospect', 'customer', 'repeat', 'vip', 'at_risk', 'churned'] as const;
export type Stage = (typeof STAGES)[number];

export const TOUCHPOINT_TYPES = [
  'page_view', 'email_open', 'email_click', 'pin_save', 'pin_click', 'ad_click', 'quiz_start', 'quiz_complete',
  'lead_capture', 'cart_add', 'checkout_start', 'checkout_abandon', 'purchase', 'review', 'support_ticket',
] as const;
export type TouchpointType = (typeof TOUCHPOINT_TYPES)[number];

export const CHANNELS = ['organic', 'pinterest', 'email', 'ads', 'direct', 'referral', 'social'] as const;
export type Channel = (typeof CHANNELS)[number];

export const STAGE_LABELS: Record<Stage, string> = {
  visitor: 'Visitor', lead: 'Lead', prospect: 'Prospect', customer: 'Customer',
  repeat: 'Repeat', vip: 'VIP', at_risk: 'At risk', churned: 'Churned',
};

/** Affinity points per collection slug (purchase 10, cart add 3, pin save 2, pin click 1, other 0.5). */
export type CollectionScores = Record<string, number>;

/** A customer as the API returns it (money as numbers in the shop's currency). */
export interface Customer {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  shopifyCustomerId: string | null;
  stage: Stage;
  stageChangedAt: string | null;
  becameLeadAt: string | null;
  becameCustomerAt: string | null;
  becameRepeatAt: string | null;
  becameVipAt: string | null;
  becameAtRiskAt: string | null;
  becameChurnedAt: string | null;
  totalOrders: number;
  lifetimeValue: number;
  averageOrderValue: number | null;
  /** Slug of the collection with the highest score (the merchant's collections name it). */
  primaryCollection: string | null;
  collectionScores: CollectionScores;
  lastEmailOpenAt: string | null;
  lastEmailClickAt: string | null;
  lastSiteVisitAt: string | null;
  lastPurchaseAt: string | null;
  lastEngagedAt: string | null;
  emailSubscribed: boolean;
  smsSubscribed: boolean;
  createdAt: string;
}

export interface Touchpoint {
  id: string;
  type: TouchpointType;
  channel: Channel;
  referenceId: string | null;
  referenceType: string | null;
  value: number | null;
  collection: string | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  metadata: Record<string, unknown>;
  occurredAt: string;
}

/** One logged stage change, with the rule that fired and why, so the UI can explain it. */
export interface StageTransition {
  id: string;
  fromStage: Stage;
  toStage: Stage;
  triggerType: 'purchase' | 'refund' | 'cancellation' | 'engagement' | 'time_based' | 'manual';
  triggerReferenceId: string | null;
  rule: string;
  reason: string;
  transitionedAt: string;
}

export const CUSTOMER_SORTS = ['ltv', 'recent_purchase', 'orders', 'created', 'email'] as const;

/** GET /api/customers query. */
export const customerListQuery = z.object({
  stage: z.enum(STAGES).optional(),
  collection: collectionSlug.optional(),
  search: z.string().trim().max(200).optional(),
  sort: z.enum(CUSTOMER_SORTS).default('ltv'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type CustomerListQuery = z.infer<typeof customerListQuery>;

export interface CustomerList {
  customers: Customer[];
  total: number;
  limit: number;
  offset: number;
}

/** GET /api/customers/[id]/journey query: touchpoints newest first, keyset-paginated. */
export const journeyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.string().max(200).optional(),
});

export interface Journey {
  customer: Customer;
  touchpoints: Touchpoint[];
  /** Pass as `before` to load older touchpoints; null at the end. */
  nextCursor: string | null;
  transitions: StageTransition[];
}

/** PATCH /api/customers/[id]: names, phone and subscription flags only. */
export const customerPatch = z
  .object({
    firstName: z.string().trim().max(100).nullable().optional(),
    lastName: z.string().trim().max(100).nullable().optional(),
    phone: z.string().trim().max(40).nullable().optional(),
    emailSubscribed: z.boolean().optional(),
    smsSubscribed: z.boolean().optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'Send at least one field to change' });
export type CustomerPatch = z.infer<typeof customerPatch>;

/** GET /api/customers/analytics (seed shape; the funnel counts customers who reached each step). */
export interface JourneyAnalytics {
  totalCustomers: number;
  stageDistribution: Record<Stage, number>;
  /** Customers per primary collection slug, every one of the merchant's collections included. */
  collectionDistribution: Record<string, number>;
  conversionFunnel: { visitors: number; leads: number; customers: number; repeat: number };
  atRiskCount: number;
  churnedCount: number;
  avgLifetimeValue: number;
  totalRevenue: number;
  /** Share of buyers with 2+ orders, 0..1. */
  repeatRate: number;
}
