import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { customerPatch } from '@/lib/customers/schemas';
import { patchCustomer } from '@/lib/customers/service';

const params = z.object({ id: z.uuid('Not a customer id') });

// PATCH /api/customers/:id {firstName?, lastName?, phone?, emailSubscribed?, smsSubscribed?}
export const PATCH = withMerchant({ params, body: customerPatch }, ({ tx, merchant, params: { id }, body }) =>
  patchCustomer(tx, merchant.userId, id, body));
