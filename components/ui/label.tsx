import type { ComponentProps } from 'react';
import { cn } from '@/lib/cn';

/** Styled native label; pass htmlFor to associate it with its control. */
export function Label({ className, ...props }: ComponentProps<'label'>) {
  return <label className={cn('block text-sm font-medium text-slate-800', className)} {...props} />;
}
