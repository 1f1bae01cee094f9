import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { markHandled } from '@/lib/privacy/requests';

const params = z.object({ id: z.uuid('Not a request id') });

// POST /api/privacy/requests/:id/handled -> the data request is answered: closed, and who it was about let go.
export const POST = withMerchant({ params }, ({ tx, merchant, params: { id } }) => markHandled(tx, merchant.userId, id));
