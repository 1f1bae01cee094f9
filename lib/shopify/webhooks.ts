import 'server-only';
import { GraphqlQueryError, Session } from '@shopify/shopify-api';
import { z } from 'zod';
import { withSystem } from '@/lib/db';
import { AppError } from '@/lib/errors';
import { getCredential } from '@/lib/settings/integrations';
import { appWebhookAddress, shopifyApp } from '@/lib/shopify/app';
import { APP_TOPICS, type AppTopic } from '@/lib/shopify/topics';


const LIST = `#graphql
  query AppWebhooks {
    webhookSubscriptions(first: 100) { nodes { id topic uri } }
  }`;

const CREATE = `#graphql
  mutation AppWebhookCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
    webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
      webhookSubscription { id topic uri }
      userErrors { field message }
    }
  }`;

const DELETE = `#graphql
  mutation AppWebhookDelete($id: ID!) {
    webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } }
  }`;

const subscription = z.object({ id: z.string().min(1).max(200), topic: z.string(), uri: z.string().max(2000) });
const listAnswer = z.object({ webhookSubscriptions: z.object({ nodes: z.array(subscription) }) });
const deleteAnswer = z.object({
  webhookSubscriptionDelete: z.object({ deletedWebhookSubscriptionId: z.string().nullable(), userErrors: z.array(z.object({ message: z.string() })) }),
});
const createAnswer = z.object({
  webhookSubscriptionCreate: z.object({
    webhookSubscription: subscription.nullable(),
    userErrors: z.array(z.object({ message: z.string() })),
  }),
});

export interface Registration {
  /** Topics now registered to `address`. */
  registered: AppTopic[];
  /** What Shopify refused, by topic. */
  problems: { topic: AppTopic; message: string }[];
}

interface AdminClient {
  shop: string;
  request: <T>(schema: z.ZodType<T>, query: string, variables?: Record<string, unknown>) => Promise<T>;
}

/**
 * An Admin GraphQL client for the merchant's installed store, or null when none is installed
 * (or it was uninstalled: the token is gone). The token is read in a short transaction of its
 * own; no connection is held while Shopify answers.
 */
async function adminClient(userId: string): Promise<AdminClient | null> {
  const found = await withSystem(async (tx) => {
    const [install] = await tx<{ shop: string; uninstalledAt: string | null }[]>`
      select shop, uninstalled_at from public.shopify_installs where user_id = ${userId}`;
    const token = install && !install.uninstalledAt ? await getCredential(tx, userId, 'shopify_admin') : null;
    return install && token ? { shop: install.shop, token } : null;
  });
  if (!found) return null;
  const session = new Session({ id: `offline_${found.shop}`, shop: found.shop, state: '', isOnline: false, accessToken: found.token });
  const client = new (shopifyApp().clients.Graphql)({ session });
  return {
    shop: found.shop,
    request: async (schema, query, variables) => {
      try {
        const res = await client.request(query, variables ? { variables } : {});
        return schema.parse(res.data);
      } catch (err) {
        // A revoked token answers 401; the library turns any GraphQL error into GraphqlQueryError.
        const detail = err instanceof GraphqlQueryError ? err.message : err instanceof Error ? err.message : String(err);
        throw new AppError('conflict', 'Shopify did not accept the request: reconnect the store from Settings', { logMessage: detail.slice(0, 500) });
      }
    },
  };
}

/**
 * Make the shop's subscriptions match what the app needs: list what is registered, create
 * each topic missing at the app's address (APP_URL's, whoever asks), and record what the shop
 * confirmed. Safe to repeat (the "Repair" in Settings): a topic already registered there is
 * left alone.
 */
export async function registerWebhooks(userId: string): Promise<Registration> {
  const client = await adminClient(userId);
  if (!client) throw new AppError('conflict', 'No store is connected through the app: connect it from Settings first');
  const address = appWebhookAddress();
  const existing = (await client.request(listAnswer, LIST)).webhookSubscriptions.nodes;
  const confirmed = new Map<AppTopic, string>();
  for (const s of existing) {
    const topic = APP_TOPICS.find((t) => t === s.topic);
    if (topic && s.uri === address) confirmed.set(topic, s.id);
  }
  const problems: Registration['problems'] = [];
  for (const topic of APP_TOPICS.filter((t) => !confirmed.has(t))) {
    const r = (await client.request(createAnswer, CREATE, { topic, webhookSubscription: { uri: address, format: 'JSON' } })).webhookSubscriptionCreate;
    if (r.webhookSubscription) confirmed.set(topic, r.webhookSubscription.id);
    else problems.push({ topic, message: r.userErrors.map((e) => e.message).join('; ').slice(0, 300) || 'refused' });
  }

  const rows = [...confirmed].map(([topic, id]) => ({ userId, topic, subscriptionId: id, uri: address }));
  await withSystem(async (tx) => {
    // Only while the shop is still installed (an uninstall may have come in meanwhile).
    const [live] = await tx`select 1 from public.shopify_installs where user_id = ${userId} and uninstalled_at is null for update`;
    if (!live) return;
    await tx`delete from public.shopify_webhook_subscriptions where user_id = ${userId} and topic <> all(${rows.map((r) => r.topic)}::text[])`;
    if (rows.length === 0) return;
    await tx`
      insert into public.shopify_webhook_subscriptions ${tx(rows)}
      on conflict (user_id, topic) do update set subscription_id = excluded.subscription_id, uri = excluded.uri,
        registered_at = case when shopify_webhook_subscriptions.subscription_id = excluded.subscription_id
                             then shopify_webhook_subscriptions.registered_at else now() end`;
  });
  return { registered: [...confirmed.keys()], problems };
}

/**
 * Before a disconnect: delete the app's subscriptions in the store, so it stops sending orders
 * to an account that let it go. Best effort (the store may have revoked the token already);
 * returns how many were deleted.
 */
export async function deleteWebhooks(userId: string): Promise<number> {
  const client = await adminClient(userId);
  if (!client) return 0;
  const address = appWebhookAddress();
  const existing = (await client.request(listAnswer, LIST)).webhookSubscriptions.nodes.filter((s) => s.uri === address);
  let deleted = 0;
  for (const s of existing) {
    const r = await client.request(deleteAnswer, DELETE, { id: s.id });
    if (r.webhookSubscriptionDelete.deletedWebhookSubscriptionId) deleted += 1;
  }
  return deleted;
}
