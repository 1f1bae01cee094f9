import { Filter } from 'lucide-react';
import type { Metadata } from 'next';
import Link from 'next/link';
import { Suspense } from 'react';
import { CustomersList } from '@/components/customers/customers-list';
import { PageContainer } from '@/components/layout/page-container';
import { LoadingBlock } from '@/components/ui/skeleton';

export const metadata: Metadata = { title: 'Customers' };

export default function CustomersPage() {
  return (
    <PageContainer
      title="Customers"
      description="Everyone who has visited, signed up or bought, with where they are in their journey."
      actions={
        <Link href="/dashboard/customers/segments"
          className="inline-flex h-10 items-center gap-2 rounded-md border border-slate-300 bg-white px-4 text-sm font-medium text-slate-800 shadow-sm hover:bg-slate-50">
          <Filter className="size-4" aria-hidden="true" />
          Segments
        </Link>
      }
    >
      {/* useSearchParams needs a Suspense boundary in Next 16. */}
      <Suspense fallback={<LoadingBlock label="Loading customers" rows={10} />}>
        <CustomersList />
      </Suspense>
    </PageContainer>
  );
}
