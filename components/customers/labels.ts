import {
  Bookmark, CircleX, ClipboardCheck, ClipboardList, CreditCard, Eye, LifeBuoy, MailOpen, Megaphone,
  MousePointerClick, Pin, ShoppingBag, ShoppingCart, Star, UserPlus, type LucideIcon,
} from 'lucide-react';
import type { Channel, Stage, StageTransition, TouchpointType } from '@/lib/customers/schemas';

/** Display names for acquisition channels. */
export const CHANNEL_LABELS: Record<Channel, string> = {
  organic: 'Organic', pinterest: 'Pinterest', email: 'Email', ads: 'Ads',
  direct: 'Direct', referral: 'Referral', social: 'Social',
};

/** Display names for what caused a stage change. */
export const TRIGGER_LABELS: Record<StageTransition['triggerType'], string> = {
  purchase: 'Purchase', refund: 'Refund', cancellation: 'Order cancelled', engagement: 'Engagement', time_based: 'Time based', manual: 'Manual',
};

/** Label and icon per touchpoint type, so the timeline reads at a glance. */
export const TOUCHPOINT_META: Record<TouchpointType, { label: string; icon: LucideIcon }> = {
  page_view: { label: 'Viewed a page', icon: Eye },
  email_open: { label: 'Opened an email', icon: MailOpen },
  email_click: { label: 'Clicked an email', icon: MousePointerClick },
  pin_save: { label: 'Saved a pin', icon: Bookmark },
  pin_click: { label: 'Clicked a pin', icon: Pin },
  ad_click: { label: 'Clicked an ad', icon: Megaphone },
  quiz_start: { label: 'Started the quiz', icon: ClipboardList },
  quiz_complete: { label: 'Completed the quiz', icon: ClipboardCheck },
  lead_capture: { label: 'Signed up', icon: UserPlus },
  cart_add: { label: 'Added to cart', icon: ShoppingCart },
  checkout_start: { label: 'Started checkout', icon: CreditCard },
  checkout_abandon: { label: 'Abandoned checkout', icon: CircleX },
  purchase: { label: 'Purchased', icon: ShoppingBag },
  review: { label: 'Left a review', icon: Star },
  support_ticket: { label: 'Opened a support ticket', icon: LifeBuoy },
};

/** Badge and bar colours per stage: one hue each so stages are told apart in lists and charts. */
export const STAGE_COLORS: Record<Stage, { badge: string; bar: string }> = {
  visitor: { badge: 'bg-slate-100 text-slate-700 ring-slate-300', bar: 'bg-slate-400' },
  lead: { badge: 'bg-sky-50 text-sky-800 ring-sky-200', bar: 'bg-sky-500' },
  prospect: { badge: 'bg-indigo-50 text-indigo-800 ring-indigo-200', bar: 'bg-indigo-500' },
  customer: { badge: 'bg-emerald-50 text-emerald-800 ring-emerald-200', bar: 'bg-emerald-500' },
  repeat: { badge: 'bg-brand-50 text-brand-800 ring-brand-200', bar: 'bg-brand-600' },
  vip: { badge: 'bg-violet-50 text-violet-800 ring-violet-200', bar: 'bg-violet-500' },
  at_risk: { badge: 'bg-amber-50 text-amber-900 ring-amber-300', bar: 'bg-amber-500' },
  churned: { badge: 'bg-red-50 text-red-800 ring-red-200', bar: 'bg-red-500' },
};

/** "Ada Lovelace", or null when the customer has no name on file. */
export function customerName(c: { firstName: string | null; lastName: string | null }): string | null {
  const name = [c.firstName, c.lastName].filter((p) => p && p.trim() !== '').join(' ');
  return name === '' ? null : name;
}

/** How a customer is named in lists and titles: an erased one by what happened, not by their placeholder address. */
export function customerEmailLabel(c: { email: string; erasedAt: string | null }): string {
  return c.erasedAt ? 'Erased customer' : c.email;
}
