import type { Metadata } from 'next';
import { LoyaltyTiers } from '@/components/loyalty/tiers';

export const metadata: Metadata = { title: 'Tiers' };

export default function Page() {
  return <LoyaltyTiers />;
}
