import { toErrorBody } from '@/lib/api/errors';
import { withWebhook } from '@/lib/api/handler';
import { authenticateAppWebhook, DATA_REQUEST_TOPIC, holdsShopper, parseShopifyJson, processShopifyDelivery, REDACT_TOPIC } from '@/lib/intake/shopify';

// POST /api/webhooks/shopify: the app's own address, registered by the app in every shop that
// installs it (and set for the compliance topics in the app's configuration). Signed with the
// app's secret and routed by the bindings OAuth made: orders to the account the store is
// installed in, privacy requests to every account holding its data. A store no account holds
// is acknowledged and nothing is stored.
export const POST = withWebhook({ verify: authenticateAppWebhook, maxBytes: 2_000_000 }, async ({ tx, rawBody, sender }) => {
  if (sender.accounts.length === 0) return { status: 'ignored', detail: 'the shop is not connected to an account' };
  const payload = parseShopifyJson(rawBody);
  const aboutShopper = sender.topic === DATA_REQUEST_TOPIC || sender.topic === REDACT_TOPIC;
  const results: unknown[] = [];
  let failed = 0;
  for (const { userId, installed } of sender.accounts) {
    const to = { userId, topic: sender.topic, deliveryId: sender.deliveryId, shop: sender.shop };
    try {
      // Each account on its own savepoint: one account's failure neither undoes nor blocks another's.
      const result = await tx.savepoint(async (sp) =>
        (!installed && aboutShopper && !(await holdsShopper(sp, userId, payload)) ? null : processShopifyDelivery(sp, to, payload)));
      if (result) results.push(result);
    } catch (err) {
      // The delivery's own faults (signature, shape, a value the schema refuses) are the same for
      // every account, and answered as such (4xx); so is anything when one account is all there is.
      if (sender.accounts.length === 1 || toErrorBody(err).status < 500) throw err;
      console.error(`[webhook] ${sender.topic} for merchant ${userId} failed`, err);
      failed += 1;
    }
  }
  // What succeeded is kept (a retry finds it done, each account's inbox keyed on the delivery
  // id); a failure asks Shopify to send it again, for the accounts that did not take it.
  if (failed > 0) return Response.json({ error: 'Some accounts could not take this delivery; it will be retried', code: 'busy' }, { status: 503 });
  if (results.length === 0) return { status: 'ignored', detail: 'no account holds this shopper' };
  return results.length === 1 ? results[0] : { status: 'processed', detail: results };
});
