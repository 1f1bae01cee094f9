import { Skeleton, LoadingBlock } from '@/components/ui/skeleton';

// Route-level fallback shaped like the segments page (title, list card).
export default function Loading() {
  return (
    <div className="mx-auto w-full max-w-7xl space-y-6 px-4 py-6 sm:px-6 lg:px-8">
      <Skeleton className="h-8 w-40" />
      <LoadingBlock label="Loading segments" rows={4} className="rounded-lg border border-slate-200 bg-white" />
    </div>
  );
}
