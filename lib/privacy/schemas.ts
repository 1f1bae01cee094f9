import { z } from 'zod';

/** POST /api/customers/:id/erase: the merchant confirms, having been told what goes. */
export const eraseRequest = z.strictObject({
  confirm: z.literal(true, { message: 'Confirm the erasure (confirm: true)' }),
});

/**
 * What an erasure did: rows changed, by module and table (0 where a table held nothing of
 * theirs). Who asked is recorded in the activity log.
 */
export const erasureSchema = z.object({
  customerId: z.uuid().nullable(),
  erasedAt: z.string(),
  modules: z.record(z.string(), z.record(z.string(), z.number().int())),
});
export type Erasure = z.infer<typeof erasureSchema>;

/** Who asked for an erasure: the merchant from the customer's page, or the shop (customers/redact). */
export type ErasedBy = 'merchant' | 'shopify';

/** A compliance request from the shop, as the merchant sees it (never the shopper in clear). */
export const REQUEST_TOPICS = ['customers/data_request', 'customers/redact'] as const;
export const REQUEST_STATUSES = ['open', 'handled', 'done'] as const;
export const shopperRequestSchema = z.object({
  id: z.uuid(),
  topic: z.enum(REQUEST_TOPICS),
  status: z.enum(REQUEST_STATUSES),
  /** Our customer at the time, if there was one. */
  customerId: z.uuid().nullable(),
  /** How many orders the shop named. */
  ordersNamed: z.number().int(),
  /** What an erasure changed, by module and table. */
  result: z.record(z.string(), z.record(z.string(), z.number().int())).nullable(),
  receivedAt: z.string(),
  handledAt: z.string().nullable(),
});
export type ShopperRequest = z.infer<typeof shopperRequestSchema>;
export const shopperRequestListSchema = z.object({ requests: z.array(shopperRequestSchema), open: z.number().int() });
export type ShopperRequestList = z.infer<typeof shopperRequestListSchema>;

/** GET /api/privacy/requests/:id/export: the whole export as JSON, or one table of it as CSV. */
export const requestExportQuery = z.strictObject({
  format: z.enum(['json', 'csv']).default('json'),
  table: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'Not a table name').optional(),
}).refine((q) => q.format === 'json' || q.table !== undefined, { message: 'A CSV is of one table: give its name', path: ['table'] });

/**
 * The tables a shopper's export holds, in the order a merchant reads them (each can be
 * downloaded as a CSV); tests/privacy/export.test.ts holds it to what the modules export.
 */
export const EXPORT_TABLES = [
  'customers', 'orders', 'order_lines', 'order_discount_codes', 'order_refunds', 'touchpoints', 'stage_transitions',
  'segment_memberships', 'leads', 'activity_log', 'coupon_uses', 'loyalty_members', 'points_transactions', 'points_lots',
  'reward_redemptions', 'loyalty_tier_changes', 'referrals', 'winback_recipients', 'klaviyo_messages', 'gifts',
] as const;
