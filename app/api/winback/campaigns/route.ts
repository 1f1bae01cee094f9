import { json, withMerchant } from '@/lib/api/handler';
import { campaignCreate } from '@/lib/winback/schemas';
import { createCampaign, listCampaigns } from '@/lib/winback/service';

// GET /api/winback/campaigns -> {campaigns}, newest first, each with its figures.
export const GET = withMerchant({}, ({ tx, merchant }) => listCampaigns(tx, merchant.userId));

// POST /api/winback/campaigns {name, targetStages?, ..., holdoutPercent?, attributionDays?} -> 201 a draft
export const POST = withMerchant({ body: campaignCreate }, async ({ tx, merchant, body }) => json(await createCampaign(tx, merchant.userId, body), 201));
