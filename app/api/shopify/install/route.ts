import { errorResponse, json, withMerchant } from '@/lib/api/handler';
import { getMerchant } from '@/lib/auth';
import { applyCookies, cookieJarFromRequest } from '@/lib/auth/cookies';
import { withSystem } from '@/lib/db';
import { AppError } from '@/lib/errors';
import { installStartSchema } from '@/lib/settings/schemas';
import { beginInstall, verifiedLaunch } from '@/lib/shopify/install';
import { INSTALL_MESSAGES } from '@/lib/shopify/outcomes';

function redirect(location: string, setCookies: string[] = []): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  for (const c of setCookies) headers.append('set-cookie', c);
  return new Response(null, { status: 302, headers });
}

// POST /api/shopify/install {shop} (Settings, "Connect Shopify") -> {authorizeUrl}, with the
// library's signed state cookie; the browser then goes to the shop's authorize page. 409 when
// another account holds the store, or this account holds another.
export const POST = withMerchant({ body: installStartSchema }, async ({ tx, merchant, body, req }) => {
  const start = await beginInstall(tx, merchant.userId, body.shop, req);
  if (start.outcome !== 'started') throw new AppError('conflict', INSTALL_MESSAGES[start.outcome], { field: 'shop' });
  const res = json({ authorizeUrl: start.authorizeUrl }, 200, { 'cache-control': 'no-store' });
  for (const c of start.setCookies) res.headers.append('set-cookie', c);
  return res;
});

// GET /api/shopify/install?shop&hmac&timestamp[&host] (the app URL Shopify opens when a store
// installs the app from its side): the query must be signed by Shopify. A signed-in merchant
// goes straight to the authorize page; anyone else signs in first and lands on Settings with
// the store filled in. A refusal lands on Settings saying why.
export async function GET(req: Request): Promise<Response> {
  const cookies = cookieJarFromRequest(req);
  // Our own pages by path: the browser resolves them against the address it used.
  const settings = (query: string) => `/dashboard/settings?${query}#shopify`;
  try {
    const shop = await verifiedLaunch(req);
    if (!shop) return redirect(settings('shopify=invalid'));
    const merchant = await getMerchant(cookies);
    const prefill = `shopify_shop=${encodeURIComponent(shop)}`;
    if (!merchant) {
      const next = `/dashboard/settings?${prefill}#shopify`;
      return applyCookies(redirect(`/login?next=${encodeURIComponent(next)}`), cookies);
    }
    const start = await withSystem((tx) => beginInstall(tx, merchant.userId, shop, req));
    if (start.outcome !== 'started') return applyCookies(redirect(settings(`shopify=${start.outcome}&${prefill}`)), cookies);
    return applyCookies(redirect(start.authorizeUrl, start.setCookies), cookies);
  } catch (err) {
    if (err instanceof AppError && err.code === 'not_configured') return redirect(settings('shopify=not_configured'));
    return applyCookies(errorResponse(err), cookies);
  }
}
