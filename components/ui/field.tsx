import type { ReactNode } from 'react';
import { cn } from '@/lib/cn';
import { Label } from './label';

export type FieldProps = {
  label: ReactNode;
  htmlFor: string;
  hint?: ReactNode;
  error?: ReactNode;
  required?: boolean;
  className?: string;
  children: ReactNode;
};

/** Returns the ids Field renders for hint/error so controls can reference them via aria-describedby. */
export function fieldDescribedBy(htmlFor: string, opts: { hint?: boolean; error?: boolean }): string | undefined {
  const ids = [opts.hint ? `${htmlFor}-hint` : null, opts.error ? `${htmlFor}-error` : null].filter(
    (id): id is string => id !== null,
  );
  return ids.length > 0 ? ids.join(' ') : undefined;
}

/** Label + control + hint + error; hint id is `${htmlFor}-hint`, error id is `${htmlFor}-error` (role="alert"). */
export function Field({ label, htmlFor, hint, error, required = false, className, children }: FieldProps) {
  return (
    <div className={cn('space-y-1.5', className)}>
      <Label htmlFor={htmlFor}>
        {label}
        {required ? (
          <span className="ml-0.5 text-red-600" aria-hidden="true">
            *
          </span>
        ) : null}
      </Label>
      {children}
      {hint ? (
        <p id={`${htmlFor}-hint`} className="text-xs text-slate-600">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${htmlFor}-error`} role="alert" className="text-xs font-medium text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}
