import type { Metadata } from 'next';
import { CustomerDetail } from '@/components/customers/customer-detail';

export const metadata: Metadata = { title: 'Customer' };

// params is a Promise in Next 16; the layout has checked the customer exists, and the client
// component fetches the journey itself.
export default async function CustomerPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <CustomerDetail id={id} />;
}
