import { ChevronLeft, ChevronRight, ChevronsLeft, ChevronsRight } from 'lucide-react';
import { Button } from '@/components/ui/button';
import { cn } from '@/lib/cn';
import type { PageRequest } from '@/lib/fields';
import { formatNumber } from '@/lib/format';

export type KeysetPaginationProps = {
  /** Position of the page's first row when known (1 on the first page); null shows the count alone. */
  from: number | null;
  shown: number;
  total: number;
  hasPrev: boolean;
  hasNext: boolean;
  onFirst: () => void;
  onPrev: () => void;
  onNext: () => void;
  onLast: () => void;
  label?: string;
  disabled?: boolean;
  className?: string;
};

/**
 * Where a page starts: exact at either end whatever the hint said (the first page starts at 1,
 * the last ends at the total), the hint between them.
 */
export function pageStart(hint: number | null, shown: number, total: number, hasPrev: boolean, hasNext: boolean): number | null {
  if (!hasPrev) return 1;
  if (!hasNext) return Math.max(1, total - shown + 1);
  return hint;
}

/** A page to go to, and where it starts as far as is known (for the range it shows). */
export type PageMove = { request: PageRequest; from: number | null };

/** The first page: where a list starts, and where a change of filter or sort goes. */
export const FIRST_PAGE: PageMove = { request: {}, from: 1 };

/**
 * The pager's props for a page that came back, each button a move handed to `go`: whoever keeps
 * the page (component state, or the URL) only stores the move. The position is counted from
 * the moves, exact at either end.
 */
export function keysetPager(page: { total: number; prev: string | null; next: string | null }, shown: number, limit: number,
  hint: number | null, go: (move: PageMove) => void): Omit<KeysetPaginationProps, 'label'> {
  const hasPrev = page.prev !== null;
  const hasNext = page.next !== null;
  const from = pageStart(hint, shown, page.total, hasPrev, hasNext);
  return {
    from, shown, total: page.total, hasPrev, hasNext,
    onFirst: () => go(FIRST_PAGE),
    onLast: () => go({ request: { end: 'last' }, from: null }),
    onNext: () => go({ request: { after: page.next ?? undefined }, from: from === null ? null : from + shown }),
    onPrev: () => go({ request: { before: page.prev ?? undefined }, from: from === null ? null : Math.max(1, from - limit) }),
  };
}

/** Where a page that came back empty from a cursor (its rows went since) goes: the nearest end. */
export function emptyPageMove(request: PageRequest): PageMove {
  return request.after ? { request: { end: 'last' }, from: null } : FIRST_PAGE;
}

/**
 * Pages of a keyset list: first, previous, next and last (a list read by cursor has no page
 * numbers to jump to), with "21–40 of 2,000" where the position is known. The range is
 * announced when it changes.
 */
export function KeysetPagination(props: KeysetPaginationProps) {
  const { shown, total, hasPrev, hasNext, label = 'Pagination', disabled = false, className } = props;
  const from = pageStart(props.from, shown, total, hasPrev, hasNext);
  const range = shown === 0 ? `0 of ${formatNumber(total)}`
    : from === null ? `${formatNumber(shown)} shown of ${formatNumber(total)}`
    : `${formatNumber(from)}–${formatNumber(Math.min(from + shown - 1, total))} of ${formatNumber(total)}`;
  return (
    <nav aria-label={label} className={cn('flex flex-wrap items-center justify-between gap-3', className)}>
      <p className="text-sm text-slate-600 tabular-nums" aria-live="polite">{range}</p>
      <div className="flex gap-2">
        <Button variant="secondary" size="sm" disabled={disabled || !hasPrev} onClick={props.onFirst} aria-label="First page" title="First page">
          <ChevronsLeft className="size-4" aria-hidden="true" />
        </Button>
        <Button variant="secondary" size="sm" disabled={disabled || !hasPrev} onClick={props.onPrev}>
          <ChevronLeft className="size-4" aria-hidden="true" />
          Previous
        </Button>
        <Button variant="secondary" size="sm" disabled={disabled || !hasNext} onClick={props.onNext}>
          Next
          <ChevronRight className="size-4" aria-hidden="true" />
        </Button>
        <Button variant="secondary" size="sm" disabled={disabled || !hasNext} onClick={props.onLast} aria-label="Last page" title="Last page">
          <ChevronsRight className="size-4" aria-hidden="true" />
        </Button>
      </div>
    </nav>
  );
}
