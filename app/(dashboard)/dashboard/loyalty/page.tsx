import type { Metadata } from 'next';
import { LoyaltyOverview } from '@/components/loyalty/loyalty-overview';

export const metadata: Metadata = { title: 'Loyalty' };

export default function LoyaltyPage() {
  return <LoyaltyOverview />;
}
