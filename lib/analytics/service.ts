import 'server-only';
import type { Trends, TrendsQuery, TrendTotals } from '@/lib/analytics/schemas';
import type { Tx } from '@/lib/db';

const DAY_MS = 86_400_000;
const addDays = (date: string, days: number) => new Date(Date.parse(date) + days * DAY_MS).toISOString().slice(0, 10);

/**
 * Revenue, orders, new customers and leads per day or week over a period, and the same totals
 * for the period just before, computed in SQL from the stored rows: each source is read through
 * its (user_id, time) index for the period only, then grouped; empty buckets are filled in.
 */
export async function trends(tx: Tx, userId: string, q: TrendsQuery): Promise<Trends> {
  const start = `${q.from}T00:00:00Z`;
  const end = `${addDays(q.to, 1)}T00:00:00Z`;
  const days = Math.round((Date.parse(end) - Date.parse(start)) / DAY_MS);
  const prevStart = `${addDays(q.from, -days)}T00:00:00Z`;
  const unit = q.interval;

  const points = await tx<Trends['points']>`
    with buckets as (
      select (b at time zone 'UTC')::date as bucket
        from generate_series(date_trunc(${unit}, ${start}::timestamptz at time zone 'UTC') at time zone 'UTC',
                             ${end}::timestamptz - interval '1 microsecond', ('1 ' || ${unit})::interval) b
    ), o as (
      select (date_trunc(${unit}, ordered_at at time zone 'UTC'))::date as bucket,
             count(*)::int as orders, sum(total - refunded_total) as revenue
        from public.orders
       where user_id = ${userId} and ordered_at >= ${start}::timestamptz and ordered_at < ${end}::timestamptz
         and cancelled_at is null
       group by 1
    ), c as (
      select (date_trunc(${unit}, created_at at time zone 'UTC'))::date as bucket, count(*)::int as n
        from public.customers
       where user_id = ${userId} and created_at >= ${start}::timestamptz and created_at < ${end}::timestamptz
       group by 1
    ), l as (
      select (date_trunc(${unit}, became_lead_at at time zone 'UTC'))::date as bucket, count(*)::int as n
        from public.customers
       where user_id = ${userId} and became_lead_at >= ${start}::timestamptz and became_lead_at < ${end}::timestamptz
       group by 1
    )
    select to_char(b.bucket, 'YYYY-MM-DD') as bucket, coalesce(o.revenue, 0) as revenue, coalesce(o.orders, 0) as orders,
           coalesce(c.n, 0) as new_customers, coalesce(l.n, 0) as leads
      from buckets b
      left join o on o.bucket = b.bucket
      left join c on c.bucket = b.bucket
      left join l on l.bucket = b.bucket
     order by b.bucket`;

  const [previous] = await tx<TrendTotals[]>`
    select coalesce((select sum(total - refunded_total) from public.orders
                      where user_id = ${userId} and ordered_at >= ${prevStart}::timestamptz and ordered_at < ${start}::timestamptz
                        and cancelled_at is null), 0) as revenue,
           (select count(*)::int from public.orders
             where user_id = ${userId} and ordered_at >= ${prevStart}::timestamptz and ordered_at < ${start}::timestamptz
               and cancelled_at is null) as orders,
           (select count(*)::int from public.customers
             where user_id = ${userId} and created_at >= ${prevStart}::timestamptz and created_at < ${start}::timestamptz) as new_customers,
           (select count(*)::int from public.customers
             where user_id = ${userId} and became_lead_at >= ${prevStart}::timestamptz and became_lead_at < ${start}::timestamptz) as leads`;

  const totals = points.reduce<TrendTotals>(
    (t, p) => ({ revenue: t.revenue + p.revenue, orders: t.orders + p.orders, newCustomers: t.newCustomers + p.newCustomers, leads: t.leads + p.leads }),
    { revenue: 0, orders: 0, newCustomers: 0, leads: 0 },
  );
  totals.revenue = Math.round(totals.revenue * 100) / 100;
  return {
    from: q.from,
    to: q.to,
    interval: q.interval,
    points,
    totals,
    previous: { ...(previous ?? { revenue: 0, orders: 0, newCustomers: 0, leads: 0 }), from: addDays(q.from, -days), to: addDays(q.from, -1) },
  };
}
