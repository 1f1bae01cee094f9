import 'server-only';
import type { Trends, TrendsQuery, TrendTotals } from '@/lib/analytics/schemas';
import type { Tx } from '@/lib/db';

const DAY_MS = 86_400_000;
const addDays = (date: string, days: number) => new Date(Date.parse(date) + days * DAY_MS).toISOString().slice(0, 10);

/**
 * The figures of every day or week from `from` (included) to `to` (excluded), empty buckets
 * included: each source read through its (user_id, time) index for the period only, then grouped.
 * The one place the figures are defined (schemas.ts says what each means).
 */
function buckets(tx: Tx, userId: string, unit: 'day' | 'week', from: string, to: string) {
  return tx<Trends['points']>`
    with buckets as (
      select (b at time zone 'UTC')::date as bucket
        from generate_series(date_trunc(${unit}, ${from}::timestamptz at time zone 'UTC') at time zone 'UTC',
                             ${to}::timestamptz - interval '1 microsecond', ('1 ' || ${unit})::interval) b
    ), o as (
      select (date_trunc(${unit}, ordered_at at time zone 'UTC'))::date as bucket,
             count(*)::int as orders, sum(total - refunded_total) as revenue
        from public.orders
       where user_id = ${userId} and ordered_at >= ${from}::timestamptz and ordered_at < ${to}::timestamptz
         and cancelled_at is null
       group by 1
    ), c as (
      select (date_trunc(${unit}, created_at at time zone 'UTC'))::date as bucket, count(*)::int as n
        from public.customers
       where user_id = ${userId} and created_at >= ${from}::timestamptz and created_at < ${to}::timestamptz
       group by 1
    ), l as (
      select (date_trunc(${unit}, became_lead_at at time zone 'UTC'))::date as bucket, count(*)::int as n
        from public.customers
       where user_id = ${userId} and became_lead_at >= ${from}::timestamptz and became_lead_at < ${to}::timestamptz
       group by 1
    )
    select to_char(b.bucket, 'YYYY-MM-DD') as bucket, coalesce(o.revenue, 0) as revenue, coalesce(o.orders, 0) as orders,
           coalesce(c.n, 0) as new_customers, coalesce(l.n, 0) as leads
      from buckets b
      left join o on o.bucket = b.bucket
      left join c on c.bucket = b.bucket
      left join l on l.bucket = b.bucket
     order by b.bucket`;

}

const sum = (points: TrendTotals[]): TrendTotals => {
  const t = points.reduce<TrendTotals>(
    (acc, p) => ({ revenue: acc.revenue + p.revenue, orders: acc.orders + p.orders, newCustomers: acc.newCustomers + p.newCustomers, leads: acc.leads + p.leads }),
    { revenue: 0, orders: 0, newCustomers: 0, leads: 0 },
  );
  return { ...t, revenue: Math.round(t.revenue * 100) / 100 };
};

/** Revenue, orders, new customers and leads per day or week over a period, with the same totals for the period just before. */
export async function trends(tx: Tx, userId: string, q: TrendsQuery): Promise<Trends> {
  const start = `${q.from}T00:00:00Z`;
  const end = `${addDays(q.to, 1)}T00:00:00Z`;
  const days = Math.round((Date.parse(end) - Date.parse(start)) / DAY_MS);
  const prevStart = `${addDays(q.from, -days)}T00:00:00Z`;
  const points = await buckets(tx, userId, q.interval, start, end);
  // The period before, by the same query, so each figure is defined once.
  const previous = sum(await buckets(tx, userId, q.interval, prevStart, start));
  return {
    from: q.from,
    to: q.to,
    interval: q.interval,
    points,
    totals: sum(points),
    previous: { ...previous, from: addDays(q.from, -days), to: addDays(q.from, -1) },
  };
}
