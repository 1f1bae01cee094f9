import type { BadgeVariant } from '@/components/ui/badge';
import type { Gift, GiftStatus } from '@/lib/gifts/schemas';
import { formatDate, formatDateTime } from '@/lib/format';

export const STATUS_LABELS: Record<GiftStatus, string> = {
  pending: 'Pending',
  delivered: 'Delivered',
  claimed: 'Claimed',
  expired: 'Expired',
  cancelled: 'Cancelled',
};

export const STATUS_VARIANTS: Record<GiftStatus, BadgeVariant> = {
  pending: 'info',
  delivered: 'warning',
  claimed: 'success',
  expired: 'secondary',
  cancelled: 'secondary',
};

/** What the merchant needs to know about where a gift's announcement is, in a line. */
export function deliveryLine(g: Gift): string {
  const a = g.announcement;
  if (g.status === 'claimed') return `Claimed ${formatDate(g.claimedAt ?? g.createdAt)}`;
  if (g.status === 'cancelled') return `Cancelled ${formatDate(g.cancelledAt ?? g.createdAt)}`;
  if (g.status === 'expired') return `Expired ${formatDate(g.expiresAt)}`;
  if (a?.status === 'held') return `Held: ${a.reason ?? 'waiting for the fix'}`;
  if (a?.status === 'failed') return `Failed: ${a.reason ?? 'Klaviyo did not take it'}. Resend to try again`;
  if (g.status === 'delivered') return `${g.deliveredVia === 'link' ? 'Link handed out' : 'Announced by email'} ${formatDate(g.deliveredAt ?? g.createdAt)}`;
  if (a?.status === 'pending' && Date.parse(a.dueAt) > Date.now()) return `Scheduled for ${formatDateTime(a.dueAt)}`;
  if (a?.status === 'pending' && a.reason) return `Sending: ${a.reason}`;
  return 'Sending now';
}

/** Whether the merchant may act on it: resend, hand out a link, cancel. */
export const isOpen = (g: Gift) => (g.status === 'pending' || g.status === 'delivered') && Date.parse(g.expiresAt) > Date.now();
