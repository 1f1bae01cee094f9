import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { LoyaltyMemberDetail } from '@/components/loyalty/member-detail';

export const metadata: Metadata = { title: 'Loyalty member' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function LoyaltyMemberPage({ params }: { params: Promise<{ customerId: string }> }) {
  const { customerId } = await params;
  if (!UUID.test(customerId)) notFound();
  return <LoyaltyMemberDetail customerId={customerId} />;
}
