'use client';

import { useState, type ReactElement } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { ErrorState } from '@/components/ui/error-state';
import { Input } from '@/components/ui/input';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Stat } from '@/components/ui/stat';
import { useTrends, type TrendsPeriod } from '@/hooks/use-trends';
import { trendsQuery, type Trends, type TrendTotals } from '@/lib/analytics/schemas';
import { formatMoney, formatMoneyShort, formatNumber, formatPercent } from '@/lib/format';

const RANGES = [
  { key: '7', days: 7, label: 'Last 7 days', interval: 'day' },
  { key: '30', days: 30, label: 'Last 30 days', interval: 'day' },
  { key: '90', days: 90, label: 'Last 90 days', interval: 'day' },
  { key: '365', days: 365, label: 'Last 12 months', interval: 'week' },
] as const;
type RangeKey = (typeof RANGES)[number]['key'] | 'custom';

const shortDay = (iso: string) => new Date(`${iso}T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const longDay = (iso: string) => new Date(`${iso}T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });

/** "+12% vs Oct 3 – Nov 1", or what there is to say when the previous period had none. */
function change(now: number, before: number, previous: Trends['previous']): string {
  const period = `${shortDay(previous.from)} – ${shortDay(previous.to)}`;
  if (before === 0) return now === 0 ? `none in ${period} either` : `none in ${period}`;
  const pct = Math.round(((now - before) / before) * 100);
  return `${pct > 0 ? '+' : ''}${pct}% vs ${period}`;
}

type Figure = Exclude<keyof TrendTotals, 'repeatOrders'>;
/** What each figure means, in one line; the period and the time zone are added where it is shown. */
const DEFINITIONS: Record<Figure, string> = {
  revenue: 'Order totals less refunds, of orders placed in the period that were not cancelled.',
  orders: 'Orders placed in the period that were not cancelled.',
  repeatRate: 'Share of the period’s orders placed by a customer who already had an earlier order that was not cancelled.',
  newCustomers: 'Customers first seen in the period, by a storefront event or an order.',
  leads: 'Customers who left their email in the period.',
  intoAtRisk: 'Customers who moved into the “at risk” stage in the period.',
  wonBack: 'Customers who came back from “at risk” or “churned” to an active stage in the period, by ordering or engaging.',
  churned: 'Customers who moved into the “churned” stage in the period.',
};

/** Trends over a chosen period (presets or custom days), charted, against the period just before. */
export function TrendsCard() {
  const [range, setRange] = useState<RangeKey>('30');
  const [custom, setCustom] = useState<{ from: string; to: string } | null>(null);
  const [customError, setCustomError] = useState<string | null>(null);
  const preset = RANGES.find((r) => r.key === range);
  const period: TrendsPeriod = preset || !custom
    ? { days: preset?.days ?? 30, interval: preset?.interval ?? 'day' }
    : { ...custom, interval: Date.parse(custom.to) - Date.parse(custom.from) > 92 * 86_400_000 ? 'week' : 'day' };
  const { data, isPending, error, refetch, isPlaceholderData } = useTrends(period);

  function chooseRange(key: RangeKey) {
    setRange(key);
    if (key === 'custom' && !custom && data) setCustom({ from: data.from, to: data.to });
  }

  function changeCustom(next: { from: string; to: string }) {
    const parsed = trendsQuery.safeParse(next);
    if (!parsed.success) {
      setCustomError(parsed.error.issues[0]?.message ?? 'Not a valid period');
      return;
    }
    setCustomError(null);
    setCustom(next);
  }

  return (
    <Card>
      <CardHeader title="Trends"
        description={data ? `Compared with the period of the same length just before. Days of your store’s time zone (${data.timeZone}), set in Settings.` : 'Compared with the period of the same length just before.'}
        actions={
          <div className="flex flex-wrap items-center gap-2">
            <label htmlFor="trends-range" className="text-sm text-slate-600">Period</label>
            <Select id="trends-range" value={range} onChange={(e) => chooseRange(e.target.value as RangeKey)} className="w-40">
              {RANGES.map((r) => <option key={r.key} value={r.key}>{r.label}</option>)}
              <option value="custom">Custom…</option>
            </Select>
          </div>
        } />
      {range === 'custom' && custom ? <CustomRange value={custom} error={customError} onChange={changeCustom} /> : null}
      <CardBody>
        {isPending ? <LoadingBlock label="Loading trends" rows={6} />
          : error ? <ErrorState title="Could not load trends" message={error.message} onRetry={() => void refetch()} />
            : <TrendsBody data={data} dimmed={isPlaceholderData} />}
      </CardBody>
    </Card>
  );
}

function CustomRange({ value, error, onChange }: { value: { from: string; to: string }; error: string | null; onChange: (v: { from: string; to: string }) => void }) {
  return (
    <fieldset className="flex flex-wrap items-end gap-3 border-b border-slate-200 px-5 py-3">
      <legend className="sr-only">Custom period</legend>
      <div>
        <label htmlFor="trends-from" className="block text-xs font-medium text-slate-600">From</label>
        <Input id="trends-from" type="date" value={value.from} className="w-44" aria-describedby={error ? 'trends-range-error' : undefined}
          onChange={(e) => onChange({ ...value, from: e.target.value })} />
      </div>
      <div>
        <label htmlFor="trends-to" className="block text-xs font-medium text-slate-600">To (included)</label>
        <Input id="trends-to" type="date" value={value.to} className="w-44" aria-describedby={error ? 'trends-range-error' : undefined}
          onChange={(e) => onChange({ ...value, to: e.target.value })} />
      </div>
      <p className="text-xs text-slate-600">Up to 366 days; more than 3 months are shown by week.</p>
      {error ? <p id="trends-range-error" role="alert" className="w-full text-xs font-medium text-red-700">{error}</p> : null}
    </fieldset>
  );
}

function TrendsBody({ data, dimmed }: { data: Trends; dimmed: boolean }) {
  const points = data.points.map((p) => ({ ...p, label: shortDay(p.bucket), repeatPercent: p.repeatRate === null ? null : p.repeatRate * 100 }));
  const unit = data.interval === 'week' ? 'week (from Monday)' : 'day';
  const span = `${longDay(data.from)} – ${longDay(data.to)}`;
  const def = (f: Figure) => `${DEFINITIONS[f]} ${span}, ${data.timeZone}.`;
  const t = data.totals;
  const p = data.previous;
  return (
    <div className={dimmed ? 'opacity-60 transition-opacity' : undefined}>
      <section aria-label="Totals for the period" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Revenue" value={formatMoney(t.revenue)} hint={change(t.revenue, p.revenue, p)} definition={def('revenue')} />
        <Stat label="Orders" value={formatNumber(t.orders)} hint={change(t.orders, p.orders, p)} definition={def('orders')} />
        <Stat label="Repeat order rate" value={t.repeatRate === null ? '—' : formatPercent(t.repeatRate)}
          hint={p.repeatRate === null ? 'no orders in the period before' : `${formatPercent(p.repeatRate)} in ${shortDay(p.from)} – ${shortDay(p.to)}`}
          definition={def('repeatRate')} />
        <Stat label="New customers" value={formatNumber(t.newCustomers)} hint={change(t.newCustomers, p.newCustomers, p)} definition={def('newCustomers')} />
        <Stat label="Leads" value={formatNumber(t.leads)} hint={change(t.leads, p.leads, p)} definition={def('leads')} />
        <Stat label="Into at risk" value={formatNumber(t.intoAtRisk)} hint={change(t.intoAtRisk, p.intoAtRisk, p)} definition={def('intoAtRisk')} />
        <Stat label="Won back" value={formatNumber(t.wonBack)} hint={change(t.wonBack, p.wonBack, p)} definition={def('wonBack')} />
        <Stat label="Churned" value={formatNumber(t.churned)} hint={change(t.churned, p.churned, p)} definition={def('churned')} />
      </section>
      <div className="mt-6 grid gap-6 lg:grid-cols-2">
        <Chart testId="chart-revenue" title={`Revenue and orders per ${unit}`}
          summary={`Revenue and orders per ${unit}, ${span}: ${formatMoney(t.revenue)} from ${formatNumber(t.orders)} orders`}>
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
        </Chart>
        <Chart testId="chart-repeat" title={`Repeat order rate per ${unit}`}
          summary={`Repeat order rate per ${unit}, ${span}: ${t.repeatRate === null ? 'no orders' : formatPercent(t.repeatRate)} over the period`}>
          <LineChart data={points} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
            <YAxis tick={{ fontSize: 11 }} width={40} domain={[0, 100]} tickFormatter={(v: number) => `${v}%`} />
            <Tooltip formatter={(v) => `${Number(v).toFixed(1)}%`} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Line type="monotone" dataKey="repeatPercent" name="Repeat order rate" stroke="#7c3aed" strokeWidth={2} dot={false} connectNulls />
          </LineChart>
        </Chart>
        <Chart testId="chart-customers" title={`New customers and leads per ${unit}`}
          summary={`New customers and leads per ${unit}, ${span}: ${formatNumber(t.newCustomers)} new customers, ${formatNumber(t.leads)} leads`}>
          <LineChart data={points} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
            <YAxis tick={{ fontSize: 11 }} width={32} allowDecimals={false} />
            <Tooltip />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Line type="monotone" dataKey="newCustomers" name="New customers" stroke="#0f766e" strokeWidth={2} dot={false} />
            <Line type="monotone" dataKey="leads" name="Leads" stroke="#0284c7" strokeWidth={2} dot={false} />
          </LineChart>
        </Chart>
        <Chart testId="chart-stages" title={`Stage movements per ${unit}`}
          summary={`Stage movements per ${unit}, ${span}: ${formatNumber(t.intoAtRisk)} into at risk, ${formatNumber(t.wonBack)} won back, ${formatNumber(t.churned)} churned`}>
          <BarChart data={points} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={16} />
            <YAxis tick={{ fontSize: 11 }} width={32} allowDecimals={false} />
            <Tooltip />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Bar dataKey="intoAtRisk" name="Into at risk" fill="#d97706" radius={[3, 3, 0, 0]} />
            <Bar dataKey="wonBack" name="Won back" fill="#16a34a" radius={[3, 3, 0, 0]} />
            <Bar dataKey="churned" name="Churned" fill="#dc2626" radius={[3, 3, 0, 0]} />
          </BarChart>
        </Chart>
      </div>
    </div>
  );
}

function Chart({ testId, title, summary, children }: { testId: string; title: string; summary: string; children: ReactElement }) {
  return (
    <figure className="min-w-0" data-testid={testId}>
      <figcaption className="mb-2 text-sm font-medium text-slate-700">{title}</figcaption>
      <div className="h-64" role="img" aria-label={summary}>
        <ResponsiveContainer width="100%" height="100%">{children}</ResponsiveContainer>
      </div>
    </figure>
  );
}
