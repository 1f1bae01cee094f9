import { z } from 'zod';
import { isCleanText } from '@/lib/fields';

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

export const integrationsViewSchema = z.object({
  klaviyo: z.object({ apiKey: secretStatusSchema }),
  shopify: z.object({ shopDomain: z.string().nullable(), webhookSecret: secretStatusSchema, webhookUrl: z.string() }),
  tracking: z.object({ publishableKey: z.string(), endpoint: z.string() }),
  /** Secret key for the merchant's backend (coupon validation); shown in full only when rotated. */
  serverKey: z.object({ configured: z.boolean(), last4: z.string().nullable() }),
});
export type IntegrationsView = z.infer<typeof integrationsViewSchema>;

