import type { Metadata } from 'next';
import { LoyaltyReferrals } from '@/components/loyalty/referrals';

export const metadata: Metadata = { title: 'Referrals' };

export default function Page() {
  return <LoyaltyReferrals />;
}
