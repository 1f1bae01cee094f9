import type { BadgeVariant } from '@/components/ui/badge';
import { formatMoney, formatNumber } from '@/lib/format';
import type { Campaign, CampaignStatus, IncentiveType } from '@/lib/winback/schemas';

export const STATUS_LABELS: Record<CampaignStatus, string> = { draft: 'Draft', active: 'Active', paused: 'Paused', completed: 'Completed' };
export const STATUS_VARIANTS: Record<CampaignStatus, BadgeVariant> = { draft: 'secondary', active: 'success', paused: 'warning', completed: 'info' };

export const INCENTIVE_LABELS: Record<IncentiveType, string> = {
  none: 'No incentive',
  percentage_discount: 'Percentage off (a code each)',
  fixed_discount: 'Amount off (a code each)',
  free_shipping: 'Free shipping (a code each)',
  points: 'Bonus loyalty points',
};

export const RECIPIENT_LABELS: Record<string, string> = {
  pending: 'Waiting to send',
  control: 'Held back (control)',
  sent: 'Sent',
  opened: 'Opened',
  clicked: 'Clicked',
  recovered: 'Recovered',
  cancelled: 'Came back first',
  unsubscribed: 'Unsubscribed',
  expired: 'Expired',
};

export const RECIPIENT_VARIANTS: Record<string, BadgeVariant> = {
  pending: 'secondary', control: 'info', sent: 'default', opened: 'default', clicked: 'default', recovered: 'success',
  cancelled: 'secondary', unsubscribed: 'warning', expired: 'secondary',
};

export const STAGE_LABELS: Record<string, string> = { at_risk: 'At risk', churned: 'Churned' };

export function describeIncentive(c: Pick<Campaign, 'incentiveType' | 'incentiveValue'>): string {
  switch (c.incentiveType) {
    case 'percentage_discount': return `${formatNumber(c.incentiveValue ?? 0)}% off`;
    case 'fixed_discount': return `${formatMoney(c.incentiveValue ?? 0)} off`;
    case 'free_shipping': return 'Free shipping';
    case 'points': return `${formatNumber(c.incentiveValue ?? 0)} points`;
    default: return 'No incentive';
  }
}
