import { randomBytes } from 'node:crypto';

// 31 symbols without look-alikes (no 0/O, 1/I/L).
const SAFE = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/** `PREFIX-XXXXXXXXXX`: 10 characters from a cryptographic source (about 49.5 bits). */
export function generateCode(prefix: string, length = 10): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    // Rejection sampling keeps every symbol equally likely (248 = 31 * 8).
    if (b < 248) out += SAFE[b % SAFE.length];
  }
  return out.length === length ? `${prefix}-${out}` : generateCode(prefix, length);
}
