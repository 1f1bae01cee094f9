import { NextResponse, type NextRequest } from 'next/server';
import { createCookieJar } from '@/lib/auth/cookies';
import { SESSION_COOKIE } from '@/lib/auth/constants';
import { supabaseForJar } from '@/lib/auth/supabase';
import { supabaseConfig } from '@/lib/env';

/**
 * Convenience, not the security boundary (the dashboard layout and every route handler check
 * the session): sends signed-out visitors to /login with `next`, and refreshes a Supabase
 * session so its cookies stay current.
 */
export async function proxy(req: NextRequest): Promise<NextResponse> {
  const config = supabaseConfig();
  const jar = createCookieJar(req.cookies.getAll().map((c) => ({ name: c.name, value: c.value })));
  let signedIn: boolean;
  if (config) {
    const { data } = await supabaseForJar(config, jar).auth.getUser();
    signedIn = data.user !== null;
  } else {
    signedIn = jar.get(SESSION_COOKIE) !== undefined;
  }

  if (!signedIn && req.nextUrl.pathname.startsWith('/dashboard')) {
    const url = req.nextUrl.clone();
    url.pathname = '/login';
    url.search = `?next=${encodeURIComponent(`${req.nextUrl.pathname}${req.nextUrl.search}`)}`;
    return NextResponse.redirect(url);
  }
  // A refreshed Supabase session goes to this request's handlers (so they do not refresh the
  // token a second time) and to the browser.
  const refreshed = jar.pending();
  for (const c of refreshed) req.cookies.set(c.name, c.value);
  const res = refreshed.length > 0 ? NextResponse.next({ request: req }) : NextResponse.next();
  for (const c of refreshed) res.cookies.set(c.name, c.value, c.options);
  return res;
}

export const config = {
  matcher: ['/dashboard/:path*', '/login', '/signup'],
};
