import { withMerchant } from '@/lib/api/handler';
import { checkKlaviyo } from '@/lib/settings/integrations';

// POST /api/settings/integrations/klaviyo/check -> {checkedAt, ok, detail}: does the saved key work?
export const POST = withMerchant({}, ({ tx, merchant }) => checkKlaviyo(tx, merchant.userId));
