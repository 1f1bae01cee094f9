import 'server-only';
import type { CookieJar } from '@/lib/auth/cookies';
import { localProvider } from '@/lib/auth/local';
import { supabaseProvider } from '@/lib/auth/supabase';
import type { AuthProvider, Merchant } from '@/lib/auth/types';
import { supabaseConfig } from '@/lib/env';

export type { Merchant } from '@/lib/auth/types';

/** Supabase Auth when its public env is set, else local email + password. */
export function authProvider(): AuthProvider {
  const config = supabaseConfig();
  return config ? supabaseProvider(config) : localProvider;
}

/** The signed-in merchant for these cookies, or null. The only session check in the app. */
export function getMerchant(jar: CookieJar): Promise<Merchant | null> {
  return authProvider().getMerchant(jar);
}
