import { withMerchant } from '@/lib/api/handler';
import { campaignParams } from '@/lib/winback/routes';
import { listMessages } from '@/lib/winback/service';

// GET -> {messages, failed, held}: the campaign's messages that need the merchant (the dead-letter list).
export const GET = withMerchant({ params: campaignParams }, ({ tx, merchant, params: { id } }) => listMessages(tx, merchant.userId, id));
