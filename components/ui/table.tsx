import type { ComponentProps } from 'react';
import { cn } from '@/lib/cn';

export type TableProps = ComponentProps<'table'> & { wrapperClassName?: string };

/** Native table inside a horizontally scrollable wrapper so wide tables never break small layouts. */
export function Table({ className, wrapperClassName, ...props }: TableProps) {
  return (
    // relative: screen-reader-only cells (position: absolute) stay inside the scroll box instead
    // of widening the page on a phone.
    <div className={cn('relative w-full overflow-x-auto', wrapperClassName)}>
      <table className={cn('w-full border-collapse text-left text-sm', className)} {...props} />
    </div>
  );
}

/** Table head with a subtle background. */
export function THead({ className, ...props }: ComponentProps<'thead'>) {
  return <thead className={cn('border-b border-slate-200 bg-slate-50', className)} {...props} />;
}

/** Table body with row dividers. */
export function TBody({ className, ...props }: ComponentProps<'tbody'>) {
  return <tbody className={cn('divide-y divide-slate-200', className)} {...props} />;
}

/** Table row. */
export function TR({ className, ...props }: ComponentProps<'tr'>) {
  return <tr className={cn('hover:bg-slate-50/60', className)} {...props} />;
}

/** Header cell; defaults to scope="col" for correct header association. */
export function TH({ className, scope = 'col', ...props }: ComponentProps<'th'>) {
  return (
    <th
      scope={scope}
      className={cn(
        'whitespace-nowrap px-4 py-2.5 text-xs font-semibold uppercase tracking-wide text-slate-600',
        className,
      )}
      {...props}
    />
  );
}

/** Data cell. */
export function TD({ className, ...props }: ComponentProps<'td'>) {
  return <td className={cn('px-4 py-3 align-middle text-slate-800', className)} {...props} />;
}
