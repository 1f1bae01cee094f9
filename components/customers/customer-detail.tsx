'use client';

import { ArrowLeft, CalendarClock, DollarSign, Download, ShoppingBag, UserX, Wallet } from 'lucide-react';
import Link from 'next/link';
import { CollectionAffinity } from '@/components/customers/collection-affinity';
import { EraseCustomer } from '@/components/customers/erase-customer';
import { LoyaltyMemberCard } from '@/components/loyalty/member-card';
import { customerEmailLabel, customerName } from '@/components/customers/labels';
import { StageBadge } from '@/components/customers/stage-badge';
import { sortTransitions, StageHistory, WhyThisStage } from '@/components/customers/stage-history';
import { SubscriptionToggles } from '@/components/customers/subscription-toggles';
import { TouchpointTimeline } from '@/components/customers/touchpoint-timeline';
import { PageContainer } from '@/components/layout/page-container';
import { buttonClasses } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Stat } from '@/components/ui/stat';
import { useJourney } from '@/hooks/use-customers';
import { ApiError } from '@/lib/api-client';
import { formatDate, formatDateTime, formatMoney, formatNumber, formatRelative } from '@/lib/format';

const backLink = (
  <Link href="/dashboard/customers" className="inline-flex items-center gap-1.5 text-sm font-medium text-brand-700 underline-offset-4 hover:underline">
    <ArrowLeft className="size-4" aria-hidden="true" />
    All customers
  </Link>
);

/** One customer's journey: KPIs, why they are in their stage, history, affinity, timeline and consent. */
export function CustomerDetail({ id }: { id: string }) {
  const journey = useJourney(id);
  const { data, isPending, error, refetch } = journey;

  if (isPending) {
    return (
      <PageContainer title="Customer" actions={backLink}>
        <LoadingBlock label="Loading customer" rows={8} />
      </PageContainer>
    );
  }
  if (error && !data) {
    // A malformed id is as much "not found" as a missing one from the merchant's point of view.
    const notFound = error instanceof ApiError && (error.status === 404 || error.status === 400);
    return (
      <PageContainer title={notFound ? 'Customer not found' : 'Customer'} actions={backLink}>
        <Card>
          {notFound ? (
            <EmptyState icon={UserX} title="We could not find this customer"
              description="They may have been removed, or the link may be wrong."
              action={<Link href="/dashboard/customers" className="text-sm font-medium text-brand-700 underline underline-offset-4">Back to customers</Link>} />
          ) : (
            <ErrorState title="Could not load this customer" message={error.message} onRetry={() => void refetch()} />
          )}
        </Card>
      </PageContainer>
    );
  }
  const first = data?.pages[0];
  if (!data || !first) return null;

  const customer = first.customer;
  const transitions = sortTransitions(first.transitions);
  const touchpoints = data.pages.flatMap((p) => p.touchpoints);
  const name = customerName(customer);

  const erased = customer.erasedAt !== null;
  return (
    <PageContainer
      title={name ?? customerEmailLabel(customer)}
      description={
        <span className="flex flex-wrap items-center gap-2">
          {name ? <span>{customer.email}</span> : null}
          {customer.erasedAt ? <span>Personal data erased {formatDate(customer.erasedAt)}, at their request</span> : null}
          <StageBadge stage={customer.stage} />
          <span>Customer since {formatDate(customer.createdAt)}</span>
        </span>
      }
      actions={
        <>
          {/* A shopper's request for their data: everything every module holds, as one file. */}
          <a href={`/api/customers/${encodeURIComponent(customer.id)}/export`} download className={buttonClasses('secondary', 'sm')}
            title="Everything stored about this customer, from every module, as a JSON file">
            <Download className="size-4" aria-hidden="true" /> Export data
          </a>
          {erased ? null : <EraseCustomer id={customer.id} email={customer.email} />}
          {backLink}
        </>
      }
    >
      <section aria-label="Key figures" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Orders" value={formatNumber(customer.totalOrders)} icon={ShoppingBag}
          definition="Orders from this customer that still count: cancelled orders are taken back." />
        <Stat label="Lifetime value" value={formatMoney(customer.lifetimeValue)} icon={DollarSign}
          definition="What this customer has spent since the shop was connected: order totals less refunds, without cancelled orders." />
        <Stat label="Average order" value={formatMoney(customer.averageOrderValue)} icon={Wallet}
          definition="Lifetime value divided by orders; empty until the first order." />
        <Stat label="Last purchase" icon={CalendarClock} definition="When this customer's most recent order that still counts was placed."
          value={customer.lastPurchaseAt ? formatRelative(customer.lastPurchaseAt) : 'Never'}
          hint={customer.lastPurchaseAt ? formatDateTime(customer.lastPurchaseAt) : undefined} />
      </section>
      <div className="grid gap-6 lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <div className="min-w-0 space-y-6">
          <WhyThisStage customer={customer} latest={transitions[0]} />
          <TouchpointTimeline touchpoints={touchpoints} hasOlder={journey.hasNextPage}
            loadingOlder={journey.isFetchingNextPage}
            olderError={journey.isFetchNextPageError && error ? error.message : null}
            onLoadOlder={() => void journey.fetchNextPage()} />
        </div>
        <div className="min-w-0 space-y-6">
          {/* An erased customer can no longer be contacted, nor their record edited. */}
          {erased ? null : <SubscriptionToggles customer={customer} />}
          <LoyaltyMemberCard customerId={customer.id} />
          <CollectionAffinity customer={customer} />
          <StageHistory transitions={transitions} />
        </div>
      </div>
    </PageContainer>
  );
}
