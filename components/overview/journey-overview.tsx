'use client';

import { DollarSign, Repeat, Users, Wallet } from 'lucide-react';
import Link from 'next/link';
import { JourneyFunnel } from '@/components/customers/journey-funnel';
import { StageDistribution } from '@/components/customers/stage-distribution';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Skeleton } from '@/components/ui/skeleton';
import { Stat } from '@/components/ui/stat';
import { useCustomerAnalytics } from '@/hooks/use-customers';
import { formatMoney, formatNumber, formatPercent } from '@/lib/format';

function OverviewSkeleton() {
  return (
    <div role="status" aria-live="polite" className="space-y-6">
      <span className="sr-only">Loading customer analytics</span>
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        {Array.from({ length: 4 }, (_, i) => <Skeleton key={i} className="h-28" />)}
      </div>
      <div className="grid gap-6 lg:grid-cols-2">
        <Skeleton className="h-80" />
        <Skeleton className="h-80" />
      </div>
    </div>
  );
}

/** KPIs, funnel and stage mix from /api/customers/analytics, with loading, error and first-run states. */
export function JourneyOverview() {
  const { data, isPending, error, refetch } = useCustomerAnalytics();
  if (isPending) return <OverviewSkeleton />;
  if (error) {
    return (
      <Card>
        <ErrorState title="Could not load customer analytics" message={error.message} onRetry={() => void refetch()} />
      </Card>
    );
  }
  if (data.totalCustomers === 0) {
    return (
      <Card>
        <EmptyState
          icon={Users}
          title="No customers yet"
          description="Customers appear here as orders and storefront events arrive. Connect your shop in Settings so order webhooks flow in, and add the tracking snippet to your storefront to record visits and sign-ups."
          action={
            <Link href="/dashboard/settings" className="inline-flex h-10 items-center rounded-md bg-brand-700 px-4 text-sm font-medium text-white shadow-sm hover:bg-brand-800">
              Open settings
            </Link>
          }
        />
      </Card>
    );
  }

  return (
    <>
      <section aria-label="Key figures" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Total customers" value={formatNumber(data.totalCustomers)} icon={Users}
          hint={`${formatNumber(data.conversionFunnel.customers)} have ordered · ${formatNumber(data.churnedCount)} churned`}
          definition="Everyone known by email, from a storefront event or an order, since the shop was connected; buyers are those with at least one order that still counts." />
        <Stat label="Revenue" value={formatMoney(data.totalRevenue)} icon={DollarSign} hint="All time"
          definition="Sum of every customer's lifetime value: order totals since the shop was connected, less refunds, without cancelled orders." />
        <Stat label="Average lifetime value" value={formatMoney(data.avgLifetimeValuePerBuyer)} icon={Wallet}
          hint={`Per buyer · ${formatMoney(data.avgLifetimeValue)} per customer, buyers or not`}
          definition="Revenue divided by the customers with at least one order, all time. The figure per customer also counts people who never ordered." />
        <Stat label="Repeat rate" value={formatPercent(data.repeatRate)} icon={Repeat} hint="Buyers with 2 or more orders"
          definition="Share of buyers (customers with at least one order) who have placed two or more, all time." />
      </section>
      <div className="grid gap-6 lg:grid-cols-2">
        <JourneyFunnel analytics={data} />
        <StageDistribution analytics={data} />
      </div>
    </>
  );
}
