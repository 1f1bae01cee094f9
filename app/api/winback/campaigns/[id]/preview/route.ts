import { withMerchant } from '@/lib/api/handler';
import { campaignParams } from '@/lib/winback/routes';
import { previewCampaign } from '@/lib/winback/service';

// GET -> {eligible, treatment, control, dueNow, later}: who activation would enrol now.
export const GET = withMerchant({ params: campaignParams }, ({ tx, merchant, params: { id } }) => previewCampaign(tx, merchant.userId, id));
