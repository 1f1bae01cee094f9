import { withPublic } from '@/lib/api/handler';
import { PIXEL, recordTracked, trackingParams } from '@/lib/winback/tracking';

// GET /api/track/winback/:token/open — the open pixel of a win-back email: a 1x1 GIF, and the
// open recorded for its recipient (once). Unknown tokens get the pixel too, and nothing else.
export const GET = withPublic(
  { params: trackingParams },
  { crossOrigin: true, rateLimits: [{ name: 'winback-open-ip', limit: 600, windowSeconds: 60 }] },
  async ({ tx, params }) => {
    await recordTracked(tx, params.token, 'email_open');
    return new Response(PIXEL, { status: 200, headers: { 'content-type': 'image/gif', 'cache-control': 'no-store, private' } });
  },
);
