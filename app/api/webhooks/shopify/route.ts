import { withWebhook } from '@/lib/api/handler';
import { authenticateAppWebhook, processAppDelivery } from '@/lib/intake/shopify';

// POST /api/webhooks/shopify: the app's own address, registered by the app in every shop that
// installs it (and set for the compliance topics in the app's configuration). Signed with the
// app's secret and routed by the bindings OAuth made: orders to the account the store is
// installed in, privacy requests to every account holding its data. A store no account holds
// is acknowledged and nothing is stored.
export const POST = withWebhook({ verify: authenticateAppWebhook, maxBytes: 2_000_000 }, ({ tx, rawBody, sender }) =>
  processAppDelivery(tx, sender, rawBody),
);
