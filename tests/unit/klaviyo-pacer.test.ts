import { describe, expect, it } from 'vitest';
import { readRate, retryAfterMs } from '@/lib/klaviyo/client';
import { Pacer } from '@/lib/klaviyo/pacer';

describe('pacing requests under Klaviyo limits', () => {
  it('lets a burst through per second and says how long to wait past it', () => {
    const p = new Pacer({ burstPerSecond: 3, steadyPerMinute: 100 });
    const t = 1_000_000_000_000; // on a second boundary
    expect([p.reserve('a', t), p.reserve('a', t + 1), p.reserve('a', t + 2)]).toEqual([0, 0, 0]);
    expect(p.reserve('a', t + 250)).toBe(750);
    // Another merchant has its own windows.
    expect(p.reserve('b', t + 250)).toBe(0);
    expect(p.reserve('a', t + 1000)).toBe(0);
  });

  it('keeps to the steady minute, taking its limit from Klaviyo\'s headers', () => {
    const p = new Pacer({ burstPerSecond: 100, steadyPerMinute: 1000 });
    const t = 60_000 * 20_000_000;
    p.observe('a', { limit: 2, remaining: 1, resetSeconds: 59 }, t);
    expect(p.reserve('a', t)).toBe(0);
    expect(p.reserve('a', t + 1)).toBe(0);
    expect(p.reserve('a', t + 2000)).toBe(58_000);
    expect(p.reserve('a', t + 60_000)).toBe(0);
  });

  it('waits out a window Klaviyo says is spent, and a Retry-After', () => {
    const p = new Pacer();
    const t = 5_000_000;
    p.observe('a', { limit: 3500, remaining: 0, resetSeconds: 12 }, t);
    expect(p.reserve('a', t)).toBe(12_000);
    p.block('b', t + 3000);
    expect(p.reserve('b', t)).toBe(3000);
    expect(p.reserve('b', t + 3000)).toBe(0);
  });
});

describe('reading Klaviyo\'s answers', () => {
  it('reads Retry-After as seconds or a date, and a missing or odd one as 1 s', () => {
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs(new Date(10_000 + 4000).toUTCString(), 10_000)).toBeGreaterThanOrEqual(3000);
    expect(retryAfterMs(null)).toBe(1000);
    expect(retryAfterMs('soon')).toBe(1000);
    expect(retryAfterMs('999999')).toBe(3_600_000);
  });

  it('reads the RateLimit headers, including the list form', () => {
    const h = new Headers({ 'RateLimit-Limit': '3500, 3500;w=60', 'RateLimit-Remaining': '12', 'RateLimit-Reset': '41' });
    expect(readRate(h)).toEqual({ limit: 3500, remaining: 12, resetSeconds: 41 });
    expect(readRate(new Headers())).toEqual({ limit: null, remaining: null, resetSeconds: null });
  });
});
