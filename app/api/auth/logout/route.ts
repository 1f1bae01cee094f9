import { withPublic } from '@/lib/api/handler';
import { authProvider } from '@/lib/auth';

// POST /api/auth/logout -> 200 and the session cookie cleared.
export const POST = withPublic(
  {},
  { rateLimits: [{ name: 'logout', limit: 60, windowSeconds: 60 }] },
  async ({ cookies }) => {
    await authProvider().signOut(cookies);
    return { ok: true };
  },
);
