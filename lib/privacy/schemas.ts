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
