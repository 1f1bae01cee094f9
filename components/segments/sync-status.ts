import { formatDateTime, formatNumber } from '@/lib/format';
import type { Segment } from '@/lib/segments/schemas';

export interface SyncStatus {
  /** A few words for a badge. */
  label: string;
  /** The whole state, with its figures. */
  detail: string;
  failed: boolean;
  /** How far this round of sending has come, 0 to 100, while one is under way. */
  percent: number | null;
}

type SyncFields = Pick<Segment, 'klaviyoSyncError' | 'klaviyoSyncDone' | 'klaviyoSyncLeft' | 'lastSyncedAt' | 'klaviyoSyncedCount'>;

/** Where a segment's Klaviyo list stands: stopped, being sent (with its progress), or up to date. */
export function klaviyoSyncStatus(s: SyncFields): SyncStatus {
  if (s.klaviyoSyncError) return { label: 'Klaviyo sync stopped', detail: s.klaviyoSyncError, failed: true, percent: null };
  if (s.klaviyoSyncLeft > 0) {
    const total = s.klaviyoSyncDone + s.klaviyoSyncLeft;
    const percent = Math.floor((s.klaviyoSyncDone / total) * 100);
    return {
      label: `Sending to Klaviyo ${percent}%`,
      detail: `${formatNumber(s.klaviyoSyncDone)} of ${formatNumber(total)} membership changes sent to the Klaviyo list. The rest follow in batches of up to 10,000, at the pace Klaviyo's rate limits allow.`,
      failed: false,
      percent,
    };
  }
  if (s.lastSyncedAt) {
    return {
      label: 'Klaviyo list',
      detail: `On the Klaviyo list: ${formatNumber(s.klaviyoSyncedCount ?? 0)} as of ${formatDateTime(s.lastSyncedAt)}. Membership changes follow within seconds.`,
      failed: false,
      percent: null,
    };
  }
  return { label: 'Klaviyo list', detail: 'Waiting for its first sync: the Klaviyo list is being filled.', failed: false, percent: null };
}
