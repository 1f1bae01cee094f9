'use client';

import { Download, Layers } from 'lucide-react';
import { useState } from 'react';
import { describeDiscount } from '@/components/coupons/labels';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { ErrorState } from '@/components/ui/error-state';
import { Modal } from '@/components/ui/modal';
import { Pagination } from '@/components/ui/pagination';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { BATCHES_PAGE, COUPONS_PAGE, useCouponBatches, useCoupons } from '@/hooks/use-coupons';
import type { CouponBatchSummary } from '@/lib/coupons/schemas';
import { formatDate, formatMoney, formatNumber } from '@/lib/format';

const codesUrl = (id: string) => `/api/coupons/batches/${encodeURIComponent(id)}/codes`;

/** The codes of one batch, a page at a time, with which are used. */
function BatchCodes({ batch, onClose }: { batch: CouponBatchSummary; onClose: () => void }) {
  const [offset, setOffset] = useState(0);
  const { data, isPending, error, refetch, isPlaceholderData } = useCoupons({ batchId: batch.id, offset });
  let body;
  if (isPending) body = <LoadingBlock label="Loading codes" rows={6} />;
  else if (error) body = <ErrorState title="Could not load the codes" message={error.message} onRetry={() => void refetch()} />;
  else {
    body = (
      <div className="space-y-3">
        <Table wrapperClassName="rounded-md border border-slate-200">
          <caption className="sr-only">Codes of batch {batch.prefix}</caption>
          <THead><tr><TH>Code</TH><TH className="text-right">Uses</TH><TH className="text-right">Discount given</TH></tr></THead>
          <TBody>
            {data.coupons.map((c) => (
              <TR key={c.id} data-testid="batch-code">
                <TD className="font-mono text-xs">{c.code}</TD>
                <TD className="text-right tabular-nums">{formatNumber(c.usageCount)}</TD>
                <TD className="text-right tabular-nums">{formatMoney(c.totalDiscountAmount)}</TD>
              </TR>
            ))}
          </TBody>
        </Table>
        <Pagination label="Code pages" offset={offset} limit={COUPONS_PAGE} total={data.total} onChange={setOffset} disabled={isPlaceholderData} />
      </div>
    );
  }
  return (
    <Modal open onClose={onClose} size="lg" title={`Codes of ${batch.prefix}`}
      description={`${formatNumber(batch.codes)} single-use codes · ${batch.terms ? describeDiscount(batch.terms) : 'no codes left'}`}
      footer={<a href={codesUrl(batch.id)} download className="inline-flex h-9 items-center gap-1.5 rounded-md border border-slate-300 bg-white px-3 text-sm font-medium text-slate-800 hover:bg-slate-50">
        <Download className="size-4" aria-hidden="true" />Download CSV
      </a>}>
      {body}
    </Modal>
  );
}

/** Each batch of generated codes as one row: what it gives, how many codes are used, what it cost. */
export function BatchList() {
  const [offset, setOffset] = useState(0);
  const [viewing, setViewing] = useState<CouponBatchSummary | null>(null);
  const { data, isPending, error, refetch, isPlaceholderData } = useCouponBatches(offset);
  if (!isPending && !error && data.total === 0) return null;
  let body;
  if (isPending) body = <LoadingBlock label="Loading batches" rows={3} />;
  else if (error) body = <ErrorState title="Could not load the batches" message={error.message} onRetry={() => void refetch()} />;
  else {
    body = (
      <>
        <Table>
          <caption className="sr-only">Batches of single-use codes</caption>
          <THead>
            <tr>
              <TH>Batch</TH>
              <TH>Discount</TH>
              <TH className="text-right">Codes used</TH>
              <TH className="text-right">Discount given</TH>
              <TH><span className="sr-only">Actions</span></TH>
            </tr>
          </THead>
          <TBody>
            {data.batches.map((b) => (
              <TR key={b.id} data-testid="batch-row">
                <TD>
                  <p className="font-mono text-sm font-semibold text-slate-900">{b.prefix}-…</p>
                  <p className="text-xs text-slate-600">Made {formatDate(b.createdAt)}</p>
                </TD>
                <TD className="whitespace-nowrap">{b.terms ? describeDiscount(b.terms) : '—'}</TD>
                <TD className="whitespace-nowrap text-right tabular-nums">
                  {formatNumber(b.usedCodes)} of {formatNumber(b.codes)}
                  {b.rejectedUses > 0 ? <span className="block text-xs text-red-800">{formatNumber(b.rejectedUses)} refused</span> : null}
                </TD>
                <TD className="text-right tabular-nums">{formatMoney(b.totalDiscountAmount)}</TD>
                <TD className="whitespace-nowrap text-right">
                  <Button size="sm" variant="ghost" onClick={() => setViewing(b)} aria-label={`View the codes of ${b.prefix}`}>View codes</Button>
                  <a href={codesUrl(b.id)} download aria-label={`Download the codes of ${b.prefix} as CSV`}
                    className="ml-1 inline-flex h-8 items-center gap-1 rounded-md px-2 text-sm font-medium text-brand-800 hover:bg-brand-50">
                    <Download className="size-4" aria-hidden="true" />CSV
                  </a>
                </TD>
              </TR>
            ))}
          </TBody>
        </Table>
        {data.total > BATCHES_PAGE ? (
          <CardBody className="border-t border-slate-200">
            <Pagination label="Batch pages" offset={offset} limit={BATCHES_PAGE} total={data.total} onChange={setOffset} disabled={isPlaceholderData} />
          </CardBody>
        ) : null}
      </>
    );
  }
  return (
    <Card>
      <CardHeader title={<span className="inline-flex items-center gap-2"><Layers className="size-4" aria-hidden="true" />Code batches</span>}
        description="Single-use codes made together; each batch is one row, its codes inside it." />
      {body}
      {viewing ? <BatchCodes batch={viewing} onClose={() => setViewing(null)} /> : null}
    </Card>
  );
}
