'use client';

import { Users } from 'lucide-react';
import { useState, type CSSProperties } from 'react';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useCohorts } from '@/hooks/use-trends';
import type { Cohorts } from '@/lib/analytics/schemas';
import { formatNumber, formatPercent } from '@/lib/format';

const monthName = (ym: string) => new Date(`${ym}-01T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', year: 'numeric', timeZone: 'UTC' });

/** A cell's background: the darker, the larger the share that came back. */
function shade(share: number | null): CSSProperties | undefined {
  if (share === null || share === 0) return undefined;
  const alpha = Math.min(0.15 + share * 1.7, 0.95);
  return { backgroundColor: `rgba(15, 118, 110, ${alpha.toFixed(2)})`, color: alpha > 0.5 ? 'white' : undefined };
}

/** Cohort retention: customers by first-order month, and the share who ordered in each later month. */
export function CohortsCard() {
  const [months, setMonths] = useState(12);
  const { data, isPending, error, refetch, isPlaceholderData } = useCohorts(months);
  return (
    <Card>
      <CardHeader title="Cohort retention"
        description={`Customers grouped by the month of their first order that was not cancelled; each later column is the share of them who placed an order in that month${data ? ` (months of ${data.timeZone})` : ''}. The current month is so far.`}
        actions={
          <div className="flex items-center gap-2">
            <label htmlFor="cohort-months" className="text-sm text-slate-600">Cohorts</label>
            <Select id="cohort-months" value={String(months)} onChange={(e) => setMonths(Number(e.target.value))} className="w-36">
              <option value="6">Last 6 months</option>
              <option value="12">Last 12 months</option>
              <option value="24">Last 24 months</option>
            </Select>
          </div>
        } />
      {isPending ? <CardBody><LoadingBlock label="Loading cohorts" rows={6} /></CardBody>
        : error ? <CardBody><ErrorState title="Could not load cohorts" message={error.message} onRetry={() => void refetch()} /></CardBody>
          : data.cohorts.every((c) => c.customers === 0)
            ? <CardBody><EmptyState icon={Users} title="No first orders in these months" description="Cohorts appear once customers place their first order." /></CardBody>
            : <CohortTable data={data} dimmed={isPlaceholderData} />}
    </Card>
  );
}

function CohortTable({ data, dimmed }: { data: Cohorts; dimmed: boolean }) {
  const offsets = Math.max(0, ...data.cohorts.map((c) => c.retained.length));
  return (
    <Table wrapperClassName={dimmed ? 'opacity-60 transition-opacity' : undefined} className="tabular-nums" data-testid="cohort-table">
      <caption className="sr-only">
        Cohort retention: for each month of first orders, the number of new customers and the share who ordered again in each following month.
      </caption>
      <THead>
        <TR>
          <TH>First order</TH>
          <TH className="text-right">Customers</TH>
          {Array.from({ length: offsets }, (_, i) => <TH key={i} className="text-center" title={`${i + 1} month${i ? 's' : ''} after the first order`}>+{i + 1} mo</TH>)}
        </TR>
      </THead>
      <TBody>
        {data.cohorts.map((c) => (
          <TR key={c.cohort}>
            <th scope="row" className="whitespace-nowrap px-4 py-2.5 text-sm font-medium text-slate-800">
              {monthName(c.cohort)}{c.cohort === data.currentMonth ? <span className="ml-1 text-xs font-normal text-slate-500">(so far)</span> : null}
            </th>
            <TD className="text-right">{formatNumber(c.customers)}</TD>
            {Array.from({ length: offsets }, (_, i) => {
              const r = c.retained[i];
              if (!r) return <TD key={i} aria-label="Not yet" className="text-center text-slate-300">·</TD>;
              return (
                <TD key={i} className="px-2 text-center text-xs" style={shade(r.share)}
                  title={r.share === null ? 'No customers in this cohort' : `${formatNumber(r.customers)} of ${formatNumber(c.customers)} ordered in ${monthName(addMonths(c.cohort, r.offset))}`}>
                  {r.share === null ? '—' : formatPercent(r.share, 0)}
                </TD>
              );
            })}
          </TR>
        ))}
      </TBody>
    </Table>
  );
}

function addMonths(ym: string, n: number): string {
  const d = new Date(`${ym}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + n);
  return d.toISOString().slice(0, 7);
}
