import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { csvResponse } from '@/lib/csv';
import { batchCsv, batchFileName } from '@/lib/coupons/service';

const params = z.object({ id: z.uuid('Not a batch id') });

// GET /api/coupons/batches/:id/codes -> CSV of every code in the batch, named after the batch.
export const GET = withMerchant({ params }, async ({ tx, merchant, params: { id } }) =>
  csvResponse(await batchCsv(tx, merchant.userId, id), await batchFileName(tx, merchant.userId, id)));
