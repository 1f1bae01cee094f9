import { withMerchant } from '@/lib/api/handler';
import { publicUrl } from '@/lib/api/urls';
import { getIntegrations } from '@/lib/settings/integrations';
import { APP_WEBHOOK_PATH } from '@/lib/shopify/install';
import { registerWebhooks } from '@/lib/shopify/webhooks';

// POST /api/settings/shopify/webhooks ("Repair"): ask the shop what is registered and create
// every topic the app needs that is missing -> {problems, integrations}.
export const POST = withMerchant({}, async ({ tx, merchant, req }) => {
  const { problems } = await registerWebhooks(tx, merchant.userId, publicUrl(req, APP_WEBHOOK_PATH));
  return { problems, integrations: await getIntegrations(tx, merchant.userId, (path) => publicUrl(req, path)) };
});
