import type { ReactNode } from 'react';
import { CircleAlert, RotateCw } from 'lucide-react';
import { cn } from '@/lib/cn';
import { Button } from './button';

export type ErrorStateProps = {
  title?: ReactNode;
  message?: ReactNode;
  onRetry?: () => void;
  retryLabel?: string;
  className?: string;
};

/** Announced (role="alert") error panel with an optional Retry button. */
export function ErrorState({
  title = 'Something went wrong',
  message,
  onRetry,
  retryLabel = 'Retry',
  className,
}: ErrorStateProps) {
  return (
    <div
      role="alert"
      className={cn('flex flex-col items-center justify-center rounded-lg px-6 py-10 text-center', className)}
    >
      <div className="flex size-12 items-center justify-center rounded-full bg-red-50 text-red-700">
        <CircleAlert className="size-6" aria-hidden="true" />
      </div>
      <p className="mt-4 text-base font-semibold text-slate-900">{title}</p>
      {message ? <p className="mt-1 max-w-md text-sm text-slate-600">{message}</p> : null}
      {onRetry ? (
        <Button variant="secondary" size="sm" className="mt-5" onClick={onRetry}>
          <RotateCw className="size-4" aria-hidden="true" />
          {retryLabel}
        </Button>
      ) : null}
    </div>
  );
}
