import { withWebhook } from '@/lib/api/handler';
import { authenticateAppWebhook, parseShopifyJson, processShopifyDelivery } from '@/lib/intake/shopify';

// POST /api/webhooks/shopify: the app's own address, registered by the app in every shop that
// installs it (and set for the compliance topics in the app's configuration). Signed with the
// app's secret and routed by the bindings OAuth made: orders to the account the store is
// installed in, privacy requests to every account holding its data. A store no account holds
// is acknowledged and nothing is stored.
export const POST = withWebhook({ verify: authenticateAppWebhook, maxBytes: 2_000_000 }, async ({ tx, rawBody, sender }) => {
  if (sender.userIds.length === 0) return { status: 'ignored', detail: 'the shop is not connected to an account' };
  const payload = parseShopifyJson(rawBody);
  const results = [];
  for (const userId of sender.userIds) {
    results.push(await processShopifyDelivery(tx, { userId, topic: sender.topic, deliveryId: sender.deliveryId, shop: sender.shop }, payload));
  }
  return results.length === 1 ? results[0] : { status: 'processed', detail: results };
});
