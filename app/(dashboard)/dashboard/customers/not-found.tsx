import { UserX } from 'lucide-react';
import Link from 'next/link';
import { EmptyState } from '@/components/ui/empty-state';
import { PageContainer } from '@/components/layout/page-container';

export default function CustomerNotFound() {
  return (
    <PageContainer title="Customer not found">
      <EmptyState icon={UserX} title="This customer does not exist"
        description="The link may be mistyped, or the customer was erased at their request."
        action={<Link href="/dashboard/customers" className="text-sm font-medium text-brand-700 underline underline-offset-4">Back to customers</Link>} />
    </PageContainer>
  );
}
