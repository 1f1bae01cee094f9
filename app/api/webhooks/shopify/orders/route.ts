import { AppError } from '@/lib/api/errors';
import { withWebhook } from '@/lib/api/handler';
import { authenticateShopifyWebhook, processShopifyDelivery } from '@/lib/intake/shopify';

// POST /api/webhooks/shopify/orders: orders/create, orders/paid, refunds/create, signed by the shop.
export const POST = withWebhook({ verify: authenticateShopifyWebhook, maxBytes: 2_000_000 }, async ({ tx, rawBody, sender }) => {
  let payload: unknown;
  try {
    payload = JSON.parse(rawBody);
  } catch {
    throw new AppError('bad_request', 'Body must be valid JSON');
  }
  return processShopifyDelivery(tx, sender, payload);
});
