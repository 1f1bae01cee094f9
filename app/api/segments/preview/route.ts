import { withMerchant } from '@/lib/api/handler';
import { segmentPreview } from '@/lib/segments/schemas';
import { previewSegment } from '@/lib/segments/service';

// POST /api/segments/preview {criteria} -> {count}: the criteria builder's live member count.
export const POST = withMerchant({ body: segmentPreview }, async ({ tx, merchant, body }) => ({
  count: await previewSegment(tx, merchant.userId, body.criteria),
}));
