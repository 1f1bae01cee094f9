import { withMerchantCall } from '@/lib/api/handler';
import { publicUrl } from '@/lib/api/urls';
import { asServer, withTenant } from '@/lib/db';
import { getIntegrations } from '@/lib/settings/integrations';
import { deleteWebhooks } from '@/lib/shopify/webhooks';

// DELETE /api/settings/shopify: disconnect the store installed through the app. Its
// subscriptions are deleted in the store (best effort), the token goes, and the binding is
// marked disconnected: the store's privacy requests still reach this account, and another
// account may now install the store. The data stays.
export const DELETE = withMerchantCall({}, async ({ merchant, req }) => {
  try {
    await deleteWebhooks(merchant.userId);
  } catch (err) {
    console.warn(`[shopify] deleting the webhooks of merchant ${merchant.userId} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return withTenant(merchant.userId, async (tx) => {
    await asServer(tx, () => tx`select private.shopify_disconnect(${merchant.userId})`);
    return getIntegrations(tx, merchant.userId, (path) => publicUrl(req, path));
  });
});
