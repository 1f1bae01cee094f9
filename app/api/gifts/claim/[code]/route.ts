import { withPublic } from '@/lib/api/handler';
import { canonicalGiftCode } from '@/lib/gifts/codes';
import { claimBody, claimParams } from '@/lib/gifts/schemas';
import { claimGift, publicGift } from '@/lib/gifts/service';

// The public claim page's API: no session, the code is the credential. Every code that is not
// one gets the same 404 after the same lookup. Guessing is limited per address (failed lookups,
// and every claim) and per code (claims, a minute and a day), with 429 and Retry-After.
const byCode = (params: { code: string }) => canonicalGiftCode(params.code) ?? params.code;

// GET /api/gifts/claim/:code -> {gift: {storeName, status, expiresAt, from?, message?, value?, currency?}}; never an email.
export const GET = withPublic(
  { params: claimParams },
  { rateLimits: [{ name: 'gift-lookup-ip', limit: 10, windowSeconds: 60, subject: (_b, ip) => ip, failuresOnly: true }] },
  async ({ tx, params }) => ({ gift: await publicGift(tx, params.code) }),
);

// POST /api/gifts/claim/:code {email} -> {gift, coupon, again}: claimed for the address it was sent to.
export const POST = withPublic(
  { params: claimParams, body: claimBody },
  {
    rateLimits: [
      { name: 'gift-claim-ip', limit: 10, windowSeconds: 60 },
      // Per code, refused claims only (a claim that succeeds gives its hit back): a link that
      // leaked gives its holder a few guesses at the recipient's address, not thousands. The
      // recipient it locks out meanwhile can be sent a new link (a new code, a new count).
      { name: 'gift-claim-code', limit: 10, windowSeconds: 60, subject: (_b, _ip, params) => byCode(params), failuresOnly: true },
      { name: 'gift-claim-code-day', limit: 30, windowSeconds: 86_400, subject: (_b, _ip, params) => byCode(params), failuresOnly: true },
    ],
  },
  async ({ tx, params, body }) => claimGift(tx, params.code, body.email),
);
