import { withMerchant } from '@/lib/api/handler';
import { listRequests } from '@/lib/privacy/requests';

// GET /api/privacy/requests -> the shop's data requests and erasures, newest first, and how many are open.
export const GET = withMerchant({}, ({ tx, merchant }) => listRequests(tx, merchant.userId));
