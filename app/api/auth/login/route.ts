import { AppError } from '@/lib/errors';
import { withPublic } from '@/lib/api/handler';
import { authProvider } from '@/lib/auth';
import { isKnownDevice, rememberDevice } from '@/lib/auth/device';
import { loginSchema } from '@/lib/auth/schemas';

/**
 * POST /api/auth/login {email, password} -> 200 {user} and a session cookie; one message for any miss.
 *
 * Guessing is slowed without locking the owner out: attempts per address; failed attempts per
 * email and address (5 in 15 minutes); and failed attempts per email from anywhere (50 an hour),
 * which a browser that has signed in to the account before is not held to.
 */
export const POST = withPublic(
  { body: loginSchema },
  {
    rateLimits: [
      { name: 'login', limit: 20, windowSeconds: 300 },
      { name: 'login-fail-pair', limit: 5, windowSeconds: 900, failuresOnly: true, subject: (body, ip) => `${body.email}|${ip}` },
      {
        name: 'login-fail-email', limit: 50, windowSeconds: 3600, failuresOnly: true, subject: (body) => body.email,
        skip: (body, cookies) => isKnownDevice(cookies, body.email),
      },
    ],
  },
  async ({ tx, body, cookies }) => {
    const merchant = await authProvider().signIn(tx, cookies, body.email, body.password);
    if (!merchant) throw new AppError('unauthorized', 'Incorrect email or password');
    rememberDevice(cookies, body.email);
    return { user: { id: merchant.userId, email: merchant.email } };
  },
);
