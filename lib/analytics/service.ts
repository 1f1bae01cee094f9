import 'server-only';
import type { Cohort, Cohorts, CohortsQuery, TrendFigures, Trends, TrendsQuery, TrendTotals } from '@/lib/analytics/schemas';
import type { Tx } from '@/lib/db';

const DAY_MS = 86_400_000;
const addDays = (date: string, days: number) => new Date(Date.parse(date) + days * DAY_MS).toISOString().slice(0, 10);

/** The merchant's time zone and today's date in it. */
async function merchantToday(tx: Tx, userId: string) {
  const [row] = await tx<{ timeZone: string; today: string }[]>`
    select s.time_zone, to_char((now() at time zone s.time_zone)::date, 'YYYY-MM-DD') as today
      from public.merchant_settings s where s.user_id = ${userId}`;
  return row ?? { timeZone: 'UTC', today: new Date().toISOString().slice(0, 10) };
}

/**
 * The figures of every day or week from `from` to `to` (both included, days of the merchant's
 * time zone), empty buckets included: the folded totals plus the deltas not folded yet, read
 * through their (user_id, day) keys, so a period costs its days, not its orders.
 */
function buckets(tx: Tx, userId: string, unit: 'day' | 'week', from: string, to: string) {
  return tx<(TrendFigures & { bucket: string })[]>`
    with d as (
      select day, orders, revenue, first_orders, new_customers, leads, into_at_risk, won_back, into_churned
        from public.daily_metrics where user_id = ${userId} and day between ${from}::date and ${to}::date
      union all
      select day, orders, revenue, first_orders, new_customers, leads, into_at_risk, won_back, into_churned
        from public.daily_metric_deltas where user_id = ${userId} and day between ${from}::date and ${to}::date
    ), g as (
      select date_trunc(${unit}, d.day)::date as bucket, sum(orders) as orders, sum(revenue) as revenue,
             sum(first_orders) as first_orders, sum(new_customers) as new_customers, sum(leads) as leads,
             sum(into_at_risk) as into_at_risk, sum(won_back) as won_back, sum(into_churned) as into_churned
        from d group by 1
    )
    select to_char(b.bucket, 'YYYY-MM-DD') as bucket, coalesce(g.revenue, 0) as revenue, coalesce(g.orders, 0)::int as orders,
           coalesce(g.orders - g.first_orders, 0)::int as repeat_orders, coalesce(g.new_customers, 0)::int as new_customers,
           coalesce(g.leads, 0)::int as leads, coalesce(g.into_at_risk, 0)::int as into_at_risk,
           coalesce(g.won_back, 0)::int as won_back, coalesce(g.into_churned, 0)::int as churned
      from generate_series(date_trunc(${unit}, ${from}::date), ${to}::date, ('1 ' || ${unit})::interval) b(bucket)
      left join g on g.bucket = b.bucket::date
     order by b.bucket`;
}

const rate = (f: TrendFigures) => (f.orders > 0 ? Math.round((f.repeatOrders / f.orders) * 10_000) / 10_000 : null);
const withRate = <T extends TrendFigures>(f: T) => ({ ...f, repeatRate: rate(f) });

const ZERO: TrendFigures = { revenue: 0, orders: 0, repeatOrders: 0, newCustomers: 0, leads: 0, intoAtRisk: 0, wonBack: 0, churned: 0 };
const FIELDS = Object.keys(ZERO) as (keyof TrendFigures)[];

function sum(points: TrendFigures[]): TrendTotals {
  const t = { ...ZERO };
  for (const p of points) for (const k of FIELDS) t[k] += p[k];
  return withRate({ ...t, revenue: Math.round(t.revenue * 100) / 100 });
}

/** Trends over a period, per day or week, with the same totals for the period just before. */
export async function trends(tx: Tx, userId: string, q: TrendsQuery): Promise<Trends> {
  const { timeZone, today } = await merchantToday(tx, userId);
  const to = q.to ?? today;
  const from = q.from ?? addDays(to, -((q.days ?? 1) - 1));
  const days = Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS) + 1;
  const points = await buckets(tx, userId, q.interval, from, to);
  // The period before, by the same query, so each figure is defined once.
  const previous = sum(await buckets(tx, userId, q.interval, addDays(from, -days), addDays(from, -1)));
  return {
    from,
    to,
    interval: q.interval,
    timeZone,
    points: points.map(withRate),
    totals: sum(points),
    previous: { ...previous, from: addDays(from, -days), to: addDays(from, -1) },
  };
}

/**
 * Cohort retention: customers by the month of their first standing order, and for each later
 * month how many of them ordered in it. Months of the merchant's time zone; read from the
 * rollup (at most months x months rows), never from orders.
 */
export async function cohorts(tx: Tx, userId: string, q: CohortsQuery): Promise<Cohorts> {
  const { timeZone, today } = await merchantToday(tx, userId);
  const current = `${today.slice(0, 7)}-01`;
  const rows = await tx<{ cohort: string; offset: number; customers: number }[]>`
    with first as (select (date_trunc('month', ${current}::date) - make_interval(months => ${q.months - 1}))::date as month),
    c as (
      select cohort, month, customers from public.cohort_months
       where user_id = ${userId} and cohort >= (select month from first)
      union all
      select cohort, month, customers from public.cohort_month_deltas
       where user_id = ${userId} and cohort >= (select month from first)
    )
    select to_char(cohort, 'YYYY-MM') as cohort,
           ((extract(year from month) - extract(year from cohort)) * 12 + extract(month from month) - extract(month from cohort))::int as offset,
           sum(customers)::int as customers
      from c group by cohort, month
     order by cohort, month`;
  const byCohort = new Map<string, Map<number, number>>();
  for (const r of rows) {
    const m = byCohort.get(r.cohort) ?? new Map<number, number>();
    m.set(r.offset, r.customers);
    byCohort.set(r.cohort, m);
  }
  const list: Cohort[] = [];
  for (let i = q.months - 1; i >= 0; i--) {
    const d = new Date(`${current}T00:00:00Z`);
    d.setUTCMonth(d.getUTCMonth() - i);
    const cohort = d.toISOString().slice(0, 7);
    const m = byCohort.get(cohort) ?? new Map<number, number>();
    const size = m.get(0) ?? 0;
    const retained = Array.from({ length: i }, (_, k) => {
      const n = m.get(k + 1) ?? 0;
      return { offset: k + 1, customers: n, share: size > 0 ? Math.round((n / size) * 10_000) / 10_000 : null };
    });
    list.push({ cohort, customers: size, retained });
  }
  return { timeZone, currentMonth: current.slice(0, 7), cohorts: list };
}
