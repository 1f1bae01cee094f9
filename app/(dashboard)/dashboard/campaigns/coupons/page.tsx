import type { Metadata } from 'next';
import { CouponsManager } from '@/components/coupons/coupons-manager';

export const metadata: Metadata = { title: 'Coupons' };

// The manager renders the page container itself: its header buttons open the create and bulk modals.
export default function CouponsPage() {
  return <CouponsManager />;
}
