import { AppError } from '@/lib/errors';
import { errorResponse, json } from '@/lib/api/handler';
import { getMerchant } from '@/lib/auth';
import { applyCookies, cookieJarFromRequest } from '@/lib/auth/cookies';

// GET /api/auth/session -> 200 {user} or 401.
export async function GET(req: Request): Promise<Response> {
  const cookies = cookieJarFromRequest(req);
  try {
    const merchant = await getMerchant(cookies);
    if (!merchant) throw new AppError('unauthorized', 'Not signed in');
    return applyCookies(json({ user: { id: merchant.userId, email: merchant.email } }), cookies);
  } catch (err) {
    return applyCookies(errorResponse(err), cookies);
  }
}
