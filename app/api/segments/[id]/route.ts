import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { segmentPatch } from '@/lib/segments/schemas';
import { deleteSegment, getSegment, updateSegment } from '@/lib/segments/service';

const params = z.object({ id: z.uuid('Not a segment id') });

export const GET = withMerchant({ params }, ({ tx, merchant, params: { id } }) => getSegment(tx, merchant.userId, id));

export const PATCH = withMerchant({ params, body: segmentPatch }, ({ tx, merchant, params: { id }, body }) =>
  updateSegment(tx, merchant.userId, id, body));

export const DELETE = withMerchant({ params }, async ({ tx, merchant, params: { id } }) => {
  await deleteSegment(tx, merchant.userId, id);
  return undefined;
});
