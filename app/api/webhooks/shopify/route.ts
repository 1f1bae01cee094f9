import { withWebhook } from '@/lib/api/handler';
import { authenticateAppWebhook, parseShopifyJson, processShopifyDelivery } from '@/lib/intake/shopify';

// POST /api/webhooks/shopify: the app's own address, registered by the app in every shop that
// installs it (and set for the compliance topics in the app's configuration). Signed with the
// app's secret and routed by the shop OAuth bound; a shop no account holds is acknowledged and
// nothing is stored.
export const POST = withWebhook({ verify: authenticateAppWebhook, maxBytes: 2_000_000 }, async ({ tx, rawBody, sender }) =>
  'unbound' in sender
    ? { status: 'ignored', detail: 'the shop is not connected to an account' }
    : processShopifyDelivery(tx, sender, parseShopifyJson(rawBody)),
);
