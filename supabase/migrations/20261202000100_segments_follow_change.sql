-- Segments, part 2: membership that follows change instead of re-reading every customer.
--
-- Three sources of change, one predicate (private.segment_holds):
-- * A customer whose criteria columns changed (an order, a refund, a stage move, affinity, a
--   subscription, a removed collection) is queued in private.segment_changes by a statement
--   trigger; a drain step reconciles the queued customers with the merchant's dynamic segments.
-- * Time passing: "days since purchase" criteria change their answer at an instant,
--   last_purchase_at + N days. A time step reconciles only the customers whose instant fell in
--   the window since the segment's last step (customers_purchase_idx), never everyone.
-- * A new or edited segment is built from scratch in chunks of customer ids; the cursor is
--   kept on the segment, so a build resumes in the next call where the last one stopped.
-- Counts follow the membership rows by trigger as appended deltas (no row every writer must
-- lock), folded by the steps; a read adds what is not folded yet.
-- Lock order, so writers never deadlock on memberships: the segment rows (by user_id, id),
-- then the memberships. Orders never touch memberships; they only queue the customer.

alter table public.customer_segments
  -- Set while a build from scratch is under way: the instant it evaluates from.
  add column build_started_at timestamptz,
  -- The build's cursor: customers up to this id are done (null: none yet).
  add column build_after uuid,
  -- The time step's watermark: threshold crossings up to here are applied.
  add column time_checked_at timestamptz,
  -- Set when a step of this segment failed: it is left alone (the others go on) until its
  -- criteria are saved again. What the merchant sees; the database's code is in it.
  add column follow_error text check (length(follow_error) <= 300);

drop function private.evaluate_due_segments(timestamptz, integer);
drop index public.customer_segments_due_idx;
create index customer_segments_build_idx on public.customer_segments (build_started_at) where build_started_at is not null;
create index customer_segments_time_idx on public.customer_segments (time_checked_at nulls first)
  where build_started_at is null and is_dynamic and is_active
    and (criteria ? 'min_days_since_purchase' or criteria ? 'max_days_since_purchase');

/**
 * Segment criteria as typed values at one instant: what segment_holds compares a customer with.
 * Whole numbers are read through numeric: the CHECK accepts 1.0, which jsonb keeps as "1.0".
 */
create type private.segment_rule as (
  stages text[],
  collections text[],
  min_ltv numeric,
  max_ltv numeric,
  min_orders integer,
  max_orders integer,
  bought_before timestamptz,
  bought_after timestamptz,
  subscribed boolean
);

create or replace function private.segment_rule(p_criteria jsonb, p_now timestamptz)
returns private.segment_rule
language sql
immutable
set search_path = ''
as $$
  select row(
    nullif(array(select jsonb_array_elements_text(coalesce(p_criteria -> 'stages', '[]'))), '{}'),
    nullif(array(select jsonb_array_elements_text(coalesce(p_criteria -> 'collections', '[]'))), '{}'),
    (p_criteria ->> 'min_ltv')::numeric,
    (p_criteria ->> 'max_ltv')::numeric,
    (p_criteria ->> 'min_orders')::numeric::integer,
    (p_criteria ->> 'max_orders')::numeric::integer,
    p_now - make_interval(days => (p_criteria ->> 'min_days_since_purchase')::numeric::integer),
    p_now - make_interval(days => (p_criteria ->> 'max_days_since_purchase')::numeric::integer),
    (p_criteria ->> 'email_subscribed')::boolean
  )::private.segment_rule
$$;

/**
 * Whether a customer matches a rule: every given field must hold. The one place the criteria
 * are compared. A SQL expression the planner inlines into each statement that calls it, which
 * is why it sets no search_path (a SET clause forbids inlining): it reads no table, runs as its
 * caller, and the private schema is closed to the API roles. The columns it reads are the ones
 * private.customers_segment_changes watches: a criterion that reads another column adds it there.
 */
create or replace function private.segment_holds(r private.segment_rule, c public.customers)
returns boolean
language sql
immutable
as $$
  -- A customer without the value a criterion reads (no purchase, no collection) does not match
  -- it: false, never null, so a member in that state is removed.
  select coalesce((r.stages is null or c.stage operator(pg_catalog.=) any (r.stages))
     and (r.collections is null or c.primary_collection operator(pg_catalog.=) any (r.collections))
     and (r.min_ltv is null or c.lifetime_value operator(pg_catalog.>=) r.min_ltv)
     and (r.max_ltv is null or c.lifetime_value operator(pg_catalog.<=) r.max_ltv)
     and (r.min_orders is null or c.total_orders operator(pg_catalog.>=) r.min_orders)
     and (r.max_orders is null or c.total_orders operator(pg_catalog.<=) r.max_orders)
     and (r.bought_before is null or c.last_purchase_at operator(pg_catalog.<=) r.bought_before)
     and (r.bought_after is null or c.last_purchase_at operator(pg_catalog.>=) r.bought_after)
     and (r.subscribed is null or c.email_subscribed operator(pg_catalog.=) r.subscribed), false)
$$;

/** Ids of the merchant's customers matching criteria at p_now: the from-scratch answer (previews, checks). */
create or replace function public.segment_member_ids(p_user_id uuid, p_criteria jsonb, p_now timestamptz default now())
returns setof uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_rule private.segment_rule := private.segment_rule(p_criteria, p_now);
begin
  return query select c.id from public.customers c where c.user_id = p_user_id and private.segment_holds(v_rule, c);
end
$$;
-- It reads the private predicate, so the server runs it (a merchant's preview goes through the server).
revoke execute on function public.segment_member_ids(uuid, jsonb, timestamptz) from public, authenticated;

-- Customers whose criteria columns changed, waiting for the drain.
create table private.segment_changes (
  user_id uuid not null,
  customer_id uuid not null,
  changed_at timestamptz not null default now(),
  primary key (user_id, customer_id)
);
create index segment_changes_changed_idx on private.segment_changes (changed_at);

/**
 * Statement trigger on customers: queue the rows whose criteria columns changed. A customer
 * already queued is updated, not skipped: the update takes the queued row's lock, so a drain
 * running meanwhile either waits for this transaction (and then sees its change) or skips the
 * row and leaves it for the next drain, never deleting it while reading the old values.
 */
create or replace function private.customers_segment_changes()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into private.segment_changes as q (user_id, customer_id)
    select n.user_id, n.id from new_rows n
    on conflict (user_id, customer_id) do update set changed_at = excluded.changed_at;
  else
    insert into private.segment_changes as q (user_id, customer_id)
    select n.user_id, n.id
      from new_rows n join old_rows o on o.user_id = n.user_id and o.id = n.id
     where (n.stage, n.primary_collection, n.lifetime_value, n.total_orders, n.last_purchase_at, n.email_subscribed)
           is distinct from (o.stage, o.primary_collection, o.lifetime_value, o.total_orders, o.last_purchase_at, o.email_subscribed)
    on conflict (user_id, customer_id) do update set changed_at = excluded.changed_at;
  end if;
  return null;
end
$$;
revoke execute on function private.customers_segment_changes() from public, anon, authenticated;
create trigger customers_segment_insert after insert on public.customers
  referencing new table as new_rows for each statement execute function private.customers_segment_changes();
create trigger customers_segment_update after update on public.customers
  referencing old table as old_rows new table as new_rows for each statement execute function private.customers_segment_changes();

-- Member counts not yet folded into customer_segments.customer_count.
create table public.segment_count_deltas (
  user_id uuid not null,
  id bigint generated always as identity,
  segment_id uuid not null,
  delta integer not null,
  primary key (user_id, id),
  foreign key (user_id, segment_id) references public.customer_segments (user_id, id) on delete cascade
);
create index segment_count_deltas_segment_idx on public.segment_count_deltas (user_id, segment_id);
alter table public.segment_count_deltas enable row level security;
create policy segment_count_deltas_owner on public.segment_count_deltas for select to authenticated
  using (user_id = (select auth.uid()));
grant select on public.segment_count_deltas to authenticated;

/**
 * Statement triggers on memberships: the net change of active members per segment, appended.
 * A segment being deleted in the same statement (its memberships cascading) gets none.
 */
create or replace function private.segment_memberships_count()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.segment_count_deltas (user_id, segment_id, delta)
    select n.user_id, n.segment_id, count(*) from new_rows n where n.removed_at is null group by 1, 2;
  elsif tg_op = 'UPDATE' then
    insert into public.segment_count_deltas (user_id, segment_id, delta)
    select d.user_id, d.segment_id, sum(d.delta)
      from (select n.user_id, n.segment_id, (n.removed_at is null)::int as delta from new_rows n
            union all
            select o.user_id, o.segment_id, -(o.removed_at is null)::int from old_rows o) d
     group by 1, 2 having sum(d.delta) <> 0;
  else
    insert into public.segment_count_deltas (user_id, segment_id, delta)
    select o.user_id, o.segment_id, -count(*) from old_rows o
     where o.removed_at is null
       and exists (select 1 from public.customer_segments s where s.user_id = o.user_id and s.id = o.segment_id)
     group by 1, 2;
  end if;
  return null;
end
$$;
revoke execute on function private.segment_memberships_count() from public, anon, authenticated;
create trigger segment_memberships_count_insert after insert on public.segment_memberships
  referencing new table as new_rows for each statement execute function private.segment_memberships_count();
create trigger segment_memberships_count_update after update on public.segment_memberships
  referencing old table as old_rows new table as new_rows for each statement execute function private.segment_memberships_count();
create trigger segment_memberships_count_delete after delete on public.segment_memberships
  referencing old table as old_rows for each statement execute function private.segment_memberships_count();

/** A segment's member count: the folded total and what is not folded yet. */
create or replace function public.segment_member_count(p_user_id uuid, p_segment_id uuid)
returns integer
language sql
stable
security invoker
set search_path = ''
as $$
  select (s.customer_count + coalesce((select sum(d.delta) from public.segment_count_deltas d
                                        where d.user_id = s.user_id and d.segment_id = s.id), 0))::integer
    from public.customer_segments s where s.user_id = p_user_id and s.id = p_segment_id
$$;
grant execute on function public.segment_member_count(uuid, uuid) to authenticated;

/**
 * Fold the count deltas of these segments into their totals. The caller holds the segments'
 * rows (the lock order above), so no other writer of those counts runs meanwhile.
 */
create or replace function private.fold_segment_counts(p_user_ids uuid[], p_segment_ids uuid[])
returns integer
language sql
volatile
set search_path = ''
as $$
  with taken as (
    delete from public.segment_count_deltas d
     using unnest(p_user_ids, p_segment_ids) as t(user_id, segment_id)
     where d.user_id = t.user_id and d.segment_id = t.segment_id
    returning d.user_id, d.segment_id, d.delta
  ), sums as (
    select t.user_id, t.segment_id, sum(t.delta) as delta, count(*) as n from taken t group by 1, 2
  ), folded as (
    update public.customer_segments s set customer_count = s.customer_count + sums.delta
      from sums where s.user_id = sums.user_id and s.id = sums.segment_id
  )
  select coalesce(sum(n), 0)::integer from sums
$$;

/**
 * Trigger: a segment whose answer may have changed as a whole is rebuilt from scratch: on
 * creation, when its criteria change, and when it becomes dynamic or active again (it was not
 * followed meanwhile). The build runs in steps; until it ends the old members stay.
 */
create or replace function private.customer_segments_rebuild()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT'
     or new.criteria is distinct from old.criteria
     or (new.is_dynamic and new.is_active and not (old.is_dynamic and old.is_active)) then
    new.build_started_at := now();
    new.build_after := null;
    new.follow_error := null;
  end if;
  return new;
end
$$;
revoke execute on function private.customer_segments_rebuild() from public, anon, authenticated;
create trigger customer_segments_rebuild before insert or update of criteria, is_dynamic, is_active on public.customer_segments
  for each row execute function private.customer_segments_rebuild();

/**
 * Trigger: at most 200 segments a store. Every change of a customer is checked against each of
 * the store's segments, so the count is what one change costs; a cap keeps one store from
 * making the shared job slow for every other (a REST insert is a door too).
 */
create or replace function private.customer_segments_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- One store's inserts take turns, so two at once cannot both pass at 199.
  perform pg_advisory_xact_lock(hashtextextended('segments/' || new.user_id::text, 0));
  if (select count(*) from public.customer_segments s where s.user_id = new.user_id) >= 200 then
    raise exception 'A store can have at most 200 segments' using errcode = 'HH422';
  end if;
  return new;
end
$$;
revoke execute on function private.customer_segments_limit() from public, anon, authenticated;
create trigger customer_segments_limit before insert on public.customer_segments
  for each row execute function private.customer_segments_limit();

/** A removed collection's segments are locked in the order every segment step takes them (no deadlock). */
create or replace function private.segments_collection_removed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform 1 from public.customer_segments s
   where s.user_id = old.user_id and s.criteria -> 'collections' ? old.slug
   order by s.user_id, s.id
   for no key update;
  update public.customer_segments s
     set criteria = case when jsonb_array_length((s.criteria -> 'collections') - old.slug) = 0 then s.criteria - 'collections'
                         else jsonb_set(s.criteria, '{collections}', (s.criteria -> 'collections') - old.slug) end,
         is_active = s.is_active and jsonb_array_length((s.criteria -> 'collections') - old.slug) > 0
   where s.user_id = old.user_id and s.criteria -> 'collections' ? old.slug;
  return null;
end
$$;

/**
 * The one writer of memberships: for each (merchant, segment, customer) whether the customer
 * matches at p_now, bring the membership in line (a match added, or re-added if it had left; a
 * member who no longer matches removed). Rows already right are not written.
 */
create or replace function private.segment_apply(p_now timestamptz, p_user_ids uuid[], p_segment_ids uuid[],
                                                 p_customer_ids uuid[], p_holds boolean[])
returns table (added integer, removed integer)
language sql
volatile
set search_path = ''
as $$
  with w as materialized (
    select t.user_id, t.segment_id, t.customer_id, t.holds, m.customer_id is not null and m.removed_at is null as active
      from unnest(p_user_ids, p_segment_ids, p_customer_ids, p_holds) as t(user_id, segment_id, customer_id, holds)
      left join public.segment_memberships m on m.user_id = t.user_id and m.segment_id = t.segment_id and m.customer_id = t.customer_id
  ), ins as (
    -- A customer deleted meanwhile is left out; one still there is held until this commits.
    insert into public.segment_memberships as sm (user_id, segment_id, customer_id, added_at)
    select w.user_id, w.segment_id, w.customer_id, p_now from w
     where w.holds and not w.active
       and exists (select 1 from public.customers c where c.user_id = w.user_id and c.id = w.customer_id for key share)
    on conflict (user_id, segment_id, customer_id) do update set removed_at = null, added_at = excluded.added_at
     where sm.removed_at is not null
    returning 1
  ), del as (
    update public.segment_memberships sm set removed_at = p_now
      from w
     where not w.holds and w.active
       and sm.user_id = w.user_id and sm.segment_id = w.segment_id and sm.customer_id = w.customer_id and sm.removed_at is null
    returning 1
  )
  select (select count(*)::integer from ins), (select count(*)::integer from del)
$$;

/**
 * One step of a segment's build: the next p_chunk customers by id are reconciled with its
 * criteria at p_now (matches added or re-added, the others in that range removed). The last
 * step clears the cursor and hands over to the time step from the instant the build began.
 */
create or replace function private.segment_build_step(p_user_id uuid, p_segment_id uuid, p_now timestamptz, p_chunk integer default 20000)
returns table (done boolean, added integer, removed integer)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_seg public.customer_segments;
  v_rule private.segment_rule;
  v_from uuid;
  v_upto uuid;
  v_n integer;
  v_added integer;
  v_removed integer;
begin
  select * into v_seg from public.customer_segments s where s.user_id = p_user_id and s.id = p_segment_id for no key update;
  if not found or v_seg.build_started_at is null or not v_seg.is_active then
    return query select true, 0, 0;
    return;
  end if;
  if v_seg.build_after is null then
    -- The first step: the build evaluates from this instant.
    v_seg.build_started_at := least(v_seg.build_started_at, p_now);
  end if;
  v_rule := private.segment_rule(v_seg.criteria, p_now);
  v_from := coalesce(v_seg.build_after, '00000000-0000-0000-0000-000000000000'::uuid);
  select max(k.id::text)::uuid, count(*) into v_upto, v_n from (
    select c.id from public.customers c where c.user_id = p_user_id and c.id > v_from order by c.id limit p_chunk
  ) k;
  -- The last step reaches the end of the id space (the nil id starts it, so the first customer
  -- is included; this one includes customers created since the step before).
  if v_n < p_chunk then v_upto := 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid; end if;

  -- Only what can change: the range's matches, and its members who no longer match (most
  -- customers of a store are neither, and are not looked up at all).
  select w.added, w.removed into v_added, v_removed
    from (select array_agg(p_user_id) as u, array_agg(p_segment_id) as s, array_agg(x.id) as c, array_agg(x.holds) as h
            from (select c.id, true as holds from public.customers c
                   where c.user_id = p_user_id and c.id > v_from and c.id <= v_upto and private.segment_holds(v_rule, c)
                  union all
                  select m.customer_id, false from public.segment_memberships m
                    join public.customers c on c.user_id = m.user_id and c.id = m.customer_id
                   where m.user_id = p_user_id and m.segment_id = p_segment_id and m.customer_id > v_from and m.customer_id <= v_upto
                     and m.removed_at is null and not private.segment_holds(v_rule, c)) x) k,
         private.segment_apply(p_now, k.u, k.s, k.c, k.h) w;
  perform private.fold_segment_counts(array[p_user_id], array[p_segment_id]);

  if v_n < p_chunk then
    update public.customer_segments s
       set build_started_at = null, build_after = null, last_evaluated_at = p_now,
           time_checked_at = v_seg.build_started_at
     where s.user_id = p_user_id and s.id = p_segment_id;
    return query select true, v_added, v_removed;
  else
    update public.customer_segments s
       set build_after = v_upto, build_started_at = v_seg.build_started_at
     where s.user_id = p_user_id and s.id = p_segment_id;
    return query select false, v_added, v_removed;
  end if;
end
$$;

/**
 * Drain step for one store: the store whose queued change is oldest gives up to p_limit of its
 * queued customers (fewer when it has many segments: the step's work is customers x segments,
 * at most about 20,000 pairs), each reconciled with every dynamic, active segment of the store
 * in one statement. A segment is evaluated at its time watermark when that is later than
 * p_now (a call that started before another's time step must not undo its crossing). Returns
 * how many customers it took.
 */
create or replace function private.segments_drain(p_now timestamptz, p_limit integer default 1000)
returns table (taken integer, added integer, removed integer)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_user uuid;
  v_segments integer;
  v_ids uuid[];
  v_seg_users uuid[];
  v_seg_ids uuid[];
  v_added integer;
  v_removed integer;
begin
  -- Skipping rows an order holds: it queued them in a transaction still open, whose change
  -- this step could not see yet; the next drain takes them.
  select q.user_id into v_user from private.segment_changes q order by q.changed_at limit 1 for update skip locked;
  if v_user is null then
    return query select 0, 0, 0;
    return;
  end if;

  -- The store's segment rows first, in one order (see the lock order above).
  select array_agg(l.user_id), array_agg(l.id), count(*) into v_seg_users, v_seg_ids, v_segments from (
    select s.user_id, s.id from public.customer_segments s
     where s.user_id = v_user and s.is_dynamic and s.is_active and s.follow_error is null
     order by s.user_id, s.id
     for no key update
  ) l;

  with picked as (
    select q.customer_id from private.segment_changes q
     where q.user_id = v_user
     order by q.changed_at
     limit least(p_limit, greatest(50, 20000 / greatest(v_segments, 1)))
     for update skip locked
  ), taken as (
    delete from private.segment_changes q using picked p
     where q.user_id = v_user and q.customer_id = p.customer_id
    returning q.customer_id
  )
  select array_agg(t.customer_id) into v_ids from taken t;
  if v_ids is null or v_seg_ids is null then
    return query select coalesce(cardinality(v_ids), 0), 0, 0;
    return;
  end if;

  with rules as materialized (
    select s.user_id, s.id, private.segment_rule(s.criteria, greatest(p_now, coalesce(s.time_checked_at, p_now))) as rule,
           greatest(p_now, coalesce(s.time_checked_at, p_now)) as at
      from unnest(v_seg_users, v_seg_ids) as l(user_id, id)
      join public.customer_segments s on s.user_id = l.user_id and s.id = l.id
  )
  select coalesce(sum(w.added), 0)::integer, coalesce(sum(w.removed), 0)::integer into v_added, v_removed
    from (select r.at, array_agg(c.user_id) as u, array_agg(r.id) as s, array_agg(c.id) as c, array_agg(private.segment_holds(r.rule, c)) as h
            from public.customers c
            join rules r on r.user_id = c.user_id
           where c.user_id = v_user and c.id = any (v_ids)
           group by r.at) k,
         private.segment_apply(k.at, k.u, k.s, k.c, k.h) w;
  perform private.fold_segment_counts(v_seg_users, v_seg_ids);
  return query select cardinality(v_ids), v_added, v_removed;
end
$$;

/**
 * Time step for one segment: the customers whose last purchase crosses one of its day
 * thresholds between its watermark and p_now (at most p_max_step at a time, so a long pause
 * catches up in bounded steps) are reconciled at the window's end. Returns whether it caught up.
 */
create or replace function private.segment_time_step(p_user_id uuid, p_segment_id uuid, p_now timestamptz,
                                                     p_max_step interval default interval '1 day')
returns table (done boolean, added integer, removed integer)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_seg public.customer_segments;
  v_from timestamptz;
  v_to timestamptz;
  v_rule private.segment_rule;
  v_min interval;
  v_max interval;
  v_added integer;
  v_removed integer;
begin
  select * into v_seg from public.customer_segments s where s.user_id = p_user_id and s.id = p_segment_id for no key update;
  if not found or v_seg.build_started_at is not null or not (v_seg.is_dynamic and v_seg.is_active) then
    return query select true, 0, 0;
    return;
  end if;
  if v_seg.time_checked_at is null or v_seg.time_checked_at >= p_now then
    -- Nothing to catch up (or no watermark yet: the members are as of now).
    update public.customer_segments s set time_checked_at = greatest(s.time_checked_at, p_now)
     where s.user_id = p_user_id and s.id = p_segment_id and s.time_checked_at is distinct from greatest(s.time_checked_at, p_now);
    return query select true, 0, 0;
    return;
  end if;
  v_from := v_seg.time_checked_at;
  v_to := least(p_now, v_from + p_max_step);
  v_rule := private.segment_rule(v_seg.criteria, v_to);
  v_min := make_interval(days => (v_seg.criteria ->> 'min_days_since_purchase')::numeric::integer);
  v_max := make_interval(days => (v_seg.criteria ->> 'max_days_since_purchase')::numeric::integer);

  select w.added, w.removed into v_added, v_removed
    from (select array_agg(c.user_id) as u, array_agg(p_segment_id) as s, array_agg(c.id) as c, array_agg(private.segment_holds(v_rule, c)) as h
            from public.customers c
           where c.user_id = p_user_id
             and (c.last_purchase_at between v_from - v_min and v_to - v_min
                  or c.last_purchase_at between v_from - v_max and v_to - v_max)) k,
         private.segment_apply(v_to, k.u, k.s, k.c, k.h) w;
  perform private.fold_segment_counts(array[p_user_id], array[p_segment_id]);

  update public.customer_segments s set time_checked_at = v_to, last_evaluated_at = v_to
   where s.user_id = p_user_id and s.id = p_segment_id;
  return query select v_to >= p_now, v_added, v_removed;
end
$$;

/**
 * One bounded step of the segments job. Four kinds of work: drain the change queue (one store
 * a step, oldest change first), a time step of the segment furthest behind, a chunk of the
 * oldest build, and the counts a deleted customer left. Each call's steps take turns (p_turn,
 * the step's number in its call, decides which kind is tried first), so no kind, and no store
 * with many segments, starves the others. A time or build step that fails marks its segment
 * (follow_error) and the job goes on without it. Returns what it did and whether more may be
 * left: the caller runs steps until one says none is, or its time budget ends.
 */
create or replace function private.segments_step(p_now timestamptz default now(), p_turn integer default 0)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_kinds text[] := array['changes', 'time', 'build', 'counts'];
  v_kind text;
  v_seg record;
  r record;
  v_users uuid[];
  v_ids uuid[];
  v_state text;
begin
  for i in 0..3 loop
    v_kind := v_kinds[1 + (p_turn + i) % 4];
    if v_kind = 'changes' then
      select * into r from private.segments_drain(p_now, 1000);
      if r.taken > 0 then
        return jsonb_build_object('kind', 'changes', 'customers', r.taken, 'added', r.added, 'removed', r.removed, 'more', true);
      end if;
    elsif v_kind in ('time', 'build') then
      if v_kind = 'time' then
        select s.user_id, s.id into v_seg from public.customer_segments s
         where s.build_started_at is null and s.is_dynamic and s.is_active and s.follow_error is null
           and (s.criteria ? 'min_days_since_purchase' or s.criteria ? 'max_days_since_purchase')
           and (s.time_checked_at is null or s.time_checked_at < p_now)
         order by s.time_checked_at nulls first
         limit 1
         for no key update skip locked;
      else
        select s.user_id, s.id into v_seg from public.customer_segments s
         where s.build_started_at is not null and s.is_active and s.follow_error is null
         order by s.build_started_at, s.id
         limit 1
         for no key update skip locked;
      end if;
      if found then
        begin
          if v_kind = 'time' then
            select * into r from private.segment_time_step(v_seg.user_id, v_seg.id, p_now);
          else
            select * into r from private.segment_build_step(v_seg.user_id, v_seg.id, p_now);
          end if;
          return jsonb_build_object('kind', v_kind, 'segment', v_seg.id, 'added', r.added, 'removed', r.removed, 'more', true);
        exception when others then
          get stacked diagnostics v_state = returned_sqlstate;
          -- A deadlock, a lock timeout, a cancel or a row deleted under it is the moment's,
          -- not the segment's: the call fails and the next one tries again.
          if v_state like '40%' or v_state in ('55P03', '57014', '23503') then
            raise;
          end if;
          update public.customer_segments s
             set follow_error = 'Its members could not be worked out (database code ' || v_state || '). Save its criteria again to retry.'
           where s.user_id = v_seg.user_id and s.id = v_seg.id;
          return jsonb_build_object('kind', 'failed', 'segment', v_seg.id, 'more', true);
        end;
      end if;
    else
      -- Deltas no step folded (a deleted customer's memberships went by cascade).
      select array_agg(l.user_id), array_agg(l.id) into v_users, v_ids from (
        select s.user_id, s.id from public.customer_segments s
         where exists (select 1 from public.segment_count_deltas d where d.user_id = s.user_id and d.segment_id = s.id)
         order by s.user_id, s.id
         limit 100
         for no key update skip locked
      ) l;
      if v_ids is not null then
        return jsonb_build_object('kind', 'counts', 'folded', private.fold_segment_counts(v_users, v_ids), 'more', true);
      end if;
    end if;
  end loop;
  return jsonb_build_object('kind', 'idle', 'more', false);
end
$$;

/**
 * Rebuild a segment from scratch now, to the end (the dashboard's "evaluate now" and the
 * seeding of a new segment): the same steps the job runs, in this transaction.
 */
create or replace function public.evaluate_segment(p_user_id uuid, p_segment_id uuid, p_now timestamptz default now())
returns table (added integer, removed integer, total integer)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  r record;
  v_added integer := 0;
  v_removed integer := 0;
begin
  update public.customer_segments s set build_started_at = p_now, build_after = null
   where s.user_id = p_user_id and s.id = p_segment_id;
  if not found then
    raise exception 'Segment not found' using errcode = 'HH404';
  end if;
  loop
    select * into r from private.segment_build_step(p_user_id, p_segment_id, p_now);
    v_added := v_added + r.added;
    v_removed := v_removed + r.removed;
    exit when r.done;
  end loop;
  return query select v_added, v_removed, public.segment_member_count(p_user_id, p_segment_id);
end
$$;

revoke execute on function private.segment_rule(jsonb, timestamptz), private.fold_segment_counts(uuid[], uuid[]),
  private.segment_apply(timestamptz, uuid[], uuid[], uuid[], boolean[]),
  private.segment_build_step(uuid, uuid, timestamptz, integer), private.segments_drain(timestamptz, integer),
  private.segment_time_step(uuid, uuid, timestamptz, interval), private.segments_step(timestamptz, integer)
  from public, anon, authenticated;
revoke execute on function private.segment_holds(private.segment_rule, public.customers) from public, anon, authenticated;

-- Counts as the membership rows have them, and every segment followed from here on: the
-- existing ones are built once more by the job (their members stay until their build ends).
update public.customer_segments s
   set customer_count = (select count(*) from public.segment_memberships m
                          where m.user_id = s.user_id and m.segment_id = s.id and m.removed_at is null),
       build_started_at = case when s.is_active and s.is_dynamic then now() end;
