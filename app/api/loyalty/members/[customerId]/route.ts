import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { ledgerQuery } from '@/lib/loyalty/schemas';
import { getMember } from '@/lib/loyalty/service';

const params = z.object({ customerId: z.uuid('Not a customer id') });

// GET /api/loyalty/members/[customerId]?limit&offset -> balance, tier, progress, a page of the ledger, redemptions
export const GET = withMerchant({ params, query: ledgerQuery }, ({ tx, merchant, params: { customerId }, query }) =>
  getMember(tx, merchant.userId, customerId, query));
