import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { journeyQuery } from '@/lib/customers/schemas';
import { getJourney } from '@/lib/customers/service';

const params = z.object({ id: z.uuid('Not a customer id') });

// GET /api/customers/:id/journey?limit&before -> {customer, touchpoints, nextCursor, transitions}
export const GET = withMerchant({ params, query: journeyQuery }, ({ tx, merchant, params: { id }, query }) =>
  getJourney(tx, merchant.userId, id, query));
