import { ArrowDown, ArrowUp, ArrowUpDown } from 'lucide-react';
import Link from 'next/link';
import { FIRST_ORDER } from '@/components/customers/list-params';
import { customerEmailLabel, customerName } from '@/components/customers/labels';
import { StageBadge } from '@/components/customers/stage-badge';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { cn } from '@/lib/cn';
import type { Customer, CustomerListQuery } from '@/lib/customers/schemas';
import { formatDateTime, formatMoney, formatNumber, formatRelative } from '@/lib/format';

type Sort = CustomerListQuery['sort'];
type Order = CustomerListQuery['order'];

/** A column header that sorts the list by its column; pressing it again reverses the order. */
function SortableTH({ label, column, sort, order, onSort, className }: {
  label: string; column: Sort; sort: Sort; order: Order; onSort: (sort: Sort, order: Order) => void; className?: string;
}) {
  const active = sort === column;
  const Icon = !active ? ArrowUpDown : order === 'asc' ? ArrowUp : ArrowDown;
  return (
    <TH className={className} aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" onClick={() => onSort(column, active ? (order === 'asc' ? 'desc' : 'asc') : FIRST_ORDER[column])}
        className={cn('inline-flex items-center gap-1 rounded uppercase tracking-wide hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600',
          active && 'text-slate-900')}>
        {label}
        <Icon className="size-3.5" aria-hidden="true" />
      </button>
    </TH>
  );
}

/** One page of customers; the email links to the journey page; the headers sort. */
export function CustomersTable({ customers, busy, caption, sort, order, onSort }: {
  customers: Customer[]; busy: boolean; caption: string; sort: Sort; order: Order; onSort: (sort: Sort, order: Order) => void;
}) {
  const sortable = { sort, order, onSort };
  return (
    <Table aria-busy={busy || undefined} className={cn('transition-opacity', busy && 'opacity-60')}>
      <caption className="sr-only">{caption}</caption>
      <THead>
        <tr>
          <SortableTH label="Customer" column="email" {...sortable} />
          <TH>Stage</TH>
          <SortableTH label="Orders" column="orders" className="text-right" {...sortable} />
          <SortableTH label="Lifetime value" column="ltv" className="text-right" {...sortable} />
          <SortableTH label="Last purchase" column="recent_purchase" {...sortable} />
        </tr>
      </THead>
      <TBody>
        {customers.map((c) => {
          const name = customerName(c);
          return (
            <TR key={c.id}>
              <TD className="max-w-xs">
                <Link href={`/dashboard/customers/${c.id}`} className="block truncate font-medium text-brand-800 underline-offset-4 hover:underline">
                  {customerEmailLabel(c)}
                </Link>
                {name ? <span className="block truncate text-xs text-slate-600">{name}</span> : null}
              </TD>
              <TD><StageBadge stage={c.stage} /></TD>
              <TD className="text-right tabular-nums">{formatNumber(c.totalOrders)}</TD>
              <TD className="text-right tabular-nums">{formatMoney(c.lifetimeValue)}</TD>
              <TD className="whitespace-nowrap text-slate-600">
                {c.lastPurchaseAt ? <time dateTime={c.lastPurchaseAt} title={formatDateTime(c.lastPurchaseAt)}>{formatRelative(c.lastPurchaseAt)}</time> : 'Never'}
              </TD>
            </TR>
          );
        })}
      </TBody>
    </Table>
  );
}
