import { getMerchant } from '@/lib/auth';
import { applyCookies, cookieJarFromRequest } from '@/lib/auth/cookies';
import { AppError } from '@/lib/errors';
import { clearStateCookies, completeInstall } from '@/lib/shopify/install';
import type { InstallOutcome } from '@/lib/shopify/outcomes';

// GET /api/shopify/callback?code&hmac&host&shop&state&timestamp: Shopify's redirect back once
// the merchant approved the install. Binds the shop to the signed-in merchant who started it,
// or binds nothing; either way the browser lands on Settings, which says how it went.
export async function GET(req: Request): Promise<Response> {
  const cookies = cookieJarFromRequest(req);
  let outcome: InstallOutcome;
  try {
    const merchant = await getMerchant(cookies);
    outcome = merchant ? await completeInstall(merchant.userId, req) : 'invalid';
  } catch (err) {
    if (err instanceof AppError && err.code === 'not_configured') outcome = 'not_configured';
    else {
      console.error('[shopify] install callback failed', err);
      outcome = 'failed';
    }
  }
  // Settings by path: the browser resolves it against the address it used.
  const headers = new Headers({ location: `/dashboard/settings?shopify=${outcome}#shopify`, 'cache-control': 'no-store' });
  for (const c of clearStateCookies()) headers.append('set-cookie', c);
  return applyCookies(new Response(null, { status: 303, headers }), cookies);
}
