import 'server-only';
import { createHash } from 'node:crypto';
import { AuthScopes, BotActivityDetected, CookieNotFound, HttpResponseError, InvalidHmacError, InvalidOAuthError, InvalidShopError } from '@shopify/shopify-api';
import { z } from 'zod';
import { encryptSecret } from '@/lib/crypto/secrets';
import { asServer, withSystem, type Tx } from '@/lib/db';
import { AppError } from '@/lib/errors';
import { credentialContext } from '@/lib/settings/integrations';
import { shopDomainSchema } from '@/lib/settings/schemas';
import { shopifyApp, shopRequestUrl } from '@/lib/shopify/app';
import type { InstallOutcome } from '@/lib/shopify/outcomes';
import { registerWebhooks } from '@/lib/shopify/webhooks';

export const CALLBACK_PATH = '/api/shopify/callback';


const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * The query as one value per name, or null when a name repeats: the library exchanges the
 * first `code` while its HMAC check reads the last, so a repeated name is never ours to settle.
 */
function singleQuery(req: Request): Record<string, string> | null {
  const params = new URL(req.url).searchParams;
  const out: Record<string, string> = {};
  for (const [k, v] of params) {
    if (Object.hasOwn(out, k)) return null;
    out[k] = v;
  }
  return out;
}


/** The library's state cookies, cleared once the callback has read them. */
const STATE_COOKIES = ['shopify_app_state', 'shopify_app_state.sig'];

export type InstallStart =
  | {
      outcome: 'started';
      /** Where the browser goes next: the shop's authorize page. */
      authorizeUrl: string;
      /** The library's signed state cookie (binds the browser), for the response. */
      setCookies: string[];
    }
  | { outcome: 'shop_taken' | 'account_has_shop' };

/**
 * Start an install for the signed-in merchant: the library makes the state and its signed
 * cookie and the authorize URL; we keep the state's hash bound to this merchant and shop, so
 * the callback accepts it once, from this merchant only. A shop another account holds, or a
 * second shop for this account, is refused before Shopify is involved.
 */
export async function beginInstall(tx: Tx, userId: string, shop: string, req: Request): Promise<InstallStart> {
  const app = shopifyApp();
  const res = await app.auth.begin({ shop, callbackPath: CALLBACK_PATH, isOnline: false, rawRequest: req });
  const location = res.headers.get('location');
  const state = location ? new URL(location).searchParams.get('state') : null;
  if (res.status !== 302 || !location || !state) {
    // 410: the library takes the caller for a bot.
    throw new AppError('bad_request', 'This browser cannot start an install');
  }
  const [row] = await asServer(tx, () => tx<{ outcome: string }[]>`
    select private.shopify_install_begin(${userId}, ${shop}, ${sha256(state)}) as outcome`);
  if (row?.outcome === 'shop_taken' || row?.outcome === 'account_has_shop') return { outcome: row.outcome };
  return { outcome: 'started', authorizeUrl: shopRequestUrl(location), setCookies: res.headers.getSetCookie() };
}

/** Shopify's launch of the app (the app URL): shop, hmac and timestamp, signed with the app's secret. */
const launchQuery = z.object({ shop: z.string(), hmac: z.string(), timestamp: z.string() }).loose();

/**
 * Is this query one Shopify signed (HMAC over the sorted query, timestamp within 90 s), for a
 * `*.myshopify.com` shop? Returns the shop, or null.
 */
export async function verifiedLaunch(req: Request): Promise<string | null> {
  const query = singleQuery(req);
  const parsed = launchQuery.safeParse(query);
  const shop = parsed.success ? shopDomainSchema.safeParse(parsed.data.shop) : null;
  if (!query || !parsed.success || !shop?.success || shop.data !== parsed.data.shop) return null;
  try {
    return (await shopifyApp().utils.validateHmac(query)) ? shop.data : null;
  } catch (err) {
    if (err instanceof InvalidHmacError) return null;
    throw err;
  }
}

const callbackQuery = z
  .object({ shop: z.string(), state: z.string().min(1).max(200), code: z.string().min(1).max(1000), hmac: z.string(), timestamp: z.string() })
  .loose();

/**
 * Shopify's redirect back after the merchant approved: the state this merchant started for
 * this shop is spent (committed first, so it is used once whatever follows), then the library
 * checks its signed cookie, the query's HMAC and timestamp and exchanges the code for an
 * offline token; every scope asked for must be granted; then the shop is bound to the
 * merchant, the token stored encrypted, and the app's webhooks registered.
 */
export async function completeInstall(userId: string, req: Request): Promise<InstallOutcome> {
  const parsed = callbackQuery.safeParse(singleQuery(req));
  const shopParsed = parsed.success ? shopDomainSchema.safeParse(parsed.data.shop) : null;
  if (!parsed.success || !shopParsed?.success || shopParsed.data !== parsed.data.shop) return 'invalid';
  const shop = shopParsed.data;
  const app = shopifyApp();

  const [taken] = await withSystem((tx) => tx<{ ok: boolean }[]>`
    select private.shopify_take_state(${userId}, ${sha256(parsed.data.state)}, ${shop}) as ok`);
  if (!taken?.ok) return 'invalid';

  let token: string;
  let granted: string;
  try {
    const { session } = await app.auth.callback({ rawRequest: req });
    if (session.shop !== shop || !session.accessToken) return 'invalid';
    token = session.accessToken;
    granted = session.scope ?? '';
  } catch (err) {
    if (err instanceof InvalidOAuthError || err instanceof CookieNotFound || err instanceof InvalidHmacError
      || err instanceof InvalidShopError || err instanceof BotActivityDetected) return 'invalid';
    // The token endpoint refused the code (used, expired) or the shop did not answer.
    console.warn(`[shopify] code exchange for ${shop} failed: ${err instanceof HttpResponseError ? err.response.code : String(err)}`);
    return 'failed';
  }
  if (!new AuthScopes(granted).has(app.config.scopes)) return 'scopes';

  const ciphertext = encryptSecret(token, credentialContext(userId, 'shopify_admin'));
  const [bound] = await withSystem((tx) => tx<{ outcome: string }[]>`
    select private.shopify_install_bind(${userId}, ${shop}, ${new AuthScopes(granted).toString()}, ${ciphertext}, ${token.slice(-4)}) as outcome`);
  if (bound?.outcome === 'shop_taken' || bound?.outcome === 'account_has_shop') return bound.outcome;
  // The code was exchanged outside any transaction, and webhooks are registered outside one
  // too: no connection is held while Shopify answers.
  if (bound?.outcome !== 'installed') throw new Error(`unexpected install outcome ${bound?.outcome}`);
  try {
    await registerWebhooks(userId);
  } catch (err) {
    // Installed all the same: Settings lists what is missing, and Repair registers it.
    console.warn(`[shopify] registering webhooks for ${shop} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return 'connected';
}

/** Set-Cookie values that clear the library's state cookies (the callback has spent them). */
export function clearStateCookies(): string[] {
  return STATE_COOKIES.map((name) => `${name}=; Path=${CALLBACK_PATH}; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax`);
}
