import type { ComponentProps } from 'react';
import { ChevronDown } from 'lucide-react';
import { cn } from '@/lib/cn';

export type SelectProps = ComponentProps<'select'> & { invalid?: boolean };

/** Styled native select (keeps built-in keyboard and screen-reader support); `invalid` sets aria-invalid. */
export function Select({ invalid = false, className, children, ...props }: SelectProps) {
  return (
    <div className="relative">
      <select
        aria-invalid={invalid || undefined}
        className={cn(
          'block h-10 w-full appearance-none rounded-md border bg-white py-0 pl-3 pr-9 text-sm text-slate-900 shadow-sm',
          'focus-visible:outline-2 focus-visible:outline-offset-1',
          'disabled:cursor-not-allowed disabled:bg-slate-100 disabled:text-slate-500',
          invalid
            ? 'border-red-500 focus-visible:outline-red-600'
            : 'border-slate-300 focus-visible:border-brand-600 focus-visible:outline-brand-600',
          className,
        )}
        {...props}
      >
        {children}
      </select>
      <ChevronDown
        className="pointer-events-none absolute right-3 top-1/2 size-4 -translate-y-1/2 text-slate-500"
        aria-hidden="true"
      />
    </div>
  );
}
