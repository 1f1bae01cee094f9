import { withMerchant } from '@/lib/api/handler';
import { memberListQuery } from '@/lib/loyalty/schemas';
import { listMembers } from '@/lib/loyalty/service';

// GET /api/loyalty/members?tierId&search&sort=balance|earned|joined&order&limit&offset
export const GET = withMerchant({ query: memberListQuery }, ({ tx, merchant, query }) => listMembers(tx, merchant.userId, query));
