'use client';

import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { ErrorState } from '@/components/ui/error-state';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Stat } from '@/components/ui/stat';
import { useTrends } from '@/hooks/use-trends';
import type { TrendTotals } from '@/lib/analytics/schemas';
import { formatMoney, formatMoneyShort, formatNumber } from '@/lib/format';

const RANGES = [
  { days: 7, label: 'Last 7 days', interval: 'day' },
  { days: 30, label: 'Last 30 days', interval: 'day' },
  { days: 90, label: 'Last 90 days', interval: 'day' },
  { days: 365, label: 'Last 12 months', interval: 'week' },
] as const;

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const shortDay = (iso: string) => new Date(`${iso}T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });

/** "+12% vs the previous 30 days", or what there is to say when the previous period had none. */
function change(now: number, before: number, days: number): string {
  const period = `the previous ${days} days`;
  if (before === 0) return now === 0 ? `none in ${period} either` : `none in ${period}`;
  const pct = Math.round(((now - before) / before) * 100);
  return `${pct > 0 ? '+' : ''}${pct}% vs ${period}`;
}

const DEFINITIONS: Record<keyof TrendTotals, string> = {
  revenue: 'Order totals less refunds, of orders placed in the period that were not cancelled (UTC days).',
  orders: 'Orders placed in the period that were not cancelled (UTC days).',
  newCustomers: 'Customers first seen in the period, by a storefront event or an order (UTC days).',
  leads: 'Customers who left their email in the period (UTC days).',
};

/** Revenue, orders, new customers and leads over a chosen period, charted, against the period before. */
export function TrendsCard() {
  const [days, setDays] = useState<number>(30);
  const range = RANGES.find((r) => r.days === days) ?? RANGES[1];
  const today = new Date();
  const to = isoDay(today);
  const from = isoDay(new Date(today.getTime() - (range.days - 1) * 86_400_000));
  const { data, isPending, error, refetch, isPlaceholderData } = useTrends(from, to, range.interval);

  let body;
  if (isPending) body = <LoadingBlock label="Loading trends" rows={6} />;
  else if (error) body = <ErrorState title="Could not load trends" message={error.message} onRetry={() => void refetch()} />;
  else {
    const points = data.points.map((p) => ({ ...p, label: shortDay(p.bucket) }));
    const unit = data.interval === 'week' ? 'week' : 'day';
    body = (
      <div className={isPlaceholderData ? 'opacity-60 transition-opacity' : undefined}>
        <section aria-label="Totals for the period" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
          <Stat label="Revenue" value={formatMoney(data.totals.revenue)} hint={change(data.totals.revenue, data.previous.revenue, range.days)} definition={DEFINITIONS.revenue} />
          <Stat label="Orders" value={formatNumber(data.totals.orders)} hint={change(data.totals.orders, data.previous.orders, range.days)} definition={DEFINITIONS.orders} />
          <Stat label="New customers" value={formatNumber(data.totals.newCustomers)} hint={change(data.totals.newCustomers, data.previous.newCustomers, range.days)} definition={DEFINITIONS.newCustomers} />
          <Stat label="Leads" value={formatNumber(data.totals.leads)} hint={change(data.totals.leads, data.previous.leads, range.days)} definition={DEFINITIONS.leads} />
        </section>
        <div className="mt-6 grid gap-6 lg:grid-cols-2">
          <figure className="min-w-0" data-testid="chart-revenue">
            <figcaption className="mb-2 text-sm font-medium text-slate-700">Revenue and orders per {unit}</figcaption>
            <div className="h-64" role="img" aria-label={`Revenue and orders per ${unit}, ${shortDay(data.from)} to ${shortDay(data.to)}: ${formatMoney(data.totals.revenue)} from ${formatNumber(data.totals.orders)} orders`}>
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={points} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
                  <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
                  <YAxis yAxisId="money" tick={{ fontSize: 11 }} width={56} tickFormatter={(v: number) => formatMoneyShort(v)} />
                  <YAxis yAxisId="count" orientation="right" tick={{ fontSize: 11 }} width={32} allowDecimals={false} />
                  <Tooltip formatter={(v, name) => (name === 'Revenue' ? formatMoney(Number(v)) : formatNumber(Number(v)))} />
                  <Legend wrapperStyle={{ fontSize: 12 }} />
                  <Bar yAxisId="money" dataKey="revenue" name="Revenue" fill="#0f766e" radius={[3, 3, 0, 0]} />
                  <Bar yAxisId="count" dataKey="orders" name="Orders" fill="#94a3b8" radius={[3, 3, 0, 0]} />
                </BarChart>
              </ResponsiveContainer>
            </div>
          </figure>
          <figure className="min-w-0" data-testid="chart-customers">
            <figcaption className="mb-2 text-sm font-medium text-slate-700">New customers and leads per {unit}</figcaption>
            <div className="h-64" role="img" aria-label={`New customers and leads per ${unit}: ${formatNumber(data.totals.newCustomers)} new customers, ${formatNumber(data.totals.leads)} leads`}>
              <ResponsiveContainer width="100%" height="100%">
                <LineChart data={points} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
                  <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
                  <YAxis tick={{ fontSize: 11 }} width={32} allowDecimals={false} />
                  <Tooltip />
                  <Legend wrapperStyle={{ fontSize: 12 }} />
                  <Line type="monotone" dataKey="newCustomers" name="New customers" stroke="#0f766e" strokeWidth={2} dot={false} />
                  <Line type="monotone" dataKey="leads" name="Leads" stroke="#0284c7" strokeWidth={2} dot={false} />
                </LineChart>
              </ResponsiveContainer>
            </div>
          </figure>
        </div>
      </div>
    );
  }

  return (
    <Card>
      <CardHeader title="Trends" description="Compared with the period of the same length just before. Days are UTC days."
        actions={
          <div className="flex items-center gap-2">
            <label htmlFor="trends-range" className="text-sm text-slate-600">Period</label>
            <Select id="trends-range" value={String(days)} onChange={(e) => setDays(Number(e.target.value))} className="w-40">
              {RANGES.map((r) => <option key={r.days} value={r.days}>{r.label}</option>)}
            </Select>
          </div>
        } />
      <CardBody>{body}</CardBody>
    </Card>
  );
}
