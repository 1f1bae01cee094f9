import 'server-only';
import { downloadResponse } from '@/lib/csv';
import { asServer, type Tx } from '@/lib/db';
import { AppError } from '@/lib/errors';

/**
 * Everything stored about one of the merchant's customers, from every module (the modules'
 * registered exports, see migration shopper_data), as a JSON file to hand to the shopper. The
 * activity log records that the merchant took it.
 */
export async function exportCustomer(tx: Tx, userId: string, customerId: string): Promise<Response> {
  // Read under the merchant's row security: another merchant's customer is not found.
  const [customer] = await tx<{ email: string }[]>`select email from public.customers where user_id = ${userId} and id = ${customerId}`;
  if (!customer) throw new AppError('not_found', 'Customer not found');
  const [row] = await asServer(tx, () => tx<{ e: unknown }[]>`select private.shopper_export(${userId}, ${customer.email}) as e`);
  await tx`select public.log_activity(${userId}, 'customer.exported', 'customer', ${customerId}, '{}'::jsonb)`;
  return downloadResponse(JSON.stringify(row?.e ?? null, null, 2), 'application/json; charset=utf-8', `customer-${customerId}-data.json`);
}
