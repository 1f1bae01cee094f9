import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { evaluateSegment } from '@/lib/segments/service';

const params = z.object({ id: z.uuid('Not a segment id') });

// POST /api/segments/:id/evaluate -> {added, removed, total}
export const POST = withMerchant({ params }, ({ tx, merchant, params: { id } }) => evaluateSegment(tx, merchant.userId, id));
