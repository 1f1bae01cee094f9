import { withMerchant } from '@/lib/api/handler';
import { publicUrl } from '@/lib/api/urls';
import { getIntegrations, updateIntegrations } from '@/lib/settings/integrations';
import { integrationsUpdateSchema } from '@/lib/settings/schemas';

const urls = (req: Request) => (path: string) => publicUrl(req, path);

// GET /api/settings/integrations -> configured flags and last 4 characters, never a secret.
export const GET = withMerchant({}, ({ tx, merchant, req }) => getIntegrations(tx, merchant.userId, urls(req)));

// PUT /api/settings/integrations {klaviyoApiKey?, shopifyShopDomain?, shopifyWebhookSecret?}
export const PUT = withMerchant({ body: integrationsUpdateSchema }, async ({ tx, merchant, body, req }) => {
  await updateIntegrations(tx, merchant.userId, body);
  return getIntegrations(tx, merchant.userId, urls(req));
});
