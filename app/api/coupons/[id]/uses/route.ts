import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { csvResponse } from '@/lib/csv';
import { usesQuery } from '@/lib/coupons/schemas';
import { listUses, usesCsv } from '@/lib/coupons/service';

const params = z.object({ id: z.uuid('Not a coupon id') });

// GET /api/coupons/:id/uses?limit&offset -> page of uses; ?format=csv -> every use.
export const GET = withMerchant({ params, query: usesQuery }, async ({ tx, merchant, params: { id }, query }) => {
  if (query.format === 'csv') {
    return csvResponse(await usesCsv(tx, merchant.userId, id), `coupon-${id}-uses.csv`);
  }
  return listUses(tx, merchant.userId, id, query);
});
