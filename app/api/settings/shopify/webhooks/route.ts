import { withMerchantCall } from '@/lib/api/handler';
import { publicUrl } from '@/lib/api/urls';
import { withTenant } from '@/lib/db';
import { getIntegrations } from '@/lib/settings/integrations';
import { registerWebhooks } from '@/lib/shopify/webhooks';

// POST /api/settings/shopify/webhooks ("Repair"): ask the shop what is registered and create
// every topic the app needs that is missing, at the app's address -> {problems, integrations}.
export const POST = withMerchantCall({}, async ({ merchant, req }) => {
  const { problems } = await registerWebhooks(merchant.userId);
  return { problems, integrations: await withTenant(merchant.userId, (tx) => getIntegrations(tx, merchant.userId, (path) => publicUrl(req, path))) };
});
