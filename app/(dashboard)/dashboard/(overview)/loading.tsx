import { LoadingBlock } from '@/components/ui/skeleton';

export default function Loading() {
  return (
    <div className="mx-auto max-w-7xl p-6">
      <LoadingBlock label="Loading page" rows={6} />
    </div>
  );
}
