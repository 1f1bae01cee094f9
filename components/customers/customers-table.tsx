import Link from 'next/link';
import { customerName } from '@/components/customers/labels';
import { StageBadge } from '@/components/customers/stage-badge';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { cn } from '@/lib/cn';
import type { Customer } from '@/lib/customers/schemas';
import { formatDateTime, formatMoney, formatNumber, formatRelative } from '@/lib/format';

/** One page of customers; the email links to the journey page. */
export function CustomersTable({ customers, busy, caption }: { customers: Customer[]; busy: boolean; caption: string }) {
  return (
    <Table aria-busy={busy || undefined} className={cn('transition-opacity', busy && 'opacity-60')}>
      <caption className="sr-only">{caption}</caption>
      <THead>
        <tr>
          <TH>Customer</TH>
          <TH>Stage</TH>
          <TH className="text-right">Orders</TH>
          <TH className="text-right">Lifetime value</TH>
          <TH>Last purchase</TH>
        </tr>
      </THead>
      <TBody>
        {customers.map((c) => {
          const name = customerName(c);
          return (
            <TR key={c.id}>
              <TD className="max-w-xs">
                <Link href={`/dashboard/customers/${c.id}`} className="block truncate font-medium text-brand-800 underline-offset-4 hover:underline">
                  {c.email}
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
