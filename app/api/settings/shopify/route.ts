import { withMerchant } from '@/lib/api/handler';
import { publicUrl } from '@/lib/api/urls';
import { asServer } from '@/lib/db';
import { getIntegrations } from '@/lib/settings/integrations';

// DELETE /api/settings/shopify: disconnect the store installed through the app. The token and
// the binding go (the store is free for another account); the data stays. The app stays
// installed in Shopify until the store uninstalls it there.
export const DELETE = withMerchant({}, async ({ tx, merchant, req }) => {
  await asServer(tx, () => tx`select private.shopify_disconnect(${merchant.userId})`);
  return getIntegrations(tx, merchant.userId, (path) => publicUrl(req, path));
});
