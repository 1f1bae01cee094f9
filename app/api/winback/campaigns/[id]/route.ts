import { withMerchant } from '@/lib/api/handler';
import { campaignParams } from '@/lib/winback/routes';
import { campaignPatch } from '@/lib/winback/schemas';
import { deleteCampaign, getCampaign, updateCampaign } from '@/lib/winback/service';

export const GET = withMerchant({ params: campaignParams }, ({ tx, merchant, params: { id } }) => getCampaign(tx, merchant.userId, id));

// PATCH: a draft changes freely; a running campaign only its name, description and end (409 otherwise).
export const PATCH = withMerchant({ params: campaignParams, body: campaignPatch }, ({ tx, merchant, params: { id }, body }) =>
  updateCampaign(tx, merchant.userId, id, body));

// DELETE: drafts only (409 for a campaign that has run: complete it).
export const DELETE = withMerchant({ params: campaignParams }, ({ tx, merchant, params: { id } }) => deleteCampaign(tx, merchant.userId, id));
