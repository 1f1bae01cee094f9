import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { exportCustomer } from '@/lib/privacy/export';

const params = z.object({ id: z.uuid('Not a customer id') });

// GET /api/customers/:id/export -> a JSON file of everything stored about the customer, by module and table.
export const GET = withMerchant({ params }, ({ tx, merchant, params: { id } }) => exportCustomer(tx, merchant.userId, id));
