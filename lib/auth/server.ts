import 'server-only';
import { cookies } from 'next/headers';
import { getMerchant, type Merchant } from '@/lib/auth';
import { createCookieJar } from '@/lib/auth/cookies';

/** The signed-in merchant in a server component (cookies are read-only there; proxy.ts refreshes). */
export async function currentMerchant(): Promise<Merchant | null> {
  const store = await cookies();
  return getMerchant(createCookieJar(store.getAll().map((c) => ({ name: c.name, value: c.value }))));
}
