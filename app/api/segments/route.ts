import { json, withMerchant } from '@/lib/api/handler';
import { segmentCreate, type SegmentList } from '@/lib/segments/schemas';
import { createSegment, listSegments } from '@/lib/segments/service';

// GET /api/segments -> {segments}
export const GET = withMerchant({}, async ({ tx, merchant }): Promise<SegmentList> => ({ segments: await listSegments(tx, merchant.userId) }));

// POST /api/segments {name, description?, criteria, isDynamic?} -> 201 segment, already evaluated.
export const POST = withMerchant({ body: segmentCreate }, async ({ tx, merchant, body }) =>
  json(await createSegment(tx, merchant.userId, body), 201));
