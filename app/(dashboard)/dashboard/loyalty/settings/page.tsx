import type { Metadata } from 'next';
import { LoyaltyProgramSettings } from '@/components/loyalty/program-settings';

export const metadata: Metadata = { title: 'Loyalty settings' };

export default function Page() {
  return <LoyaltyProgramSettings />;
}
