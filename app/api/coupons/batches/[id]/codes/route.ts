import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { batchCsv } from '@/lib/coupons/service';

const params = z.object({ id: z.uuid('Not a batch id') });

// GET /api/coupons/batches/:id/codes -> CSV of every code in the batch.
export const GET = withMerchant({ params }, async ({ tx, merchant, params: { id } }) =>
  new Response(await batchCsv(tx, merchant.userId, id), {
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="coupons-${id}.csv"`, 'cache-control': 'no-store' },
  }));
