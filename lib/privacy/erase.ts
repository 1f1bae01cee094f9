import 'server-only';
import { asServer, type Tx } from '@/lib/db';
import { AppError } from '@/lib/errors';
import { erasureSchema, type ErasedBy, type Erasure } from '@/lib/privacy/schemas';

/**
 * Erase one shopper's personal data in every module, in the caller's transaction (see
 * migration shopper_erase): by email, or the shop's customer id, and the shop's orders to
 * redact. The activity log records who asked and what changed (counts, never a value).
 */
export async function eraseShopper(
  tx: Tx, userId: string, who: { email: string | null; shopCustomerId?: string | null; shopOrderIds?: string[] }, by: ErasedBy,
): Promise<Erasure> {
  const [row] = await asServer(tx, () => tx<{ e: unknown }[]>`
    select private.shopper_erase(${userId}, ${who.email}, ${who.shopCustomerId ?? null}, ${who.shopOrderIds ?? []}::text[]) as e`);
  const erasure = erasureSchema.parse(row?.e);
  await tx`select public.log_activity(${userId}, 'customer.erased', 'customer', ${erasure.customerId},
                                      ${tx.json({ by, modules: erasure.modules })})`;
  return erasure;
}

/** The merchant erases one of their customers, from the customer's page. */
export async function eraseCustomer(tx: Tx, userId: string, customerId: string): Promise<Erasure> {
  // Read under the merchant's row security: another merchant's customer is not found.
  const [customer] = await tx<{ email: string; erasedAt: string | null }[]>`
    select email, erased_at from public.customers where user_id = ${userId} and id = ${customerId}`;
  if (!customer) throw new AppError('not_found', 'Customer not found');
  if (customer.erasedAt) throw new AppError('conflict', 'This customer\'s data was already erased');
  return eraseShopper(tx, userId, { email: customer.email }, 'merchant');
}
