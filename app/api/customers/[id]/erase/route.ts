import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { eraseCustomer } from '@/lib/privacy/erase';
import { eraseRequest } from '@/lib/privacy/schemas';

const params = z.object({ id: z.uuid('Not a customer id') });

// POST /api/customers/:id/erase {confirm: true} -> what was erased, by module and table.
export const POST = withMerchant({ params, body: eraseRequest }, ({ tx, merchant, params: { id } }) =>
  eraseCustomer(tx, merchant.userId, id));
