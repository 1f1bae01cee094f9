import { z } from 'zod';
import { isCleanText, text } from '@/lib/fields';

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

/** Accepts `store.myshopify.com`, with or without https:// and a trailing slash. */
export const shopDomainSchema = z
  .string()
  .trim()
  .toLowerCase()
  .transform((v) => v.replace(/^https?:\/\//, '').replace(/\/+$/, ''))
  .pipe(z.string().regex(SHOP_DOMAIN, 'Use your store’s myshopify.com domain, e.g. my-store.myshopify.com'));

const secret = (label: string, min: number) =>
  z
    .string()
    .trim()
    .min(min, `${label} looks too short`)
    .max(200, `${label} is too long`)
    .regex(/^\S+$/, `${label} must not contain spaces`)
    .refine(isCleanText, `${label} contains characters that are not allowed`);

/** PUT /api/settings/integrations: a field left out is unchanged, null removes it. */
export const integrationsUpdateSchema = z.object({
  klaviyoApiKey: secret('Klaviyo private key', 10).nullable().optional(),
  shopifyShopDomain: shopDomainSchema.nullable().optional(),
  shopifyWebhookSecret: secret('Webhook secret', 16).nullable().optional(),
});
export type IntegrationsUpdate = z.infer<typeof integrationsUpdateSchema>;

/** What the browser may know about a stored secret. */
export const secretStatusSchema = z.object({
  configured: z.boolean(),
  last4: z.string().nullable(),
  updatedAt: z.iso.datetime({ offset: true }).nullable(),
});
export type SecretStatus = z.infer<typeof secretStatusSchema>;

/** The last check of the Klaviyo key, and the messages that need the merchant. */
export const klaviyoHealthSchema = z.object({
  connection: z.object({ checkedAt: z.iso.datetime({ offset: true }), ok: z.boolean(), detail: z.string().nullable() }).nullable(),
  held: z.number().int(),
  failed: z.number().int(),
  /** The latest reason a message is held or failed, and when. */
  lastProblem: z.object({ reason: z.string(), at: z.iso.datetime({ offset: true }) }).nullable(),
  /** Profiles whose properties (points, tier, referral link, stage) changed and wait to be sent. */
  profilesWaiting: z.number().int(),
});
export type KlaviyoHealth = z.infer<typeof klaviyoHealthSchema>;

/** The store as the app's OAuth install bound it, and the webhooks the app registered there. */
export const shopifyAppViewSchema = z.object({
  /** SHOPIFY_API_KEY and SHOPIFY_API_SECRET are set: "Connect Shopify" can run. */
  available: z.boolean(),
  install: z
    .object({
      shop: z.string(),
      scopes: z.string(),
      installedAt: z.iso.datetime({ offset: true }),
      /** Set by app/uninstalled: the token is gone, the data stays until shop/redact. */
      uninstalledAt: z.iso.datetime({ offset: true }).nullable(),
      webhooks: z.array(z.object({ topic: z.string(), registeredAt: z.iso.datetime({ offset: true }).nullable() })),
    })
    .nullable(),
});
export type ShopifyAppView = z.infer<typeof shopifyAppViewSchema>;

/** POST /api/shopify/install: the store to install the app in. */
export const installStartSchema = z.object({ shop: shopDomainSchema });

export const integrationsViewSchema = z.object({
  klaviyo: z.object({ apiKey: secretStatusSchema, health: klaviyoHealthSchema }),
  shopify: z.object({
    shopDomain: z.string().nullable(),
    webhookSecret: secretStatusSchema,
    webhookUrl: z.string(),
    app: shopifyAppViewSchema,
  }),
  tracking: z.object({ publishableKey: z.string(), endpoint: z.string() }),
  /** Secret key for the merchant's backend (coupon validation); shown in full only when rotated. */
  serverKey: z.object({ configured: z.boolean(), last4: z.string().nullable() }),
});
export type IntegrationsView = z.infer<typeof integrationsViewSchema>;


/** An IANA time zone name as PostgreSQL knows it (checked against its list by the server). */
export const timeZoneField = z
  .string()
  .trim()
  .min(1, 'Choose a time zone')
  .max(64, 'That is not a time zone name')
  .regex(/^[A-Za-z0-9_+\-/]+$/, 'That is not a time zone name, e.g. Europe/Paris');

/**
 * PUT /api/settings/store: the store's time zone (the one every daily and monthly figure uses)
 * and its name (what a gift's claim page says it is from; empty clears it). A field left out is
 * unchanged.
 */
export const storeSettingsUpdateSchema = z
  .object({
    timeZone: timeZoneField.optional(),
    storeName: text({ max: 80 }).transform((v) => v || null).nullable().optional(),
  })
  .refine((v) => v.timeZone !== undefined || v.storeName !== undefined, 'Send timeZone or storeName');
export type StoreSettingsUpdate = z.infer<typeof storeSettingsUpdateSchema>;

export const storeSettingsSchema = z.object({
  timeZone: z.string(),
  storeName: z.string().nullable(),
  currency: z.string(),
  /** Every time zone name the server accepts. */
  timeZones: z.array(z.string()),
});
export type StoreSettings = z.infer<typeof storeSettingsSchema>;
