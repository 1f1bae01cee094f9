import 'server-only';
import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '@/lib/errors';
import { asServer, type Tx } from '@/lib/db';

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

/**
 * A new secret server key for the merchant's backend (checkout calls /api/coupons/validate
 * with it). Only its SHA-256 is stored; the key is shown once. High entropy, so no salt needed.
 */
export async function rotateServerKey(tx: Tx, userId: string): Promise<string> {
  const key = `sk_${randomBytes(24).toString('base64url')}`;
  const updated = await asServer(tx, () => tx`
    update public.merchant_settings set server_key_hash = ${hash(key)}, server_key_last4 = ${key.slice(-4)}
     where user_id = ${userId}`);
  if (updated.count === 0) throw new AppError('not_found', 'Merchant not found');
  await tx`select public.log_activity(${userId}, 'settings.server_key_rotated', 'settings')`;
  return key;
}

/** The merchant owning a server key, or null. */
export async function merchantForServerKey(tx: Tx, key: string): Promise<string | null> {
  if (!/^sk_[A-Za-z0-9_-]{32}$/.test(key)) return null;
  const [row] = await tx<{ userId: string }[]>`select user_id from public.merchant_settings where server_key_hash = ${hash(key)}`;
  return row?.userId ?? null;
}
