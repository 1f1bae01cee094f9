import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { adjustBody } from '@/lib/loyalty/schemas';
import { adjustPoints } from '@/lib/loyalty/service';

const params = z.object({ customerId: z.uuid('Not a customer id') });

// POST /api/loyalty/members/[customerId]/adjust {kind?: adjustment|bonus, points, reason} -> {seq, balance}
export const POST = withMerchant({ params, body: adjustBody }, ({ tx, merchant, params: { customerId }, body }) =>
  adjustPoints(tx, merchant.userId, customerId, body));
