import type { Metadata } from 'next';
import { LoyaltyRewards } from '@/components/loyalty/rewards';

export const metadata: Metadata = { title: 'Rewards' };

export default function Page() {
  return <LoyaltyRewards />;
}
