import { withMerchant, withServerKey, type RouteContext } from '@/lib/api/handler';
import { couponValidate } from '@/lib/coupons/schemas';
import { validateCoupon } from '@/lib/coupons/service';
import { merchantForServerKey } from '@/lib/settings/server-key';

const bySession = withMerchant({ body: couponValidate }, ({ tx, merchant, body }) => validateCoupon(tx, merchant.userId, body));
const byServerKey = withServerKey({ body: couponValidate }, merchantForServerKey, ({ tx, userId, body }) =>
  validateCoupon(tx, userId, body));

// POST /api/coupons/validate {code, email, cartTotal, quantity?, productIds?} -> {valid, reason?, message?, discountAmount?}
// From the dashboard (session) or a checkout backend (Authorization: Bearer sk_...).
export function POST(req: Request, ctx: RouteContext): Promise<Response> {
  return req.headers.get('authorization')?.startsWith('Bearer ') ? byServerKey(req, ctx) : bySession(req, ctx);
}
