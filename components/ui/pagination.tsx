import { ChevronLeft, ChevronRight } from 'lucide-react';
import { Button } from '@/components/ui/button';
import { cn } from '@/lib/cn';
import { formatNumber } from '@/lib/format';

export type PaginationProps = {
  offset: number;
  limit: number;
  total: number;
  onChange: (offset: number) => void;
  label?: string;
  disabled?: boolean;
  className?: string;
};

/** Previous/Next with a "1–20 of 2,000" range; the range is announced when it changes. */
export function Pagination({ offset, limit, total, onChange, label = 'Pagination', disabled = false, className }: PaginationProps) {
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  return (
    <nav aria-label={label} className={cn('flex flex-wrap items-center justify-between gap-3', className)}>
      <p className="text-sm text-slate-600 tabular-nums" aria-live="polite">
        {formatNumber(from)}–{formatNumber(to)} of {formatNumber(total)}
      </p>
      <div className="flex gap-2">
        <Button variant="secondary" size="sm" disabled={disabled || offset <= 0} onClick={() => onChange(Math.max(offset - limit, 0))}>
          <ChevronLeft className="size-4" aria-hidden="true" />
          Previous
        </Button>
        <Button variant="secondary" size="sm" disabled={disabled || offset + limit >= total} onClick={() => onChange(offset + limit)}>
          Next
          <ChevronRight className="size-4" aria-hidden="true" />
        </Button>
      </div>
    </nav>
  );
}
