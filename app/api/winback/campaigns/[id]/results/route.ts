import { withMerchant } from '@/lib/api/handler';
import { campaignParams } from '@/lib/winback/routes';
import { campaignResults } from '@/lib/winback/service';

// GET -> figures, treatment vs control recovery with the lift and its 95% interval, recoveries by day.
export const GET = withMerchant({ params: campaignParams }, ({ tx, merchant, params: { id } }) => campaignResults(tx, merchant.userId, id));
