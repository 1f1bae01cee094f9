import { z } from 'zod';
import { collectionSlug } from '@/lib/collections/schemas';
import { STAGES, type Customer } from '@/lib/customers/schemas';

const count = z.number().int().min(0).max(1_000_000);
const money = z.number().min(0).max(100_000_000);
const days = z.number().int().min(0).max(36_500);

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
    message: 'min_ltv must not be above max_ltv',
    path: ['min_ltv'],
  })
  .refine((c) => c.min_orders === undefined || c.max_orders === undefined || c.min_orders <= c.max_orders, {
    message: 'min_orders must not be above max_orders',
    path: ['min_orders'],
  })
  .refine(
    (c) =>
      c.min_days_since_purchase === undefined ||
      c.max_days_since_purchase === undefined ||
      c.min_days_since_purchase <= c.max_days_since_purchase,
    { message: 'min_days_since_purchase must not be above max_days_since_purchase', path: ['min_days_since_purchase'] },
  );
export type SegmentCriteria = z.infer<typeof segmentCriteria>;

export const segmentCreate = z.object({
  name: z.string().trim().min(1, 'Name is required').max(120),
  description: z.string().trim().max(500).nullable().optional(),
  criteria: segmentCriteria,
  isDynamic: z.boolean().default(true),
});
export type SegmentCreate = z.infer<typeof segmentCreate>;

export const segmentPatch = z
  .object({
    name: z.string().trim().min(1, 'Name is required').max(120).optional(),
    description: z.string().trim().max(500).nullable().optional(),
    criteria: segmentCriteria.optional(),
    isDynamic: z.boolean().optional(),
    isActive: z.boolean().optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'Send at least one field to change' });
export type SegmentPatch = z.infer<typeof segmentPatch>;

export interface Segment {
  id: string;
  name: string;
  description: string | null;
  criteria: SegmentCriteria;
  customerCount: number;
  isDynamic: boolean;
  isActive: boolean;
  lastEvaluatedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SegmentEvaluation {
  added: number;
  removed: number;
  total: number;
}

/** POST /api/segments/preview -> live member count for criteria being edited. */
export const segmentPreview = z.object({ criteria: segmentCriteria });

export const membersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  format: z.enum(['json', 'csv']).default('json'),
});

export interface SegmentMembers {
  members: (Pick<Customer, 'id' | 'email' | 'firstName' | 'lastName' | 'stage' | 'totalOrders' | 'lifetimeValue' | 'lastPurchaseAt'> & {
    addedAt: string;
  })[];
  total: number;
  limit: number;
  offset: number;
}
