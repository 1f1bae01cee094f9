-- Loyalty, part 3: the program's figures without reading every member. Per merchant and day
-- (of the store's time zone): points issued, redeemed, expired, clawed back and adjusted, and
-- members joined; per tier: its members. As for trends, writers append deltas (triggers on the
-- ledger, the members and the tier log), the rollups cron folds them, a read sums both, and a
-- change of the store's time zone recomputes the days from the stored rows.
--
-- Outstanding points (the liability) = issued - redeemed - expired - clawed back + adjusted,
-- which is the sum of every ledger row: the same number as the sum of the members' balances.

create table public.loyalty_daily (
  user_id uuid not null references auth.users (id) on delete cascade,
  day date not null,
  issued bigint not null default 0,
  redeemed bigint not null default 0,
  expired bigint not null default 0,
  clawed_back bigint not null default 0,
  adjusted bigint not null default 0,
  members_joined integer not null default 0,
  primary key (user_id, day)
);
create table public.loyalty_daily_deltas (
  id bigint generated always as identity,
  user_id uuid not null references auth.users (id) on delete cascade,
  day date not null,
  issued bigint not null default 0,
  redeemed bigint not null default 0,
  expired bigint not null default 0,
  clawed_back bigint not null default 0,
  adjusted bigint not null default 0,
  members_joined integer not null default 0,
  primary key (user_id, day, id)
);
create table public.loyalty_tier_counts (
  user_id uuid not null,
  tier_id uuid not null,
  members integer not null default 0,
  primary key (user_id, tier_id),
  foreign key (user_id, tier_id) references public.loyalty_tiers (user_id, id) on delete cascade
);
create table public.loyalty_tier_count_deltas (
  id bigint generated always as identity,
  user_id uuid not null,
  tier_id uuid not null,
  members integer not null,
  primary key (user_id, tier_id, id),
  foreign key (user_id, tier_id) references public.loyalty_tiers (user_id, id) on delete cascade
);

alter table public.loyalty_daily enable row level security;
alter table public.loyalty_daily_deltas enable row level security;
alter table public.loyalty_tier_counts enable row level security;
alter table public.loyalty_tier_count_deltas enable row level security;
create policy loyalty_daily_owner on public.loyalty_daily for select to authenticated using (user_id = (select auth.uid()));
create policy loyalty_daily_deltas_owner on public.loyalty_daily_deltas for select to authenticated using (user_id = (select auth.uid()));
create policy loyalty_tier_counts_owner on public.loyalty_tier_counts for select to authenticated using (user_id = (select auth.uid()));
create policy loyalty_tier_count_deltas_owner on public.loyalty_tier_count_deltas for select to authenticated using (user_id = (select auth.uid()));
revoke all on public.loyalty_daily, public.loyalty_daily_deltas, public.loyalty_tier_counts, public.loyalty_tier_count_deltas from anon, authenticated;
grant select on public.loyalty_daily, public.loyalty_daily_deltas, public.loyalty_tier_counts, public.loyalty_tier_count_deltas to authenticated;

/** Statement trigger on the ledger: the day's points by kind, one delta row per merchant and day. */
create or replace function private.points_transactions_daily()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.lock_trends(u.user_id) from (select distinct n.user_id from new_rows n) u;
  insert into public.loyalty_daily_deltas (user_id, day, issued, redeemed, expired, clawed_back, adjusted)
  select n.user_id, (n.created_at at time zone coalesce(s.time_zone, 'UTC'))::date,
         coalesce(sum(n.points) filter (where n.type like 'earn\_%'), 0),
         coalesce(-sum(n.points) filter (where n.type in ('redeem', 'redeem_return')), 0),
         coalesce(-sum(n.points) filter (where n.type = 'expire'), 0),
         coalesce(-sum(n.points) filter (where n.type = 'clawback'), 0),
         coalesce(sum(n.points) filter (where n.type = 'adjustment'), 0)
    from new_rows n left join public.merchant_settings s on s.user_id = n.user_id
   where n.points <> 0
   group by 1, 2;
  return null;
end
$$;
create trigger points_transactions_daily after insert on public.points_transactions
  referencing new table as new_rows for each statement execute function private.points_transactions_daily();

/**
 * Statement triggers on members: joined on the day they joined; a member erased takes its
 * tier's count and its balance along (the points it held are no longer owed).
 */
create or replace function private.loyalty_members_counts()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    perform private.lock_trends(u.user_id) from (select distinct n.user_id from new_rows n) u;
    insert into public.loyalty_daily_deltas (user_id, day, members_joined)
    select n.user_id, (n.joined_at at time zone coalesce(s.time_zone, 'UTC'))::date, count(*)
      from new_rows n left join public.merchant_settings s on s.user_id = n.user_id
     group by 1, 2;
    return null;
  end if;
  -- When the merchant itself is being deleted (cascade from auth.users) its figures go too.
  insert into public.loyalty_daily_deltas (user_id, day, members_joined, adjusted)
  select o.user_id, (o.joined_at at time zone coalesce(s.time_zone, 'UTC'))::date, -count(*), -sum(o.points_balance)
    from old_rows o left join public.merchant_settings s on s.user_id = o.user_id
   where exists (select 1 from auth.users u where u.id = o.user_id)
   group by 1, 2;
  insert into public.loyalty_tier_count_deltas (user_id, tier_id, members)
  select o.user_id, o.tier_id, -count(*) from old_rows o
   where o.tier_id is not null
     and exists (select 1 from public.loyalty_tiers t where t.user_id = o.user_id and t.id = o.tier_id)
   group by 1, 2;
  return null;
end
$$;
create trigger loyalty_members_counts_insert after insert on public.loyalty_members
  referencing new table as new_rows for each statement execute function private.loyalty_members_counts();
create trigger loyalty_members_counts_delete after delete on public.loyalty_members
  referencing old table as old_rows for each statement execute function private.loyalty_members_counts();

/** Statement trigger on the tier log: one member more in the tier reached, one fewer in the tier left. */
create or replace function private.loyalty_tier_changes_counts()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.loyalty_tier_count_deltas (user_id, tier_id, members)
  select d.user_id, d.tier_id, sum(d.n)::integer
    from (select n.user_id, n.to_tier_id as tier_id, 1 as n from new_rows n where n.to_tier_id is not null
          union all
          select n.user_id, n.from_tier_id, -1 from new_rows n where n.from_tier_id is not null) d
   where exists (select 1 from public.loyalty_tiers t where t.user_id = d.user_id and t.id = d.tier_id)
   group by 1, 2
  having sum(d.n) <> 0;
  return null;
end
$$;
create trigger loyalty_tier_changes_counts after insert on public.loyalty_tier_changes
  referencing new table as new_rows for each statement execute function private.loyalty_tier_changes_counts();
revoke execute on function private.points_transactions_daily(), private.loyalty_members_counts(),
  private.loyalty_tier_changes_counts() from public, anon, authenticated;

/** The merchant's loyalty days recomputed from the ledger and the members, in the store's time zone. */
create or replace function private.loyalty_rebuild_daily(p_user_id uuid)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_tz text := private.merchant_time_zone(p_user_id);
begin
  perform private.lock_trends(p_user_id, true);
  delete from public.loyalty_daily_deltas where user_id = p_user_id;
  delete from public.loyalty_daily where user_id = p_user_id;
  insert into public.loyalty_daily (user_id, day, issued, redeemed, expired, clawed_back, adjusted, members_joined)
  select p_user_id, d.day, sum(d.issued), sum(d.redeemed), sum(d.expired), sum(d.clawed_back), sum(d.adjusted), sum(d.joined)
    from (
      select (t.created_at at time zone v_tz)::date as day,
             coalesce(sum(t.points) filter (where t.type like 'earn\_%'), 0) as issued,
             coalesce(-sum(t.points) filter (where t.type in ('redeem', 'redeem_return')), 0) as redeemed,
             coalesce(-sum(t.points) filter (where t.type = 'expire'), 0) as expired,
             coalesce(-sum(t.points) filter (where t.type = 'clawback'), 0) as clawed_back,
             coalesce(sum(t.points) filter (where t.type = 'adjustment'), 0) as adjusted,
             0 as joined
        from public.points_transactions t where t.user_id = p_user_id group by 1
      union all
      select (m.joined_at at time zone v_tz)::date, 0, 0, 0, 0, 0, count(*)
        from public.loyalty_members m where m.user_id = p_user_id group by 1
    ) d
   group by d.day;
end
$$;

/** Trigger: a new time zone moves the loyalty days too (set_time_zone holds the lock). */
create or replace function private.merchant_time_zone_loyalty()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.loyalty_rebuild_daily(new.user_id);
  return null;
end
$$;
revoke execute on function private.merchant_time_zone_loyalty() from public, anon, authenticated;
create trigger merchant_settings_loyalty_days after update of time_zone on public.merchant_settings
  for each row when (old.time_zone is distinct from new.time_zone) execute function private.merchant_time_zone_loyalty();

/** Cron: fold the loyalty deltas into the totals (concurrent runs take disjoint rows). */
create or replace function private.compact_loyalty(p_limit integer default 100000)
returns integer
language sql
volatile
set search_path = ''
as $$
  with taken as (
    delete from public.loyalty_daily_deltas d
     where (d.user_id, d.day, d.id) in (select x.user_id, x.day, x.id from public.loyalty_daily_deltas x limit p_limit for update skip locked)
    returning d.*
  ), folded as (
    insert into public.loyalty_daily as l (user_id, day, issued, redeemed, expired, clawed_back, adjusted, members_joined)
    select t.user_id, t.day, sum(t.issued), sum(t.redeemed), sum(t.expired), sum(t.clawed_back), sum(t.adjusted), sum(t.members_joined)
      from taken t group by 1, 2 order by 1, 2
    on conflict (user_id, day) do update
       set issued = l.issued + excluded.issued, redeemed = l.redeemed + excluded.redeemed, expired = l.expired + excluded.expired,
           clawed_back = l.clawed_back + excluded.clawed_back, adjusted = l.adjusted + excluded.adjusted,
           members_joined = l.members_joined + excluded.members_joined
    returning 1
  ), tiers_taken as (
    delete from public.loyalty_tier_count_deltas d
     where (d.user_id, d.tier_id, d.id) in (select x.user_id, x.tier_id, x.id from public.loyalty_tier_count_deltas x limit p_limit for update skip locked)
    returning d.*
  ), tiers_folded as (
    insert into public.loyalty_tier_counts as c (user_id, tier_id, members)
    select t.user_id, t.tier_id, sum(t.members) from tiers_taken t group by 1, 2 order by 1, 2
    on conflict (user_id, tier_id) do update set members = c.members + excluded.members
    returning 1
  )
  select (select count(*)::integer from taken) + (select count(*)::integer from tiers_taken)
$$;

-- Programs that exist already start with their history.
select private.loyalty_rebuild_daily(p.user_id) from public.loyalty_programs p;
insert into public.loyalty_tier_counts (user_id, tier_id, members)
select m.user_id, m.tier_id, count(*) from public.loyalty_members m where m.tier_id is not null group by 1, 2;
