import 'server-only';
import { AppError } from '@/lib/errors';
import { decryptSecret, encryptSecret } from '@/lib/crypto/secrets';
import { asServer, type Tx } from '@/lib/db';
import { KlaviyoClient } from '@/lib/klaviyo/client';
import type { IntegrationsUpdate, IntegrationsView, KlaviyoHealth, SecretStatus, ShopifyAppView } from '@/lib/settings/schemas';
import { shopifyAppConfigured } from '@/lib/shopify/app';
import { APP_TOPICS } from '@/lib/shopify/topics';

export type CredentialProvider = 'klaviyo' | 'shopify_webhook' | 'shopify_admin';

// The ciphertext is bound to its merchant and purpose (AES-GCM associated data).
export const credentialContext = (userId: string, provider: CredentialProvider) => `${userId}:${provider}`;

interface SettingsRow {
  shopDomain: string | null;
  trackingKey: string;
  serverKeyLast4: string | null;
  webhookKey: string;
}

async function settingsRow(tx: Tx, userId: string): Promise<SettingsRow> {
  const [row] = await tx<SettingsRow[]>`
    select shop_domain, tracking_key, server_key_last4, webhook_key from public.merchant_settings where user_id = ${userId}`;
  // Every merchant has one from the auth.users trigger; none means the account is gone.
  if (!row) throw new AppError('not_found', 'Merchant not found');
  return row;
}

/** Settings as the dashboard sees them: flags and last 4 characters, never a secret. */
export async function getIntegrations(
  tx: Tx,
  userId: string,
  /** The absolute URL of a path of this deployment, as the shop and the storefront reach it. */
  publicUrl: (path: string) => string,
): Promise<IntegrationsView> {
  const settings = await settingsRow(tx, userId);
  const creds = await tx<{ provider: CredentialProvider; last4: string; updatedAt: string }[]>`
    select provider, last4, updated_at from public.merchant_credentials where user_id = ${userId}`;
  const status = (p: CredentialProvider): SecretStatus => {
    const c = creds.find((r) => r.provider === p);
    return { configured: Boolean(c), last4: c?.last4 ?? null, updatedAt: c?.updatedAt ?? null };
  };
  return {
    klaviyo: { apiKey: status('klaviyo'), health: await klaviyoHealth(tx, userId) },
    shopify: {
      shopDomain: settings.shopDomain,
      webhookSecret: status('shopify_webhook'),
      // The merchant's own address: a delivery to it is checked against this merchant's secret only.
      webhookUrl: publicUrl(`/api/webhooks/shopify/${settings.webhookKey}`),
      app: await shopifyAppView(tx, userId),
    },
    tracking: { publishableKey: settings.trackingKey, endpoint: publicUrl('/api/track') },
    serverKey: { configured: settings.serverKeyLast4 !== null, last4: settings.serverKeyLast4 },
  };
}

/** The app's install, if any, with each topic the app needs and when the shop confirmed it. */
async function shopifyAppView(tx: Tx, userId: string): Promise<ShopifyAppView> {
  const [install] = await tx<Omit<NonNullable<ShopifyAppView['install']>, 'webhooks'>[]>`
    select shop, scopes, installed_at, uninstalled_at from public.shopify_installs where user_id = ${userId}`;
  const subs = install
    ? await tx<{ topic: string; registeredAt: string }[]>`
        select topic, registered_at from public.shopify_webhook_subscriptions where user_id = ${userId}`
    : [];
  return {
    available: shopifyAppConfigured(),
    install: install
      ? { ...install, webhooks: APP_TOPICS.map((topic) => ({ topic, registeredAt: subs.find((s) => s.topic === topic)?.registeredAt ?? null })) }
      : null,
  };
}

/** The last key check and the merchant's held and failed messages (the attention index answers both counts). */
async function klaviyoHealth(tx: Tx, userId: string): Promise<KlaviyoHealth> {
  const [connection] = await tx<NonNullable<KlaviyoHealth['connection']>[]>`
    select checked_at, ok, detail from public.klaviyo_connections where user_id = ${userId}`;
  const [counts] = await tx<{ held: number; failed: number }[]>`
    select (count(*) filter (where status = 'held'))::int as held, (count(*) filter (where status = 'failed'))::int as failed
      from public.klaviyo_messages where user_id = ${userId} and status in ('held', 'failed')`;
  const [last] = await tx<{ reason: string; at: string }[]>`
    select reason, updated_at as at from public.klaviyo_messages
     where user_id = ${userId} and status in ('held', 'failed') and reason is not null
     order by created_at desc limit 1`;
  const [profiles] = await asServer(tx, () => tx<{ n: number }[]>`
    select count(*)::int as n from private.klaviyo_profile_changes where user_id = ${userId}`);
  return {
    connection: connection ?? null, held: counts?.held ?? 0, failed: counts?.failed ?? 0, lastProblem: last ?? null,
    profilesWaiting: profiles?.n ?? 0,
  };
}

/**
 * Ask Klaviyo whether the stored key works (GET /api/accounts, the cheapest authenticated
 * call) and keep the answer for Settings. 404 without a key.
 */
export async function checkKlaviyo(tx: Tx, userId: string): Promise<KlaviyoHealth['connection']> {
  const key = await asServer(tx, () => getCredential(tx, userId, 'klaviyo'));
  if (!key) throw new AppError('not_found', 'No Klaviyo API key saved');
  const r = await new KlaviyoClient(key).getAccounts();
  const account = r.ok ? accountName(r.body) : null;
  const ok = r.ok;
  const detail = r.ok ? (account ? `Account: ${account}` : 'The key works') : r.kind === 'unauthorized'
    ? `${r.detail}. The key was refused: create a private key with Events write access` : r.detail;
  const [row] = await asServer(tx, () => tx<NonNullable<KlaviyoHealth['connection']>[]>`
    insert into public.klaviyo_connections (user_id, checked_at, ok, detail) values (${userId}, now(), ${ok}, ${detail.slice(0, 300)})
    on conflict (user_id) do update set checked_at = excluded.checked_at, ok = excluded.ok, detail = excluded.detail
    returning checked_at, ok, detail`);
  return row ?? null;
}

function accountName(body: unknown): string | null {
  const data = (body as { data?: { attributes?: { contact_information?: { organization_name?: unknown } } }[] } | null)?.data;
  const name = data?.[0]?.attributes?.contact_information?.organization_name;
  return typeof name === 'string' && name ? name.slice(0, 200) : null;
}

/** Store or remove a secret: the server encrypts it and writes it (the API roles may only read that it exists). */
async function putSecret(tx: Tx, userId: string, provider: CredentialProvider, value: string | null): Promise<void> {
  if (value === null) {
    await asServer(tx, () => tx`delete from public.merchant_credentials where user_id = ${userId} and provider = ${provider}`);
    return;
  }
  const ciphertext = encryptSecret(value, credentialContext(userId, provider));
  await asServer(tx, () => tx`
    insert into public.merchant_credentials (user_id, provider, ciphertext, last4)
    values (${userId}, ${provider}, ${ciphertext}, ${value.slice(-4)})
    on conflict (user_id, provider) do update set ciphertext = excluded.ciphertext, last4 = excluded.last4`);
}

/** Apply a settings change; fields left out stay as they are, null clears. */
export async function updateIntegrations(tx: Tx, userId: string, input: IntegrationsUpdate): Promise<void> {
  await settingsRow(tx, userId);
  const changed: string[] = [];
  if (input.shopifyShopDomain !== undefined) {
    const [install] = await tx<{ shop: string }[]>`select shop from public.shopify_installs where user_id = ${userId}`;
    if (install && input.shopifyShopDomain !== install.shop) {
      throw new AppError('conflict', `This account is connected to ${install.shop} through the app: disconnect it first`, { field: 'shopifyShopDomain' });
    }
    await tx`update public.merchant_settings set shop_domain = ${input.shopifyShopDomain} where user_id = ${userId}`;
    changed.push('shopifyShopDomain');
  }
  if (input.klaviyoApiKey !== undefined) {
    await putSecret(tx, userId, 'klaviyo', input.klaviyoApiKey);
    changed.push('klaviyoApiKey');
  }
  if (input.shopifyWebhookSecret !== undefined) {
    await putSecret(tx, userId, 'shopify_webhook', input.shopifyWebhookSecret);
    changed.push('shopifyWebhookSecret');
  }
  if (changed.length > 0) {
    await tx`select public.log_activity(${userId}, 'settings.integrations_updated', 'settings', null, ${tx.json({ changed })})`;
  }
}

/** Replace the publishable tracking key; the old one stops working at once. */
export async function rotateTrackingKey(tx: Tx, userId: string): Promise<string> {
  const [row] = await asServer(tx, () => tx<{ trackingKey: string }[]>`
    update public.merchant_settings set tracking_key = public.new_publishable_key()
     where user_id = ${userId}
    returning tracking_key`);
  if (!row) throw new AppError('not_found', 'Merchant not found');
  await tx`select public.log_activity(${userId}, 'settings.tracking_key_rotated', 'settings')`;
  return row.trackingKey;
}

/** Decrypt a stored credential (bound to its merchant and provider). */
export function decryptCredential(userId: string, provider: CredentialProvider, ciphertext: string): string {
  return decryptSecret(ciphertext, credentialContext(userId, provider));
}

/** A merchant's decrypted secret for server-side use (Klaviyo calls, webhook checks). */
export async function getCredential(tx: Tx, userId: string, provider: CredentialProvider): Promise<string | null> {
  const [row] = await tx<{ ciphertext: string }[]>`
    select ciphertext from public.merchant_credentials where user_id = ${userId} and provider = ${provider}`;
  return row ? decryptCredential(userId, provider, row.ciphertext) : null;
}
