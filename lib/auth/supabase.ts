import { createServerClient, type CookieOptions as SupabaseCookieOptions } from '@supabase/ssr';
import type { SupabaseClient, SupabaseClientOptions } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { AppError } from '@/lib/errors';
import type { CookieJar } from '@/lib/auth/cookies';
import type { AuthProvider, Merchant } from '@/lib/auth/types';

type Transport = NonNullable<NonNullable<SupabaseClientOptions<'public'>['realtime']>['transport']>;
// Node 20 has no global WebSocket and the client builds a realtime socket even if unused.
// ws implements the same interface; only its event typings differ from the DOM's.
const nodeWebSocket = WebSocket as unknown as Transport;

/** A Supabase client reading and writing the session through the request's cookie jar. */
export function supabaseForJar(config: { url: string; key: string }, jar: CookieJar): SupabaseClient {
  return createServerClient(config.url, config.key, {
    cookies: {
      getAll: () => jar.getAll(),
      setAll: (cookies: { name: string; value: string; options: SupabaseCookieOptions }[]) => {
        for (const c of cookies) {
          const sameSite = c.options.sameSite;
          jar.set(c.name, c.value, {
            path: c.options.path,
            maxAge: c.options.maxAge,
            expires: c.options.expires,
            domain: c.options.domain,
            httpOnly: c.options.httpOnly,
            secure: c.options.secure,
            sameSite: sameSite === 'lax' || sameSite === 'strict' || sameSite === 'none' || typeof sameSite === 'boolean' ? sameSite : undefined,
          });
        }
      },
    },
    realtime: { transport: nodeWebSocket },
  });
}

function toMerchant(user: { id: string; email?: string | null } | null): Merchant | null {
  return user && user.email ? { userId: user.id, email: user.email } : null;
}

/** Supabase Auth through @supabase/ssr; the session lives in Supabase's cookies. */
export function supabaseProvider(config: { url: string; key: string }): AuthProvider {
  return {
    name: 'supabase',
    async getMerchant(jar) {
      const { data, error } = await supabaseForJar(config, jar).auth.getUser();
      return error ? null : toMerchant(data.user);
    },
    async signUp(_tx, jar, email, password) {
      const { data, error } = await supabaseForJar(config, jar).auth.signUp({ email, password });
      if (error || !data.user) {
        const taken = error?.code === 'user_already_exists' || error?.code === 'email_exists';
        throw new AppError(taken ? 'conflict' : 'bad_request', taken ? 'An account with that email already exists' : 'Could not create the account', { field: 'email' });
      }
      return { merchant: data.session ? toMerchant(data.user) : null, id: data.user.id, email: data.user.email ?? email };
    },
    async signIn(_tx, jar, email, password) {
      const { data, error } = await supabaseForJar(config, jar).auth.signInWithPassword({ email, password });
      return error ? null : toMerchant(data.user);
    },
    async signOut(jar) {
      await supabaseForJar(config, jar).auth.signOut();
    },
  };
}
