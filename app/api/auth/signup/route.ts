import { json, withPublic } from '@/lib/api/handler';
import { authProvider } from '@/lib/auth';
import { signupSchema } from '@/lib/auth/schemas';

// POST /api/auth/signup {email, password} -> 201 {user} and a session cookie.
export const POST = withPublic(
  { body: signupSchema },
  { rateLimits: [{ name: 'signup', limit: 10, windowSeconds: 3600 }] },
  async ({ tx, body, cookies }) => {
    const result = await authProvider().signUp(tx, cookies, body.email, body.password);
    return json({ user: { id: result.id, email: result.email }, confirmationRequired: result.merchant === null }, 201);
  },
);
