'use client';

import { Ban, CircleAlert, CircleCheck, DollarSign, Receipt, RotateCw, Tag } from 'lucide-react';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Skeleton } from '@/components/ui/skeleton';
import { Stat } from '@/components/ui/stat';
import { useCouponStats } from '@/hooks/use-coupons';
import { cn } from '@/lib/cn';
import { formatMoney, formatNumber } from '@/lib/format';

const GRID = 'grid grid-cols-2 gap-3 sm:gap-4 md:grid-cols-3 lg:grid-cols-5';

/** Totals across all coupons: how many, how many live, uses, money given away and refused orders. */
export function CouponStats() {
  const { data, isPending, error, refetch } = useCouponStats();

  if (isPending) {
    return (
      <div className={GRID} role="status" aria-live="polite">
        <span className="sr-only">Loading coupon stats</span>
        {Array.from({ length: 5 }, (_, i) => (
          <div key={i} className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
            <Skeleton className="h-4 w-24" />
            <Skeleton className="mt-3 h-7 w-16" />
          </div>
        ))}
      </div>
    );
  }
  if (error) {
    return (
      <Card role="alert" className="flex flex-wrap items-center gap-3 px-5 py-4">
        <CircleAlert className="size-5 shrink-0 text-red-600" aria-hidden="true" />
        <p className="min-w-0 flex-1 text-sm text-slate-800">
          <span className="font-semibold">Could not load coupon stats.</span> {error.message}
        </p>
        <Button variant="secondary" size="sm" onClick={() => void refetch()}>
          <RotateCw className="size-4" aria-hidden="true" />
          Retry
        </Button>
      </Card>
    );
  }
  const rejected = data.rejectedUses > 0;
  return (
    <section aria-label="Coupon stats" className={GRID}>
      <Stat label="Total coupons" value={formatNumber(data.total)} icon={Tag}
        definition="Coupons that are not archived, whatever their status, including each bulk code." />
      <Stat label="Active" value={formatNumber(data.active)} icon={CircleCheck} hint="Redeemable right now"
        definition="Coupons whose status is active: started, not expired, not paused and not used up." />
      <Stat label="Uses" value={formatNumber(data.totalUses)} icon={Receipt} hint="Accepted orders"
        definition="Orders that used a code within its rules, all time; a cancelled order gives its use back." />
      <Stat label="Discount given" value={formatMoney(data.totalDiscount)} icon={DollarSign} hint="All time"
        definition="Sum of the discounts on accepted uses, as the shop reported them (computed from the coupon's terms when it sent none)." />
      <Stat label="Rejected uses" value={formatNumber(data.rejectedUses)} icon={Ban}
        definition="Orders the shop took with a code that broke its rules here (over its limit, expired, below the minimum), all time."
        hint={rejected ? 'Orders your shop took past a coupon’s limits' : 'None so far'}
        className={cn(rejected && 'border-red-200 bg-red-50/40')} />
    </section>
  );
}
