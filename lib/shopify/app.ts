import 'server-only';
// The web-API adapter: the library takes and returns Request/Response, as Next's handlers do.
import '@shopify/shopify-api/adapters/web-api';
import { ApiVersion, LogSeverity, shopifyApi, type Shopify } from '@shopify/shopify-api';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';
import { AppError } from '@/lib/errors';
import { env } from '@/lib/env';

/** The Admin API version the app speaks (webhook registration), pinned. */
export const SHOPIFY_API_VERSION = ApiVersion.July26;

/**
 * Where a request meant for a shop goes: the shop itself, or, when SHOPIFY_API_ORIGIN is set
 * (tests), the stand-in at <origin>/shops/<shop>/<path>. Every request the library makes goes
 * through here, so the real OAuth and GraphQL code runs against the stand-in.
 */
export function shopRequestUrl(url: string): string {
  const origin = env().SHOPIFY_API_ORIGIN;
  if (!origin) return url;
  const u = new URL(url);
  return new URL(`/shops/${u.hostname}${u.pathname}${u.search}`, origin).toString();
}

setAbstractFetchFunc((input: RequestInfo | URL, init?: RequestInit) => {
  const url = input instanceof Request ? input.url : String(input);
  return fetch(shopRequestUrl(url), { ...init, signal: init?.signal ?? AbortSignal.timeout(15_000) });
});

/** Whether the app's credentials are set: without them only the manual connection exists. */
export function shopifyAppConfigured(): boolean {
  const e = env();
  return Boolean(e.SHOPIFY_API_KEY && e.SHOPIFY_API_SECRET && e.APP_URL);
}

let cached: { key: string; app: Shopify } | undefined;

/**
 * The library configured for this deployment. Its host is APP_URL's (env refuses the app's
 * credentials without it), never a request's: the OAuth redirect and the webhook address are
 * ours whoever calls. One instance, rebuilt only if the configuration changes.
 */
export function shopifyApp(): Shopify {
  const e = env();
  if (!e.SHOPIFY_API_KEY || !e.SHOPIFY_API_SECRET || !e.APP_URL) {
    throw new AppError('not_configured', 'Installing from Shopify needs SHOPIFY_API_KEY, SHOPIFY_API_SECRET and APP_URL to be set');
  }
  const origin = new URL(e.APP_URL);
  const key = [origin.origin, e.SHOPIFY_API_KEY, e.SHOPIFY_API_SECRET, e.SHOPIFY_SCOPES].join('\n');
  if (cached?.key !== key) {
    cached = {
      key,
      app: shopifyApi({
        apiKey: e.SHOPIFY_API_KEY,
        apiSecretKey: e.SHOPIFY_API_SECRET,
        scopes: e.SHOPIFY_SCOPES.split(','),
        hostName: origin.host,
        hostScheme: origin.protocol === 'http:' ? 'http' : 'https',
        apiVersion: SHOPIFY_API_VERSION,
        isEmbeddedApp: false,
        logger: { level: LogSeverity.Error },
      }),
    };
  }
  return cached.app;
}

/** Where the app's webhooks are registered: APP_URL's /api/webhooks/shopify. */
export function appWebhookAddress(): string {
  const url = env().APP_URL;
  if (!url) throw new AppError('not_configured', 'APP_URL is not set');
  return new URL('/api/webhooks/shopify', url).toString();
}
