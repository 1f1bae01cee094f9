import { Skeleton, LoadingBlock } from '@/components/ui/skeleton';

// Route-level fallback shaped like the customer list (filters, then a table).
export default function Loading() {
  return (
    <div className="mx-auto w-full max-w-7xl px-4 py-6 sm:px-6 lg:px-8">
      <Skeleton className="mb-6 h-8 w-48" />
      <Skeleton className="mb-4 h-16 w-full" />
      <LoadingBlock label="Loading customers" rows={10} className="rounded-lg border border-slate-200 bg-white" />
    </div>
  );
}
