import { AppError } from '@/lib/errors';
import { withPublic } from '@/lib/api/handler';
import { clickQuery, recordTracked, trackingParams } from '@/lib/winback/tracking';

// GET /api/track/winback/:token?to=/path — a link in a win-back email: the click is recorded
// for its recipient (opened and clicked, once), then the shopper goes on to the shop.
export const GET = withPublic(
  { params: trackingParams, query: clickQuery },
  { crossOrigin: true, rateLimits: [{ name: 'winback-click-ip', limit: 600, windowSeconds: 60 }] },
  async ({ tx, params, query }) => {
    const found = await recordTracked(tx, params.token, 'email_click');
    if (!found) throw new AppError('not_found', 'This link is not known (it may be from an old email)');
    const shop = found.shopDomain ? `https://${found.shopDomain}` : null;
    if (!shop) return new Response('Thanks for coming back.', { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    return new Response(null, { status: 302, headers: { location: new URL(query.to ?? '/', shop).toString(), 'cache-control': 'no-store' } });
  },
);
