import { LoadingBlock, Skeleton } from '@/components/ui/skeleton';

// Route-level fallback shaped like the coupons page (title, stats cards, list card).
export default function Loading() {
  return (
    <div className="mx-auto w-full max-w-7xl space-y-6 px-4 py-6 sm:px-6 lg:px-8">
      <Skeleton className="h-8 w-40" />
      <div className="grid grid-cols-2 gap-3 sm:gap-4 md:grid-cols-3 lg:grid-cols-5">
        {Array.from({ length: 5 }, (_, i) => <Skeleton key={i} className="h-24" />)}
      </div>
      <LoadingBlock label="Loading coupons" rows={6} className="rounded-lg border border-slate-200 bg-white" />
    </div>
  );
}
