-- Customer journey, part 5: analytics without scanning every customer: per-merchant counts by
-- stage and collection, kept exact by statement-level triggers on customers. Triggers only
-- append deltas (no row everyone updates, so concurrent orders never wait on each other);
-- the rollups cron folds deltas into the totals. A read sums both.

create table public.customer_rollups (
  user_id uuid not null references auth.users (id) on delete cascade,
  stage text not null,
  collection text not null,
  customers bigint not null default 0,
  leads bigint not null default 0,
  buyers bigint not null default 0,
  repeaters bigint not null default 0,
  lifetime_value numeric(14, 2) not null default 0,
  primary key (user_id, stage, collection)
);

create table public.customer_rollup_deltas (
  id bigint generated always as identity,
  user_id uuid not null references auth.users (id) on delete cascade,
  stage text not null,
  collection text not null,
  customers bigint not null,
  leads bigint not null,
  buyers bigint not null,
  repeaters bigint not null,
  lifetime_value numeric(14, 2) not null,
  primary key (user_id, id)
);

alter table public.customer_rollups enable row level security;
alter table public.customer_rollup_deltas enable row level security;
create policy customer_rollups_owner on public.customer_rollups for select to authenticated
  using (user_id = (select auth.uid()));
create policy customer_rollup_deltas_owner on public.customer_rollup_deltas for select to authenticated
  using (user_id = (select auth.uid()));
grant select on public.customer_rollups, public.customer_rollup_deltas to authenticated;

/**
 * Statement trigger on customers: the net change per (merchant, stage, collection) of the
 * rows this statement touched, appended as one delta row per group that changed. Definer,
 * because a merchant's own edits (names, flags) fire it too; not executable by API roles.
 */
create or replace function private.customers_rollup_delta()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Statement triggers fire for statements that touched nothing too (an upsert that found its
  -- row, an update that matched none): leave at once.
  if tg_op = 'DELETE' then
    if not exists (select 1 from old_rows) then return null; end if;
  elsif not exists (select 1 from new_rows) then
    return null;
  end if;
  if tg_op = 'INSERT' then
    insert into public.customer_rollup_deltas (user_id, stage, collection, customers, leads, buyers, repeaters, lifetime_value)
    select n.user_id, n.stage, coalesce(n.primary_collection, ''), count(*),
           count(*) filter (where n.became_lead_at is not null or n.total_orders > 0),
           count(*) filter (where n.total_orders >= 1), count(*) filter (where n.total_orders >= 2), sum(n.lifetime_value)
      from new_rows n group by 1, 2, 3;
  elsif tg_op = 'DELETE' then
    -- When the merchant itself is being deleted (cascade from auth.users) its totals go too.
    insert into public.customer_rollup_deltas (user_id, stage, collection, customers, leads, buyers, repeaters, lifetime_value)
    select o.user_id, o.stage, coalesce(o.primary_collection, ''), -count(*),
           -count(*) filter (where o.became_lead_at is not null or o.total_orders > 0),
           -count(*) filter (where o.total_orders >= 1), -count(*) filter (where o.total_orders >= 2), -sum(o.lifetime_value)
      from old_rows o
     where exists (select 1 from auth.users u where u.id = o.user_id)
     group by 1, 2, 3;
  else
    insert into public.customer_rollup_deltas (user_id, stage, collection, customers, leads, buyers, repeaters, lifetime_value)
    select d.user_id, d.stage, d.collection, sum(d.customers), sum(d.leads), sum(d.buyers), sum(d.repeaters), sum(d.ltv)
      from (
        select n.user_id, n.stage, coalesce(n.primary_collection, '') as collection, 1 as customers,
               (n.became_lead_at is not null or n.total_orders > 0)::int as leads, (n.total_orders >= 1)::int as buyers,
               (n.total_orders >= 2)::int as repeaters, n.lifetime_value as ltv
          from new_rows n
        union all
        select o.user_id, o.stage, coalesce(o.primary_collection, ''), -1,
               -(o.became_lead_at is not null or o.total_orders > 0)::int, -(o.total_orders >= 1)::int,
               -(o.total_orders >= 2)::int, -o.lifetime_value
          from old_rows o
      ) d
     group by 1, 2, 3
    having sum(d.customers) <> 0 or sum(d.leads) <> 0 or sum(d.buyers) <> 0 or sum(d.repeaters) <> 0 or sum(d.ltv) <> 0;
  end if;
  return null;
end
$$;
revoke execute on function private.customers_rollup_delta() from public, anon, authenticated;

create trigger customers_rollup_insert after insert on public.customers
  referencing new table as new_rows for each statement execute function private.customers_rollup_delta();
create trigger customers_rollup_update after update on public.customers
  referencing old table as old_rows new table as new_rows for each statement execute function private.customers_rollup_delta();
create trigger customers_rollup_delete after delete on public.customers
  referencing old table as old_rows for each statement execute function private.customers_rollup_delta();

/** Cron: fold pending deltas into the totals in one statement (concurrent runs take disjoint rows). */
create or replace function private.compact_customer_rollups(p_limit integer default 100000)
returns integer
language sql
volatile
set search_path = ''
as $$
  with taken as (
    delete from public.customer_rollup_deltas d
     where (d.user_id, d.id) in (select x.user_id, x.id from public.customer_rollup_deltas x limit p_limit for update skip locked)
    returning d.*
  ), summed as (
    insert into public.customer_rollups as r (user_id, stage, collection, customers, leads, buyers, repeaters, lifetime_value)
    select t.user_id, t.stage, t.collection, sum(t.customers), sum(t.leads), sum(t.buyers), sum(t.repeaters), sum(t.lifetime_value)
      from taken t group by 1, 2, 3
     order by 1, 2, 3
    on conflict (user_id, stage, collection) do update
       set customers = r.customers + excluded.customers, leads = r.leads + excluded.leads,
           buyers = r.buyers + excluded.buyers, repeaters = r.repeaters + excluded.repeaters,
           lifetime_value = r.lifetime_value + excluded.lifetime_value
    returning 1
  )
  select (select count(*)::integer from taken)
$$;

-- Existing customers (a database migrated with data) start in the totals.
insert into public.customer_rollups (user_id, stage, collection, customers, leads, buyers, repeaters, lifetime_value)
select user_id, stage, coalesce(primary_collection, ''), count(*),
       count(*) filter (where became_lead_at is not null or total_orders > 0),
       count(*) filter (where total_orders >= 1), count(*) filter (where total_orders >= 2), sum(lifetime_value)
  from public.customers group by 1, 2, 3;
