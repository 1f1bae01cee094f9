import { describe, expect, it } from 'vitest';
import { klaviyoSyncStatus } from '@/components/segments/sync-status';

const base = { klaviyoSyncError: null, klaviyoSyncDone: 0, klaviyoSyncLeft: 0, lastSyncedAt: null, klaviyoSyncedCount: null };

describe('what a segment says of its Klaviyo list', () => {
  it('shows a round under way as its share sent, with the figures', () => {
    const s = klaviyoSyncStatus({ ...base, klaviyoSyncDone: 120_000, klaviyoSyncLeft: 280_000, lastSyncedAt: '2026-12-01T10:00:00Z', klaviyoSyncedCount: 5 });
    expect(s).toMatchObject({ label: 'Sending to Klaviyo 30%', percent: 30, failed: false });
    expect(s.detail).toMatch(/^120,000 of 400,000 membership changes sent/);
  });

  it('never says 100% while changes are still waiting', () => {
    expect(klaviyoSyncStatus({ ...base, klaviyoSyncDone: 399_999, klaviyoSyncLeft: 1 }).percent).toBe(99);
  });

  it('puts a stopped sync first, whatever its figures', () => {
    const s = klaviyoSyncStatus({ ...base, klaviyoSyncError: 'Klaviyo answered 401', klaviyoSyncLeft: 10 });
    expect(s).toEqual({ label: 'Klaviyo sync stopped', detail: 'Klaviyo answered 401', failed: true, percent: null });
  });

  it('says how many are on the list once a round has ended, and that it waits before the first', () => {
    expect(klaviyoSyncStatus({ ...base, klaviyoSyncDone: 400_000, lastSyncedAt: '2026-12-01T10:00:00Z', klaviyoSyncedCount: 400_000 }).detail)
      .toMatch(/^On the Klaviyo list: 400,000 as of /);
    expect(klaviyoSyncStatus(base).detail).toMatch(/^Waiting for its first sync/);
  });
});
