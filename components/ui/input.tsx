import type { ComponentProps } from 'react';
import { cn } from '@/lib/cn';

export type InputProps = ComponentProps<'input'> & { invalid?: boolean };

/** Styled native input; `invalid` sets aria-invalid and a red border. */
export function Input({ invalid = false, className, ...props }: InputProps) {
  return (
    <input
      aria-invalid={invalid || undefined}
      className={cn(
        'block h-10 w-full rounded-md border bg-white px-3 text-sm text-slate-900 shadow-sm placeholder:text-slate-400',
        'focus-visible:outline-2 focus-visible:outline-offset-1',
        'disabled:cursor-not-allowed disabled:bg-slate-100 disabled:text-slate-500',
        invalid
          ? 'border-red-500 focus-visible:outline-red-600'
          : 'border-slate-300 focus-visible:border-brand-600 focus-visible:outline-brand-600',
        className,
      )}
      {...props}
    />
  );
}
