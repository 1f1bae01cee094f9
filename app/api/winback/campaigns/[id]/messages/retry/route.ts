import { withMerchant } from '@/lib/api/handler';
import { campaignParams } from '@/lib/winback/routes';
import { retryRequest } from '@/lib/winback/schemas';
import { retryMessages } from '@/lib/winback/service';

// POST {ids?} -> {retried}: failed messages go again now (all of the campaign's when no ids are given).
export const POST = withMerchant({ params: campaignParams, body: retryRequest }, ({ tx, merchant, params: { id }, body }) =>
  retryMessages(tx, merchant.userId, id, body.ids));
