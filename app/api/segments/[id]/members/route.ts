import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { membersQuery } from '@/lib/segments/schemas';
import { listMembers, membersCsvResponse } from '@/lib/segments/service';

const params = z.object({ id: z.uuid('Not a segment id') });

// GET /api/segments/:id/members?limit&offset -> page of members; ?format=csv -> every member as CSV, streamed.
export const GET = withMerchant({ params, query: membersQuery }, async ({ tx, merchant, params: { id }, query }) => {
  if (query.format === 'csv') return membersCsvResponse(tx, merchant.userId, id, `segment-${id}.csv`);
  return listMembers(tx, merchant.userId, id, query);
});
