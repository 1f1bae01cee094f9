import { describe, expect, it } from 'vitest';
import { safeNextPath } from '@/lib/auth/redirect';

describe('safeNextPath (no open redirect)', () => {
  it.each(['/dashboard/settings', '/dashboard/customers?stage=at_risk', '/dashboard#x'])('keeps the local path %s', (p) => {
    expect(safeNextPath(p)).toBe(p);
  });

  it.each([
    'https://evil.example', '//evil.example', '/\\evil.example', '/.//evil.example/x', '/..//evil.example',
    '/%2e//evil.example', '/./\\evil.example', 'javascript:alert(1)', '', undefined, null, 'dashboard',
  ])('refuses %s', (p) => {
    const out = safeNextPath(p);
    expect(out).toBe('/dashboard');
  });
});
