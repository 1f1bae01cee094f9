'use client';

import { Download, Receipt, TriangleAlert } from 'lucide-react';
import { useState } from 'react';
import { describeDiscount, formatUses, REASON_LABELS, STATUS_LABELS, STATUS_VARIANTS } from '@/components/coupons/labels';
import { Badge } from '@/components/ui/badge';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Modal } from '@/components/ui/modal';
import { Pagination } from '@/components/ui/pagination';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { couponUsesCsvUrl, useCoupon, useCouponUses, USES_PAGE } from '@/hooks/use-coupons';
import { cn } from '@/lib/cn';
import type { Coupon } from '@/lib/coupons/schemas';
import { formatDateTime, formatMoney, formatNumber, formatRelative } from '@/lib/format';

function Summary({ coupon }: { coupon: Coupon }) {
  const items: [string, string][] = [
    ['Uses', formatUses(coupon)],
    ['Rejected', formatNumber(coupon.rejectedCount)],
    ['Orders', formatNumber(coupon.totalOrders)],
    ['Discount given', formatMoney(coupon.totalDiscountAmount)],
  ];
  return (
    <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
      {items.map(([label, value]) => (
        <div key={label} className={cn('rounded-md border border-slate-200 px-3 py-2', label === 'Rejected' && coupon.rejectedCount > 0 && 'border-red-200 bg-red-50')}>
          <dt className="text-xs font-medium text-slate-600">{label}</dt>
          <dd className="text-lg font-semibold tabular-nums text-slate-900">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A coupon's orders, accepted and rejected (paged), with its totals and a CSV export. */
export function CouponUsesModal({ coupon: initial, onClose }: { coupon: Coupon; onClose: () => void }) {
  const [offset, setOffset] = useState(0);
  const { data: fresh } = useCoupon(initial.id, initial);
  const coupon = fresh ?? initial;
  const { data, isPending, isPlaceholderData, isFetching, error, refetch } = useCouponUses(coupon.id, offset);

  let body;
  if (isPending) body = <LoadingBlock label="Loading uses" rows={5} className="px-0" />;
  else if (error) body = <ErrorState title="Could not load uses" message={error.message} onRetry={() => void refetch()} />;
  else if (data.total === 0) {
    body = <EmptyState icon={Receipt} title="Not used yet" description="Orders that use this code appear here, including any your shop took after the code stopped being valid." />;
  } else {
    body = (
      <div className="space-y-3">
        <Table aria-busy={(isPlaceholderData && isFetching) || undefined} className={cn(isPlaceholderData && 'opacity-60')}
          wrapperClassName="rounded-md border border-slate-200">
          <caption className="sr-only">Uses of {coupon.code}</caption>
          <THead>
            <tr>
              <TH>Order</TH>
              <TH>Result</TH>
              <TH className="text-right">Order total</TH>
              <TH className="text-right">Discount</TH>
              <TH>When</TH>
            </tr>
          </THead>
          <TBody>
            {data.uses.map((u) => {
              const rejected = u.status === 'rejected';
              return (
                <TR key={u.id} data-testid="coupon-use" className={cn(rejected && 'bg-red-50/60 hover:bg-red-50')}>
                  <TD className="max-w-56">
                    <p className="font-mono text-xs text-slate-900">{u.shopOrderId}</p>
                    <p className="truncate text-xs text-slate-600" title={u.customerEmail}>{u.customerEmail}</p>
                  </TD>
                  <TD>
                    {rejected ? (
                      <>
                        <Badge variant="danger"><TriangleAlert className="size-3" aria-hidden="true" />Rejected</Badge>
                        <p className="mt-0.5 whitespace-nowrap text-xs text-red-800">{u.reason ? REASON_LABELS[u.reason] : 'Not valid for this order'}</p>
                      </>
                    ) : u.status === 'cancelled' ? (
                      <>
                        <Badge variant="secondary">Cancelled</Badge>
                        <p className="mt-0.5 whitespace-nowrap text-xs text-slate-600">Order cancelled; the use no longer counts</p>
                      </>
                    ) : <Badge variant="success">Accepted</Badge>}
                  </TD>
                  <TD className="whitespace-nowrap text-right tabular-nums">{formatMoney(u.orderTotal)}</TD>
                  <TD className="whitespace-nowrap text-right tabular-nums">{formatMoney(u.discountAmount)}</TD>
                  <TD className="whitespace-nowrap text-slate-600">
                    <time dateTime={u.usedAt} title={formatDateTime(u.usedAt)}>{formatRelative(u.usedAt)}</time>
                  </TD>
                </TR>
              );
            })}
          </TBody>
        </Table>
        <Pagination label="Use pages" offset={offset} limit={USES_PAGE} total={data.total} onChange={setOffset} disabled={isPlaceholderData} />
      </div>
    );
  }

  return (
    <Modal open onClose={onClose} size="lg" className="md:max-w-3xl" title={`Uses of ${coupon.code}`}
      description={<>{describeDiscount(coupon)} · <Badge variant={STATUS_VARIANTS[coupon.status]}>{STATUS_LABELS[coupon.status]}</Badge></>}
      footer={
        <a href={couponUsesCsvUrl(coupon.id)} download
          className="inline-flex h-10 items-center gap-2 rounded-md border border-slate-300 bg-white px-4 text-sm font-medium text-slate-800 shadow-sm hover:bg-slate-50 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600">
          <Download className="size-4" aria-hidden="true" />
          Export CSV
        </a>
      }>
      <div className="space-y-4">
        <Summary coupon={coupon} />
        {coupon.rejectedCount > 0 ? (
          <p className="flex items-start gap-2 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
            <TriangleAlert className="mt-0.5 size-4 shrink-0" aria-hidden="true" />
            <span>
              {formatNumber(coupon.rejectedCount)} {coupon.rejectedCount === 1 ? 'order' : 'orders'} used this code after it had stopped being valid
              (for example over its usage limit). Your shop accepted them anyway; they do not count as uses.
            </span>
          </p>
        ) : null}
        {body}
      </div>
    </Modal>
  );
}
