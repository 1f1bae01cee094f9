import { Search } from 'lucide-react';
import { SOURCE_LABELS, STATUS_LABELS } from '@/components/coupons/labels';
import { Input } from '@/components/ui/input';
import { Label } from '@/components/ui/label';
import { Select } from '@/components/ui/select';
import { cn } from '@/lib/cn';
import { COUPON_SOURCES, COUPON_STATUSES, type CouponSource, type CouponStatus } from '@/lib/coupons/schemas';

export type CouponFiltersProps = {
  status: CouponStatus | undefined;
  source: CouponSource | undefined;
  search: string;
  onStatus: (status: CouponStatus | undefined) => void;
  onSource: (source: CouponSource | undefined) => void;
  onSearch: (search: string) => void;
};

const isSource = (v: string): v is CouponSource => (COUPON_SOURCES as readonly string[]).includes(v);

/** Status chips (All + each status), a code search and the source picker; every control is labelled. */
export function CouponFilters({ status, source, search, onStatus, onSource, onSearch }: CouponFiltersProps) {
  const chips: { value: CouponStatus | undefined; label: string }[] = [
    { value: undefined, label: 'All' },
    ...COUPON_STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s] })),
  ];
  return (
    <form role="search" aria-label="Filter coupons" onSubmit={(e) => e.preventDefault()} className="space-y-3">
      <div role="group" aria-label="Status" className="flex flex-wrap gap-1.5">
        {chips.map((chip) => {
          const pressed = chip.value === status;
          return (
            <button key={chip.label} type="button" aria-pressed={pressed} onClick={() => onStatus(chip.value)}
              className={cn(
                'h-8 rounded-full border px-3 text-sm font-medium transition-colors',
                'focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600',
                pressed ? 'border-brand-700 bg-brand-700 text-white' : 'border-slate-300 bg-white text-slate-700 hover:bg-slate-50',
              )}>
              {chip.label}
            </button>
          );
        })}
      </div>
      <div className="grid gap-3 sm:grid-cols-[minmax(0,2fr)_minmax(0,1fr)]">
        <div className="space-y-1.5">
          <Label htmlFor="coupon-search">Search codes</Label>
          <div className="relative">
            <Search className="pointer-events-none absolute left-3 top-1/2 size-4 -translate-y-1/2 text-slate-400" aria-hidden="true" />
            <Input id="coupon-search" type="search" value={search} onChange={(e) => onSearch(e.target.value)}
              placeholder="e.g. SUMMER" className="pl-9" autoComplete="off" maxLength={40} />
          </div>
        </div>
        <div className="space-y-1.5">
          <Label htmlFor="coupon-source">Source</Label>
          <Select id="coupon-source" value={source ?? ''} onChange={(e) => onSource(isSource(e.target.value) ? e.target.value : undefined)}>
            <option value="">All sources</option>
            {/* Bulk codes are listed as batches below, not one by one. */}
            {COUPON_SOURCES.filter((s) => s !== 'bulk').map((s) => <option key={s} value={s}>{SOURCE_LABELS[s]}</option>)}
          </Select>
        </div>
      </div>
    </form>
  );
}
