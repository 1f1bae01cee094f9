import { LoadingBlock, Skeleton } from '@/components/ui/skeleton';

// Route-level fallback shaped like the campaigns page (title, stats cards, list card).
export default function Loading() {
  return (
    <div className="mx-auto w-full max-w-7xl space-y-6 px-4 py-6 sm:px-6 lg:px-8">
      <Skeleton className="h-8 w-56" />
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        {Array.from({ length: 4 }, (_, i) => <Skeleton key={i} className="h-24" />)}
      </div>
      <LoadingBlock label="Loading campaigns" rows={6} className="rounded-lg border border-slate-200 bg-white" />
    </div>
  );
}
