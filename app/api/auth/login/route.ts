import { AppError } from '@/lib/errors';
import { withPublic } from '@/lib/api/handler';
import { authProvider } from '@/lib/auth';
import { loginSchema } from '@/lib/auth/schemas';

// POST /api/auth/login {email, password} -> 200 {user} and a session cookie; one message for any miss.
export const POST = withPublic(
  { body: loginSchema },
  {
    rateLimits: [
      { name: 'login', limit: 20, windowSeconds: 300 },
      // Per account as well: spreading guesses over many addresses does not help.
      { name: 'login-email', limit: 10, windowSeconds: 900, subject: (body) => body.email },
    ],
  },
  async ({ tx, body, cookies }) => {
    const merchant = await authProvider().signIn(tx, cookies, body.email, body.password);
    if (!merchant) throw new AppError('unauthorized', 'Incorrect email or password');
    return { user: { id: merchant.userId, email: merchant.email } };
  },
);
