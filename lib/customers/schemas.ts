import { z } from 'zod';
import { collectionSlug } from '@/lib/collections/schemas';
import { keysetPageFields, oneStart, pageRequestFields, text } from '@/lib/fields';

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
export const collectionScores = z.record(z.string(), z.number());
export type CollectionScores = z.infer<typeof collectionScores>;

const instant = z.iso.datetime({ offset: true });
const money = z.number();

/**
 * A customer as the API returns it (money as numbers in the shop's currency). This is the one
 * definition: the SELECT lists its fields, rows come back in this shape, and the type is inferred.
 */
export const customerSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  phone: z.string().nullable(),
  shopifyCustomerId: z.string().nullable(),
  stage: z.enum(STAGES),
  stageChangedAt: instant.nullable(),
  becameLeadAt: instant.nullable(),
  becameCustomerAt: instant.nullable(),
  becameRepeatAt: instant.nullable(),
  becameVipAt: instant.nullable(),
  becameAtRiskAt: instant.nullable(),
  becameChurnedAt: instant.nullable(),
  totalOrders: z.number().int(),
  lifetimeValue: money,
  averageOrderValue: money.nullable(),
  /** Slug of the collection with the highest score (the merchant's collections name it). */
  primaryCollection: z.string().nullable(),
  collectionScores,
  lastEmailOpenAt: instant.nullable(),
  lastEmailClickAt: instant.nullable(),
  lastSiteVisitAt: instant.nullable(),
  lastPurchaseAt: instant.nullable(),
  lastEngagedAt: instant.nullable(),
  emailSubscribed: z.boolean(),
  smsSubscribed: z.boolean(),
  createdAt: instant,
  /** When their personal data was erased at their request (the record stays, for the figures); null if never. */
  erasedAt: instant.nullable(),
});
export type Customer = z.infer<typeof customerSchema>;

export const touchpointSchema = z.object({
  id: z.uuid(),
  type: z.enum(TOUCHPOINT_TYPES),
  channel: z.enum(CHANNELS),
  referenceId: z.string().nullable(),
  referenceType: z.string().nullable(),
  value: money.nullable(),
  collection: z.string().nullable(),
  utmSource: z.string().nullable(),
  utmMedium: z.string().nullable(),
  utmCampaign: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  occurredAt: instant,
});
export type Touchpoint = z.infer<typeof touchpointSchema>;

export const TRIGGER_TYPES = ['purchase', 'refund', 'cancellation', 'engagement', 'time_based', 'manual'] as const;

/** One logged stage change, with the rule that fired and why, so the UI can explain it. */
export const stageTransitionSchema = z.object({
  id: z.uuid(),
  fromStage: z.enum(STAGES),
  toStage: z.enum(STAGES),
  triggerType: z.enum(TRIGGER_TYPES),
  triggerReferenceId: z.string().nullable(),
  rule: z.string(),
  reason: z.string(),
  transitionedAt: instant,
});
export type StageTransition = z.infer<typeof stageTransitionSchema>;

export const CUSTOMER_SORTS = ['ltv', 'recent_purchase', 'orders', 'created', 'email'] as const;

/** GET /api/customers query. */
export const customerListQuery = z.object({
  stage: z.enum(STAGES).optional(),
  collection: collectionSlug.optional(),
  search: text({ max: 200 }).optional(),
  sort: z.enum(CUSTOMER_SORTS).default('ltv'),
  order: z.enum(['asc', 'desc']).default('desc'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** The page after or before a row of the list (the answer's `next` and `prev`), or the last page. */
  ...pageRequestFields,
  /** `csv`: the whole filtered list as a download (streamed), paging ignored. */
  format: z.enum(['json', 'csv']).default('json'),
}).superRefine(oneStart);
export type CustomerListQuery = z.infer<typeof customerListQuery>;

export const customerListSchema = z.object({
  customers: z.array(customerSchema),
  ...keysetPageFields,
});
export type CustomerList = z.infer<typeof customerListSchema>;

/** GET /api/customers/[id]/journey query: touchpoints newest first, keyset-paginated. */
export const journeyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: text({ max: 200 }).optional(),
});

export const journeySchema = z.object({
  customer: customerSchema,
  touchpoints: z.array(touchpointSchema),
  /** Pass as `before` to load older touchpoints; null at the end. */
  nextCursor: z.string().nullable(),
  transitions: z.array(stageTransitionSchema),
});
export type Journey = z.infer<typeof journeySchema>;

/** PATCH /api/customers/[id]: names, phone and subscription flags only. */
export const customerPatch = z
  .object({
    firstName: text({ max: 100 }).nullable().optional(),
    lastName: text({ max: 100 }).nullable().optional(),
    phone: text({ max: 40 }).nullable().optional(),
    emailSubscribed: z.boolean().optional(),
    smsSubscribed: z.boolean().optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'Send at least one field to change' });
export type CustomerPatch = z.infer<typeof customerPatch>;

/** GET /api/customers/analytics (seed shape; the funnel counts customers who reached each step). */
export const journeyAnalyticsSchema = z.object({
  totalCustomers: z.number().int(),
  stageDistribution: z.record(z.enum(STAGES), z.number().int()),
  /** Customers per primary collection slug, every one of the merchant's collections included. */
  collectionDistribution: z.record(z.string(), z.number().int()),
  conversionFunnel: z.object({ visitors: z.number().int(), leads: z.number().int(), customers: z.number().int(), repeat: z.number().int() }),
  atRiskCount: z.number().int(),
  churnedCount: z.number().int(),
  /** Revenue over every customer, buyers or not (the seed's figure). */
  avgLifetimeValue: money,
  /** Revenue over customers with at least one order: what a buyer is worth. */
  avgLifetimeValuePerBuyer: money,
  totalRevenue: money,
  /** Share of buyers with 2+ orders, 0..1. */
  repeatRate: z.number().min(0).max(1),
});
export type JourneyAnalytics = z.infer<typeof journeyAnalyticsSchema>;
