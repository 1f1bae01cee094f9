import { randomBytes } from 'node:crypto';
import { createLocalUser, SESSION_COOKIE, signSessionToken } from '@/lib/auth/local';
import { withSystem } from '@/lib/db';

export interface TestMerchant {
  userId: string;
  email: string;
  /** Cookie header carrying a valid session. */
  cookie: string;
}

/** A merchant account with a session, created through the real local auth code. */
export async function createMerchant(label = 'merchant'): Promise<TestMerchant> {
  const email = `${label}-${randomBytes(4).toString('hex')}@example.test`;
  const merchant = await withSystem((tx) => createLocalUser(tx, email, 'correct horse battery'));
  if (!merchant) throw new Error('could not create test merchant');
  const token = await signSessionToken(merchant);
  return { userId: merchant.userId, email, cookie: `${SESSION_COOKIE}=${token}` };
}
