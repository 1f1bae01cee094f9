-- Trends without reading a period's orders: per merchant and day (a day of the merchant's time
-- zone), the day's orders, revenue, first orders, new customers, leads and stage movements, and
-- per first-order month the customers who ordered in each later month (cohort retention).
--
-- Like customer_rollups, writers only append deltas, so concurrent orders never wait on one
-- row; the rollups cron folds deltas into the totals and a read sums both. Orders reach the
-- rollup through the order pipeline (handlers registered here at 150), customers and stage
-- moves through statement triggers on their tables. Changing the time zone rebuilds the
-- merchant's rollup from the stored rows (private.rebuild_trends), which is also what the
-- tests compare the incremental figures with.

alter table public.merchant_settings add column time_zone text not null default 'UTC';

create table public.daily_metrics (
  user_id uuid not null references auth.users (id) on delete cascade,
  day date not null,
  orders integer not null default 0,
  revenue numeric(14, 2) not null default 0,
  first_orders integer not null default 0,
  new_customers integer not null default 0,
  leads integer not null default 0,
  into_at_risk integer not null default 0,
  won_back integer not null default 0,
  into_churned integer not null default 0,
  primary key (user_id, day)
);

create table public.daily_metric_deltas (
  id bigint generated always as identity,
  user_id uuid not null references auth.users (id) on delete cascade,
  day date not null,
  orders integer not null default 0,
  revenue numeric(14, 2) not null default 0,
  first_orders integer not null default 0,
  new_customers integer not null default 0,
  leads integer not null default 0,
  into_at_risk integer not null default 0,
  won_back integer not null default 0,
  into_churned integer not null default 0,
  -- One index serves both the read (a merchant's days) and the fold (by key).
  primary key (user_id, day, id)
);

create table public.cohort_months (
  user_id uuid not null references auth.users (id) on delete cascade,
  cohort date not null check (extract(day from cohort) = 1),
  month date not null check (extract(day from month) = 1 and month >= cohort),
  customers integer not null default 0,
  primary key (user_id, cohort, month)
);

create table public.cohort_month_deltas (
  id bigint generated always as identity,
  user_id uuid not null references auth.users (id) on delete cascade,
  cohort date not null,
  month date not null,
  customers integer not null,
  primary key (user_id, cohort, month, id)
);

alter table public.daily_metrics enable row level security;
alter table public.daily_metric_deltas enable row level security;
alter table public.cohort_months enable row level security;
alter table public.cohort_month_deltas enable row level security;
create policy daily_metrics_owner on public.daily_metrics for select to authenticated using (user_id = (select auth.uid()));
create policy daily_metric_deltas_owner on public.daily_metric_deltas for select to authenticated using (user_id = (select auth.uid()));
create policy cohort_months_owner on public.cohort_months for select to authenticated using (user_id = (select auth.uid()));
create policy cohort_month_deltas_owner on public.cohort_month_deltas for select to authenticated using (user_id = (select auth.uid()));
-- Read-only for the API roles: every figure is written by the functions below.
revoke all on public.daily_metrics, public.daily_metric_deltas, public.cohort_months, public.cohort_month_deltas from anon, authenticated;
grant select on public.daily_metrics, public.daily_metric_deltas, public.cohort_months, public.cohort_month_deltas to authenticated;

-- The customers list reads became_lead_at through this index no more: trends read the rollup.
-- Without it, capturing a lead can be a HOT update again.
drop index if exists public.customers_became_lead_idx;

/**
 * Writers take this lock shared, a time zone change takes it exclusive: a rebuild never runs
 * while a delta computed with the old zone is still uncommitted, and no delta is computed with
 * the old zone after the rebuild has started.
 */
create or replace function private.lock_trends(p_user_id uuid, p_exclusive boolean default false)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if p_exclusive then
    perform pg_advisory_xact_lock(hashtextextended('trends/' || p_user_id::text, 0));
  else
    perform pg_advisory_xact_lock_shared(hashtextextended('trends/' || p_user_id::text, 0));
  end if;
end
$$;

/** The merchant's time zone (UTC for a merchant without settings). */
create or replace function private.merchant_time_zone(p_user_id uuid)
returns text
language sql
stable
set search_path = ''
as $$ select coalesce((select s.time_zone from public.merchant_settings s where s.user_id = p_user_id), 'UTC') $$;

/**
 * What one order changes in the rollup, in one statement: the order on the day it was placed
 * (its total less refunds), and its customer's figures given the customer's other standing
 * orders: the first-order day, and the cohort's cells (the cohort is the month of the first
 * standing order, a cell each month the customer ordered in). p_sign is 1 when the order
 * starts counting and -1 when it stops (cancelled). The customer's part is the difference
 * between its contribution with and without the order, so it is exact whatever order orders
 * arrive in. The caller holds the customer's row, so two orders of one customer are counted
 * one after the other and each sees the other. (plpgsql, so the plan is kept between calls.)
 */
create or replace function private.trends_order_change(p_user_id uuid, p_order_id uuid, p_sign integer, p_tz text)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  with o as (
    select x.ordered_at, x.customer_id, x.total - x.refunded_total as net
      from public.orders x where x.user_id = p_user_id and x.id = p_order_id
  ), standing as (
    select x.ordered_at from public.orders x, o
     where x.user_id = p_user_id and x.customer_id = o.customer_id and x.cancelled_at is null and x.id <> p_order_id
  ), with_it as (
    select ordered_at from standing union all select ordered_at from o where o.customer_id is not null
  ), first_day as (
    select (min(ordered_at) at time zone p_tz)::date as day, 1 as n from with_it having count(*) > 0
    union all
    select (min(ordered_at) at time zone p_tz)::date, -1 from standing having count(*) > 0
  ), daily as (
    select (o.ordered_at at time zone p_tz)::date as day, 1 as orders, o.net as revenue, 0 as first_orders from o
    union all
    select day, 0, 0, n from first_day
  ), daily_insert as (
    insert into public.daily_metric_deltas (user_id, day, orders, revenue, first_orders)
    select p_user_id, d.day, sum(d.orders)::integer * p_sign, sum(d.revenue) * p_sign, sum(d.first_orders)::integer * p_sign
      from daily d group by d.day having sum(d.orders) <> 0 or sum(d.revenue) <> 0 or sum(d.first_orders) <> 0
    returning 1
  ), months_with as (
    select distinct date_trunc('month', ordered_at at time zone p_tz)::date as month from with_it
  ), months_without as (
    select distinct date_trunc('month', ordered_at at time zone p_tz)::date as month from standing
  ), cells as (
    select (select min(month) from months_with) as cohort, month, 1 as n from months_with
    union all
    select (select min(month) from months_without), month, -1 from months_without
  )
  insert into public.cohort_month_deltas (user_id, cohort, month, customers)
  select p_user_id, c.cohort, c.month, sum(c.n)::integer * p_sign from cells c group by c.cohort, c.month having sum(c.n) <> 0;
end
$$;

/** The order's customer (locked, as the journey handler already holds it) and the merchant's time zone. */
create or replace function private.trends_order_context(p_user_id uuid, p_order_id uuid)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_tz text;
begin
  perform private.lock_trends(p_user_id);
  perform 1 from public.customers c
   where c.user_id = p_user_id and c.id = (select o.customer_id from public.orders o where o.user_id = p_user_id and o.id = p_order_id)
   for no key update;
  select coalesce(s.time_zone, 'UTC') into v_tz from public.merchant_settings s where s.user_id = p_user_id;
  return coalesce(v_tz, 'UTC');
end
$$;

/** Order handler: the order counts on the day it was placed, and for its customer's first order and cohort. */
create or replace function private.trends_on_order(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
  if exists (select 1 from public.orders o where o.user_id = p_user_id and o.id = p_order_id and o.cancelled_at is not null) then
    return jsonb_build_object('counted', false);
  end if;
  perform private.trends_order_change(p_user_id, p_order_id, 1, private.trends_order_context(p_user_id, p_order_id));
  return jsonb_build_object('counted', true);
end
$$;

/** Refund handler: revenue of the order's day goes down by the refund; a cancelled order no longer counts. */
create or replace function private.trends_on_refund(p_user_id uuid, p_refund_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v record;
begin
  perform private.lock_trends(p_user_id);
  select r.amount, o.ordered_at, o.cancelled_at, coalesce(s.time_zone, 'UTC') as tz into v
    from public.order_refunds r
    join public.orders o on o.user_id = r.user_id and o.id = r.order_id
    left join public.merchant_settings s on s.user_id = r.user_id
   where r.user_id = p_user_id and r.id = p_refund_id;
  if v.cancelled_at is not null or coalesce(v.amount, 0) = 0 then
    return jsonb_build_object('revenue', 0);
  end if;
  insert into public.daily_metric_deltas (user_id, day, revenue) values (p_user_id, (v.ordered_at at time zone v.tz)::date, -v.amount);
  return jsonb_build_object('revenue', -v.amount);
end
$$;

/** Cancel handler: the order stops counting, as if it had never been placed. */
create or replace function private.trends_on_cancel(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform private.trends_order_change(p_user_id, p_order_id, -1, private.trends_order_context(p_user_id, p_order_id));
  return jsonb_build_object('counted', false);
end
$$;

select private.register_order_handler('order', 'trends', 150, 'private.trends_on_order(uuid,uuid,timestamptz)');
select private.register_order_handler('refund', 'trends', 150, 'private.trends_on_refund(uuid,uuid,timestamptz)');
select private.register_order_handler('cancel', 'trends', 150, 'private.trends_on_cancel(uuid,uuid,timestamptz)');

/**
 * Triggers on customers: new customers on the day they were first seen, leads on the day they
 * left an email. Inserts are counted per statement; an update is counted only for the rare row
 * whose dates changed (the WHEN clause keeps every other update free). Definer: the merchant's
 * own edits fire them too.
 */
create or replace function private.customers_trends_insert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from new_rows) then
    return null;
  end if;
  perform private.lock_trends(u.user_id) from (select distinct n.user_id from new_rows n) u;
  insert into public.daily_metric_deltas (user_id, day, new_customers, leads)
  select d.user_id, d.day, sum(d.new_customers)::integer, sum(d.leads)::integer
    from (
      select n.user_id, (n.created_at at time zone coalesce(s.time_zone, 'UTC'))::date as day, 1 as new_customers, 0 as leads
        from new_rows n left join public.merchant_settings s on s.user_id = n.user_id
      union all
      select n.user_id, (n.became_lead_at at time zone coalesce(s.time_zone, 'UTC'))::date, 0, 1
        from new_rows n left join public.merchant_settings s on s.user_id = n.user_id
       where n.became_lead_at is not null
    ) d
   group by d.user_id, d.day;
  return null;
end
$$;
revoke execute on function private.customers_trends_insert() from public, anon, authenticated;

create or replace function private.customers_trends_update()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_tz text;
begin
  perform private.lock_trends(new.user_id);
  v_tz := private.merchant_time_zone(new.user_id);
  insert into public.daily_metric_deltas (user_id, day, new_customers, leads)
  select new.user_id, d.day, sum(d.new_customers)::integer, sum(d.leads)::integer
    from (
      select (new.created_at at time zone v_tz)::date as day, 1 as new_customers, 0 as leads
      union all select (old.created_at at time zone v_tz)::date, -1, 0
      union all select (new.became_lead_at at time zone v_tz)::date, 0, 1 where new.became_lead_at is not null
      union all select (old.became_lead_at at time zone v_tz)::date, 0, -1 where old.became_lead_at is not null
    ) d
   group by d.day
  having sum(d.new_customers) <> 0 or sum(d.leads) <> 0;
  return null;
end
$$;
revoke execute on function private.customers_trends_update() from public, anon, authenticated;

create trigger customers_trends_insert after insert on public.customers
  referencing new table as new_rows for each statement execute function private.customers_trends_insert();
create trigger customers_trends_update after update of created_at, became_lead_at on public.customers
  for each row when (old.created_at is distinct from new.created_at or old.became_lead_at is distinct from new.became_lead_at)
  execute function private.customers_trends_update();

/**
 * Trigger on the stage log: customers into at risk, back from at risk or churned, and into
 * churned, on the day they moved. Row by row, and only for moves from or to those stages (the
 * WHEN clause leaves every other move free: most moves are a purchase's).
 */
create or replace function private.stage_transitions_trends_delta()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.lock_trends(new.user_id);
  insert into public.daily_metric_deltas (user_id, day, into_at_risk, won_back, into_churned)
  values (new.user_id, (new.transitioned_at at time zone private.merchant_time_zone(new.user_id))::date,
          (new.to_stage = 'at_risk')::integer,
          (new.from_stage in ('at_risk', 'churned') and new.to_stage not in ('at_risk', 'churned'))::integer,
          (new.to_stage = 'churned')::integer);
  return null;
end
$$;
revoke execute on function private.stage_transitions_trends_delta() from public, anon, authenticated;

create trigger stage_transitions_trends after insert on public.stage_transitions
  for each row when (new.to_stage in ('at_risk', 'churned') or new.from_stage in ('at_risk', 'churned'))
  execute function private.stage_transitions_trends_delta();

/**
 * The merchant's trends recomputed from the stored rows in its current time zone: what the
 * deltas add up to, by construction. Run when the time zone changes (and by the tests).
 */
create or replace function private.rebuild_trends(p_user_id uuid)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_tz text;
begin
  perform private.lock_trends(p_user_id, true);
  v_tz := private.merchant_time_zone(p_user_id);
  delete from public.daily_metric_deltas where user_id = p_user_id;
  delete from public.daily_metrics where user_id = p_user_id;
  delete from public.cohort_month_deltas where user_id = p_user_id;
  delete from public.cohort_months where user_id = p_user_id;

  insert into public.daily_metrics (user_id, day, orders, revenue, first_orders, new_customers, leads, into_at_risk, won_back, into_churned)
  select p_user_id, f.day, sum(f.orders), sum(f.revenue), sum(f.first_orders), sum(f.new_customers), sum(f.leads),
         sum(f.into_at_risk), sum(f.won_back), sum(f.into_churned)
    from (
      select (o.ordered_at at time zone v_tz)::date as day, count(*) as orders, sum(o.total - o.refunded_total) as revenue,
             0 as first_orders, 0 as new_customers, 0 as leads, 0 as into_at_risk, 0 as won_back, 0 as into_churned
        from public.orders o where o.user_id = p_user_id and o.cancelled_at is null group by 1
      union all
      select (f.first_at at time zone v_tz)::date, 0, 0, count(*), 0, 0, 0, 0, 0
        from (select min(o.ordered_at) as first_at from public.orders o
               where o.user_id = p_user_id and o.cancelled_at is null and o.customer_id is not null
               group by o.customer_id) f
       group by 1
      union all
      select (c.created_at at time zone v_tz)::date, 0, 0, 0, count(*), 0, 0, 0, 0
        from public.customers c where c.user_id = p_user_id group by 1
      union all
      select (c.became_lead_at at time zone v_tz)::date, 0, 0, 0, 0, count(*), 0, 0, 0
        from public.customers c where c.user_id = p_user_id and c.became_lead_at is not null group by 1
      union all
      select (t.transitioned_at at time zone v_tz)::date, 0, 0, 0, 0, 0,
             count(*) filter (where t.to_stage = 'at_risk'),
             count(*) filter (where t.from_stage in ('at_risk', 'churned') and t.to_stage not in ('at_risk', 'churned')),
             count(*) filter (where t.to_stage = 'churned')
        from public.stage_transitions t
       where t.user_id = p_user_id and (t.to_stage in ('at_risk', 'churned') or t.from_stage in ('at_risk', 'churned'))
       group by 1
    ) f
   group by f.day;

  insert into public.cohort_months (user_id, cohort, month, customers)
  select p_user_id, m.cohort, m.month, count(*)
    from (
      select distinct o.customer_id, date_trunc('month', o.ordered_at at time zone v_tz)::date as month,
             min(date_trunc('month', o.ordered_at at time zone v_tz)::date) over (partition by o.customer_id) as cohort
        from public.orders o
       where o.user_id = p_user_id and o.cancelled_at is null and o.customer_id is not null
    ) m
   group by m.cohort, m.month;
end
$$;

/** Settings: a new time zone (a name PostgreSQL knows, e.g. Europe/Paris), and the trends recomputed in it. */
create or replace function private.set_time_zone(p_user_id uuid, p_time_zone text)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if not exists (select 1 from pg_catalog.pg_timezone_names z where z.name = p_time_zone) then
    raise exception 'Unknown time zone' using errcode = 'HH422';
  end if;
  if p_time_zone = private.merchant_time_zone(p_user_id) then
    return;
  end if;
  perform private.lock_trends(p_user_id, true);
  update public.merchant_settings s set time_zone = p_time_zone where s.user_id = p_user_id;
  perform private.rebuild_trends(p_user_id);
end
$$;

/** Cron: fold pending trend deltas into the totals (concurrent runs take disjoint rows). */
create or replace function private.compact_trends(p_limit integer default 100000)
returns integer
language sql
volatile
set search_path = ''
as $$
  with taken as (
    delete from public.daily_metric_deltas d
     where (d.user_id, d.day, d.id) in (select x.user_id, x.day, x.id from public.daily_metric_deltas x limit p_limit for update skip locked)
    returning d.*
  ), folded as (
    insert into public.daily_metrics as m (user_id, day, orders, revenue, first_orders, new_customers, leads, into_at_risk, won_back, into_churned)
    select t.user_id, t.day, sum(t.orders), sum(t.revenue), sum(t.first_orders), sum(t.new_customers), sum(t.leads),
           sum(t.into_at_risk), sum(t.won_back), sum(t.into_churned)
      from taken t group by 1, 2
     order by 1, 2
    on conflict (user_id, day) do update
       set orders = m.orders + excluded.orders, revenue = m.revenue + excluded.revenue,
           first_orders = m.first_orders + excluded.first_orders, new_customers = m.new_customers + excluded.new_customers,
           leads = m.leads + excluded.leads, into_at_risk = m.into_at_risk + excluded.into_at_risk,
           won_back = m.won_back + excluded.won_back, into_churned = m.into_churned + excluded.into_churned
    returning 1
  ), cohort_taken as (
    delete from public.cohort_month_deltas d
     where (d.user_id, d.cohort, d.month, d.id) in
           (select x.user_id, x.cohort, x.month, x.id from public.cohort_month_deltas x limit p_limit for update skip locked)
    returning d.*
  ), cohort_folded as (
    insert into public.cohort_months as m (user_id, cohort, month, customers)
    select t.user_id, t.cohort, t.month, sum(t.customers) from cohort_taken t group by 1, 2, 3
     order by 1, 2, 3
    on conflict (user_id, cohort, month) do update set customers = m.customers + excluded.customers
    returning 1
  )
  select (select count(*)::integer from taken) + (select count(*)::integer from cohort_taken)
$$;

-- Existing merchants (a database migrated with data) start with their history.
select private.rebuild_trends(s.user_id) from public.merchant_settings s;
