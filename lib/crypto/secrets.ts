import 'server-only';
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '@/lib/errors';
import { env } from '@/lib/env';

const VERSION = 'v1';

/** The AES-256 key from APP_ENCRYPTION_KEY; refuses to work without one. */
export function encryptionKey(): Buffer {
  const raw = env().APP_ENCRYPTION_KEY;
  if (!raw) throw new AppError('not_configured', 'Secret storage is not configured (APP_ENCRYPTION_KEY)');
  return Buffer.from(raw, 'base64');
}

/**
 * AES-256-GCM with a random 96-bit IV. `context` (merchant id and purpose) is bound as
 * associated data, so a ciphertext copied to another merchant's row does not decrypt.
 */
export function encryptSecret(plaintext: string, context: string, key: Buffer = encryptionKey()): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${VERSION}.${Buffer.concat([iv, tag, ct]).toString('base64url')}`;
}

/** Inverse of encryptSecret; throws if the value was tampered with or belongs elsewhere. */
export function decryptSecret(payload: string, context: string, key: Buffer = encryptionKey()): string {
  const [version, body] = payload.split('.');
  if (version !== VERSION || !body) throw new Error('Unknown secret format');
  const raw = Buffer.from(body, 'base64url');
  if (raw.length < 28) throw new Error('Secret is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12), { authTagLength: 16 });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

/** Compare two secrets in constant time, whatever their lengths. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
