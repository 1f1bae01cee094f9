import { withMerchant } from '@/lib/api/handler';
import { batchListQuery } from '@/lib/coupons/schemas';
import { listBatches } from '@/lib/coupons/service';

// GET /api/coupons/batches?limit&offset -> each batch of codes as one row, newest first.
export const GET = withMerchant({ query: batchListQuery }, ({ tx, merchant, query }) => listBatches(tx, merchant.userId, query));
