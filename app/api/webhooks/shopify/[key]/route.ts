import { withWebhook } from '@/lib/api/handler';
import { authenticateShopifyWebhook, parseShopifyJson, processShopifyDelivery } from '@/lib/intake/shopify';

// POST /api/webhooks/shopify/<key> (the merchant's own address, shown in Settings): orders/create,
// orders/paid, orders/cancelled and refunds/create, and the compliance topics customers/data_request,
// customers/redact and shop/redact, signed by the shop; any other topic is acknowledged and
// recorded as not used.
export const POST = withWebhook({ verify: authenticateShopifyWebhook, maxBytes: 2_000_000 }, async ({ tx, rawBody, sender }) =>
  processShopifyDelivery(tx, sender, parseShopifyJson(rawBody)),
);
