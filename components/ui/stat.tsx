'use client';

import { Info } from 'lucide-react';
import { useId, useState, type ReactNode } from 'react';
import type { LucideIcon } from 'lucide-react';
import { cn } from '@/lib/cn';

export type StatProps = {
  label: string;
  value: ReactNode;
  /**
   * What the figure counts and over which period, in one line. Required: a number a merchant
   * cannot look up the meaning of is a number they cannot act on.
   */
  definition: string;
  hint?: ReactNode;
  icon?: LucideIcon;
  className?: string;
};

/** KPI card: label, prominent value, optional hint, and its definition one click (or Enter) away. */
export function Stat({ label, value, definition, hint, icon: Icon, className }: StatProps) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <div className={cn('rounded-lg border border-slate-200 bg-white p-5 shadow-sm', className)}>
      <div className="flex items-start justify-between gap-3">
        <div className="flex min-w-0 items-center gap-1">
          <p className="text-sm font-medium text-slate-600">{label}</p>
          <button type="button" onClick={() => setOpen((o) => !o)} aria-expanded={open} aria-controls={id}
            aria-label={`What “${label}” means`}
            className="rounded p-0.5 text-slate-500 hover:text-slate-800 focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-brand-600">
            <Info className="size-3.5" aria-hidden="true" />
          </button>
        </div>
        {Icon ? (
          <span className="flex size-8 shrink-0 items-center justify-center rounded-md bg-brand-50 text-brand-700">
            <Icon className="size-4" aria-hidden="true" />
          </span>
        ) : null}
      </div>
      <p className="mt-2 text-2xl font-semibold tracking-tight text-slate-900 tabular-nums">{value}</p>
      {hint ? <p className="mt-1 text-xs text-slate-600">{hint}</p> : null}
      <p id={id} hidden={!open} data-testid="stat-definition" className="mt-2 border-t border-slate-100 pt-2 text-xs text-slate-700">
        {definition}
      </p>
    </div>
  );
}
