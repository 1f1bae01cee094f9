import type { ReactNode } from 'react';
import { cn } from '@/lib/cn';

/** Decorative pulsing placeholder; hidden from assistive tech. */
export function Skeleton({ className }: { className?: string }) {
  return <div aria-hidden="true" className={cn('animate-pulse rounded-md bg-slate-200', className)} />;
}

/** Stack of row-shaped skeletons approximating a table or list. */
export function SkeletonRows({ rows = 5, className }: { rows?: number; className?: string }) {
  return (
    <div aria-hidden="true" className={cn('space-y-3', className)}>
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="flex items-center gap-4">
          <Skeleton className="h-4 w-1/4" />
          <Skeleton className="h-4 flex-1" />
          <Skeleton className="h-4 w-16" />
        </div>
      ))}
    </div>
  );
}

/** Loading region announced to screen readers (role="status") with skeleton visuals. */
export function LoadingBlock({
  label = 'Loading',
  rows = 5,
  className,
  children,
}: {
  label?: string;
  rows?: number;
  className?: string;
  children?: ReactNode;
}) {
  return (
    <div role="status" aria-live="polite" className={cn('p-4', className)}>
      <span className="sr-only">{label}</span>
      {children ?? <SkeletonRows rows={rows} />}
    </div>
  );
}
