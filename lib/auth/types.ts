import type { CookieJar } from '@/lib/auth/cookies';
import type { Tx } from '@/lib/db';

/** The signed-in merchant: one tenant = one auth user. */
export interface Merchant {
  userId: string;
  email: string;
}

/** What both auth providers offer; nothing else in the app knows which one is active. */
export interface AuthProvider {
  name: 'local' | 'supabase';
  getMerchant(jar: CookieJar): Promise<Merchant | null>;
  /**
   * Creates the account; `merchant` is null when the provider wants the email confirmed first.
   * `tx` is the caller's transaction: taking a second connection inside one would let
   * concurrent sign-ins exhaust the pool and wait on each other forever.
   */
  signUp(tx: Tx, jar: CookieJar, email: string, password: string): Promise<{ merchant: Merchant | null; id: string; email: string }>;
  /** Null for wrong credentials (never says which part was wrong). */
  signIn(tx: Tx, jar: CookieJar, email: string, password: string): Promise<Merchant | null>;
  signOut(jar: CookieJar): Promise<void>;
}
