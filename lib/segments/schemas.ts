import { z } from 'zod';
import { collectionSlug } from '@/lib/collections/schemas';
import { STAGES, customerSchema } from '@/lib/customers/schemas';
import { decimal, keysetPageFields, oneStart, pageRequestFields, text, wholeNumber } from '@/lib/fields';

const count = wholeNumber(0, 1_000_000);
const money = decimal(0, 100_000_000);
const days = wholeNumber(0, 36_500);
const ABOVE_MAX = 'The minimum must not be above the maximum';

/** Segment criteria (seed's JSON shape); every field optional, all given fields must match. */
export const segmentCriteria = z
  .object({
    stages: z.array(z.enum(STAGES)).max(STAGES.length).optional(),
    collections: z.array(collectionSlug).max(100).optional(),
    min_ltv: money.optional(),
    max_ltv: money.optional(),
    min_orders: count.optional(),
    max_orders: count.optional(),
    min_days_since_purchase: days.optional(),
    max_days_since_purchase: days.optional(),
    email_subscribed: z.boolean().optional(),
  })
  .strict()
  .refine((c) => c.min_ltv === undefined || c.max_ltv === undefined || c.min_ltv <= c.max_ltv, {
    message: ABOVE_MAX,
    path: ['min_ltv'],
  })
  .refine((c) => c.min_orders === undefined || c.max_orders === undefined || c.min_orders <= c.max_orders, {
    message: ABOVE_MAX,
    path: ['min_orders'],
  })
  .refine(
    (c) =>
      c.min_days_since_purchase === undefined ||
      c.max_days_since_purchase === undefined ||
      c.min_days_since_purchase <= c.max_days_since_purchase,
    { message: ABOVE_MAX, path: ['min_days_since_purchase'] },
  );
export type SegmentCriteria = z.infer<typeof segmentCriteria>;

export const segmentName = text({ max: 120, required: 'Name is required' });
export const segmentDescription = text({ max: 500 });

export const segmentCreate = z.object({
  name: segmentName,
  description: segmentDescription.nullable().optional(),
  criteria: segmentCriteria,
  isDynamic: z.boolean().default(true),
});
export type SegmentCreate = z.infer<typeof segmentCreate>;

export const segmentPatch = z
  .object({
    name: segmentName.optional(),
    description: segmentDescription.nullable().optional(),
    criteria: segmentCriteria.optional(),
    isDynamic: z.boolean().optional(),
    isActive: z.boolean().optional(),
    /** Mirror the members to a Klaviyo list (created on the first sync). */
    syncEnabled: z.boolean().optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'Send at least one field to change' });
export type SegmentPatch = z.infer<typeof segmentPatch>;

const instant = z.iso.datetime({ offset: true });

/** A segment as the API returns it; the SELECT lists these fields and rows come back in this shape. */
export const segmentSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  criteria: segmentCriteria,
  customerCount: z.number().int(),
  isDynamic: z.boolean(),
  isActive: z.boolean(),
  /** When the members were last complete as of: the end of a build, or of a days-since-purchase check. */
  lastEvaluatedAt: instant.nullable(),
  /** A build from scratch (new or edited criteria) is under way; the old members stay until it ends. */
  building: z.boolean(),
  /** How far the build has come, 0 to 1 (customers are built in id order; ids are random). */
  buildProgress: z.number().min(0).max(1).nullable(),
  /** Why its members stopped following change (a step failed); saving its criteria again retries. */
  followError: z.string().nullable(),
  syncEnabled: z.boolean(),
  /** The Klaviyo list the members are mirrored to, once created. */
  klaviyoSegmentId: z.string().nullable(),
  lastSyncedAt: instant.nullable(),
  /** Members on the list as of the last sync that left nothing waiting. */
  klaviyoSyncedCount: z.number().int().nullable(),
  klaviyoSyncError: z.string().nullable(),
  /** This sync round: the membership changes Klaviyo has taken, and those still waiting (0: up to date). */
  klaviyoSyncDone: z.number().int(),
  klaviyoSyncLeft: z.number().int(),
  createdAt: instant,
  updatedAt: instant,
});
export type Segment = z.infer<typeof segmentSchema>;

export const segmentListSchema = z.object({ segments: z.array(segmentSchema) });
export type SegmentList = z.infer<typeof segmentListSchema>;

export const segmentEvaluationSchema = z.object({ added: z.number().int(), removed: z.number().int(), total: z.number().int() });
export type SegmentEvaluation = z.infer<typeof segmentEvaluationSchema>;

/** POST /api/segments/preview -> live member count for criteria being edited. */
export const segmentPreview = z.object({ criteria: segmentCriteria });

export const membersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  /** The page after or before a member (the answer's `next` and `prev`), or the last page. */
  ...pageRequestFields,
  format: z.enum(['json', 'csv']).default('json'),
}).superRefine(oneStart);

/** A member: the customer's list fields and when they joined. */
export const segmentMemberSchema = customerSchema
  .pick({ id: true, email: true, firstName: true, lastName: true, stage: true, totalOrders: true, lifetimeValue: true, lastPurchaseAt: true })
  .extend({ addedAt: instant });
export type SegmentMember = z.infer<typeof segmentMemberSchema>;

export const segmentMembersSchema = z.object({
  members: z.array(segmentMemberSchema),
  ...keysetPageFields,
});
export type SegmentMembers = z.infer<typeof segmentMembersSchema>;
