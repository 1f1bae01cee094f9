import { Award, Filter, Gift, Home, RotateCcw, Settings, Tag, Users, type LucideIcon } from 'lucide-react';

export interface NavItem {
  href: string;
  label: string;
  icon: LucideIcon;
}

/** Dashboard navigation; each module adds its pages here as it lands. */
export const NAV_ITEMS: NavItem[] = [
  { href: '/dashboard', label: 'Overview', icon: Home },
  { href: '/dashboard/customers', label: 'Customers', icon: Users },
  { href: '/dashboard/customers/segments', label: 'Segments', icon: Filter },
  { href: '/dashboard/loyalty', label: 'Loyalty', icon: Award },
  { href: '/dashboard/campaigns/winback', label: 'Win-back', icon: RotateCcw },
  { href: '/dashboard/campaigns/coupons', label: 'Coupons', icon: Tag },
  { href: '/dashboard/gifts', label: 'Gifts', icon: Gift },
  { href: '/dashboard/settings', label: 'Settings', icon: Settings },
];

function matches(pathname: string, href: string): boolean {
  return href === '/dashboard' ? pathname === href : pathname === href || pathname.startsWith(`${href}/`);
}

/** The href of the nav item to highlight: the longest (most specific) match, so nested items do not light up their parent. */
export function activeNavHref(pathname: string, items: NavItem[] = NAV_ITEMS): string | null {
  let best: string | null = null;
  for (const item of items) {
    if (matches(pathname, item.href) && (best === null || item.href.length > best.length)) best = item.href;
  }
  return best;
}
