import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, safeEqual } from '@/lib/crypto/secrets';

const key = Buffer.alloc(32, 1);

describe('secret encryption', () => {
  it('round-trips and uses a fresh IV each time', () => {
    const a = encryptSecret('pk_secret_value', 'm1:klaviyo', key);
    const b = encryptSecret('pk_secret_value', 'm1:klaviyo', key);
    expect(a).not.toBe(b);
    expect(decryptSecret(a, 'm1:klaviyo', key)).toBe('pk_secret_value');
  });

  it('refuses another context, another key, and a flipped bit', () => {
    const c = encryptSecret('pk_secret_value', 'm1:klaviyo', key);
    expect(() => decryptSecret(c, 'm2:klaviyo', key)).toThrow();
    expect(() => decryptSecret(c, 'm1:klaviyo', Buffer.alloc(32, 2))).toThrow();
    const raw = Buffer.from(c.slice(3), 'base64url');
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    expect(() => decryptSecret(`v1.${raw.toString('base64url')}`, 'm1:klaviyo', key)).toThrow();
  });

  it('compares secrets of any length', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'abc')).toBe(false);
  });
});
