import type { Metadata } from 'next';
import { LoyaltyMembers } from '@/components/loyalty/members';

export const metadata: Metadata = { title: 'Loyalty members' };

export default function LoyaltyMembersPage() {
  return <LoyaltyMembers />;
}
