import { withMerchant } from '@/lib/api/handler';
import { campaignParams } from '@/lib/winback/routes';
import { recipientListQuery } from '@/lib/winback/schemas';
import { listRecipients } from '@/lib/winback/service';

// GET ?status=&after=&limit= -> {recipients, next, counts}
export const GET = withMerchant({ params: campaignParams, query: recipientListQuery }, ({ tx, merchant, params: { id }, query }) =>
  listRecipients(tx, merchant.userId, id, query));
