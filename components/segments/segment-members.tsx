'use client';

import { Users } from 'lucide-react';
import Link from 'next/link';
import { useEffect } from 'react';
import { StageBadge } from '@/components/customers/stage-badge';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { KeysetPagination } from '@/components/ui/keyset-pagination';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useKeysetPager } from '@/hooks/use-keyset-pager';
import { MEMBERS_PAGE, segmentCsvUrl, useSegmentMembers } from '@/hooks/use-segments';
import { cn } from '@/lib/cn';
import { formatDateTime, formatMoney, formatNumber, formatRelative } from '@/lib/format';
import type { Segment } from '@/lib/segments/schemas';

/** Paginated members of one segment, each linking to the customer's journey. */
export function SegmentMembers({ segment }: { segment: Segment }) {
  const { request, pager, onEmpty } = useKeysetPager(MEMBERS_PAGE);
  const { data, isPending, isPlaceholderData, isFetching, error, refetch } = useSegmentMembers(segment.id, request);
  // A page whose members left since shows the nearest end instead.
  const emptyPage = Boolean(data && !isPlaceholderData && data.total > 0 && data.members.length === 0 && (request.after || request.before));
  useEffect(() => {
    if (emptyPage) onEmpty();
    // Only a change of this matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [emptyPage]);

  let body;
  if (isPending || emptyPage) body = <LoadingBlock label="Loading members" rows={6} />;
  else if (error) body = <ErrorState title="Could not load members" message={error.message} onRetry={() => void refetch()} />;
  else if (data.total === 0) {
    body = <EmptyState icon={Users} title="No members right now" description="No customer matches this segment's criteria at the last evaluation. Edit the criteria or evaluate it again." />;
  } else {
    body = (
      <>
        <Table aria-busy={(isPlaceholderData && isFetching) || undefined} className={cn(isPlaceholderData && 'opacity-60')}>
          <caption className="sr-only">Members of {segment.name}</caption>
          <THead>
            <tr>
              <TH>Customer</TH>
              <TH>Stage</TH>
              <TH className="text-right">Orders</TH>
              <TH className="text-right">Lifetime value</TH>
              <TH>Last purchase</TH>
              <TH>Joined segment</TH>
            </tr>
          </THead>
          <TBody>
            {data.members.map((m) => (
              <TR key={m.id}>
                <TD className="max-w-xs">
                  <Link href={`/dashboard/customers/${m.id}`} className="block truncate font-medium text-brand-800 underline-offset-4 hover:underline">{m.email}</Link>
                </TD>
                <TD><StageBadge stage={m.stage} /></TD>
                <TD className="text-right tabular-nums">{formatNumber(m.totalOrders)}</TD>
                <TD className="text-right tabular-nums">{formatMoney(m.lifetimeValue)}</TD>
                <TD className="whitespace-nowrap text-slate-600">
                  {m.lastPurchaseAt ? <time dateTime={m.lastPurchaseAt} title={formatDateTime(m.lastPurchaseAt)}>{formatRelative(m.lastPurchaseAt)}</time> : 'Never'}
                </TD>
                <TD className="whitespace-nowrap text-slate-600">
                  <time dateTime={m.addedAt} title={formatDateTime(m.addedAt)}>{formatRelative(m.addedAt)}</time>
                </TD>
              </TR>
            ))}
          </TBody>
        </Table>
        <CardBody className="border-t border-slate-200">
          <KeysetPagination {...pager(data, data.members.length)} label="Member pages" disabled={isPlaceholderData} />
        </CardBody>
      </>
    );
  }

  return (
    <Card>
      <CardHeader title={`Members of ${segment.name}`} description="As of the last evaluation."
        actions={<a href={segmentCsvUrl(segment.id)} download className="text-sm font-medium text-brand-700 underline underline-offset-4">Export CSV</a>} />
      {body}
    </Card>
  );
}
