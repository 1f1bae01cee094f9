-- Customer journey, part 4: segments. Criteria are evaluated set-based in one statement;
-- invoker functions, so a merchant's call runs under row level security.

/** Segment criteria as the API accepts them: known keys only, each of the right type (in SQL as a CHECK). */
create or replace function public.segment_criteria_valid(p jsonb)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  k text;
  v jsonb;
begin
  if jsonb_typeof(p) <> 'object' then return false; end if;
  for k, v in select * from jsonb_each(p) loop
    if k in ('stages', 'collections') then
      if jsonb_typeof(v) <> 'array' or jsonb_array_length(v) > 100 then return false; end if;
      if exists (select 1 from jsonb_array_elements(v) e
                  where jsonb_typeof(e) <> 'string'
                     or (k = 'stages' and not public.is_stage(e #>> '{}'))
                     or (k = 'collections' and e #>> '{}' !~ '^[a-z0-9][a-z0-9-]{0,39}$')) then
        return false;
      end if;
    elsif k in ('min_ltv', 'max_ltv') then
      if jsonb_typeof(v) <> 'number' or (v #>> '{}')::numeric not between 0 and 1000000000 then return false; end if;
    elsif k in ('min_orders', 'max_orders', 'min_days_since_purchase', 'max_days_since_purchase') then
      if jsonb_typeof(v) <> 'number' or (v #>> '{}')::numeric not between 0 and 1000000
         or (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric) then
        return false;
      end if;
    elsif k = 'email_subscribed' then
      if jsonb_typeof(v) <> 'boolean' then return false; end if;
    else
      return false;
    end if;
  end loop;
  return true;
end
$$;
grant execute on function public.segment_criteria_valid(jsonb) to authenticated, service_role;

create table public.customer_segments (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (length(name) between 1 and 120),
  description text,
  criteria jsonb not null default '{}'::jsonb check (public.segment_criteria_valid(criteria)),
  klaviyo_segment_id text,
  sync_enabled boolean not null default false,
  last_synced_at timestamptz,
  customer_count integer not null default 0,
  is_dynamic boolean not null default true,
  is_active boolean not null default true,
  last_evaluated_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, id)
);
create index customer_segments_user_idx on public.customer_segments (user_id, created_at desc);
create index customer_segments_due_idx on public.customer_segments (last_evaluated_at nulls first)
  where is_dynamic and is_active;
create trigger customer_segments_updated_at before update on public.customer_segments
  for each row execute function public.update_updated_at_column();

create table public.segment_memberships (
  user_id uuid not null,
  segment_id uuid not null,
  customer_id uuid not null,
  added_at timestamptz not null default now(),
  removed_at timestamptz,
  primary key (user_id, segment_id, customer_id),
  foreign key (user_id, segment_id) references public.customer_segments (user_id, id) on delete cascade,
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade
);
create index segment_memberships_active_idx on public.segment_memberships (user_id, segment_id, added_at desc) where removed_at is null;
create index segment_memberships_customer_idx on public.segment_memberships (user_id, customer_id);

do $$
declare t text;
begin
  foreach t in array array['customer_segments', 'segment_memberships'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('create policy %I on public.%I for all to authenticated
                      using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()))', t || '_owner', t);
  end loop;
end
$$;
grant select on public.customer_segments, public.segment_memberships to authenticated;
grant insert, update, delete on public.customer_segments, public.segment_memberships to authenticated;

/**
 * Trigger: a removed collection leaves the segments that named it; the next evaluation follows.
 * A segment that named only that collection would otherwise widen to every collection: it is
 * made inactive instead, keeping its members, for the merchant to look at.
 */
create or replace function private.segments_collection_removed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.customer_segments s
     set criteria = case when jsonb_array_length((s.criteria -> 'collections') - old.slug) = 0 then s.criteria - 'collections'
                         else jsonb_set(s.criteria, '{collections}', (s.criteria -> 'collections') - old.slug) end,
         is_active = s.is_active and jsonb_array_length((s.criteria -> 'collections') - old.slug) > 0
   where s.user_id = old.user_id and s.criteria -> 'collections' ? old.slug;
  return null;
end
$$;
revoke execute on function private.segments_collection_removed() from public, anon, authenticated;
create trigger segments_collection_removed after delete on public.collections
  for each row execute function private.segments_collection_removed();

/**
 * Ids of the merchant's customers matching segment criteria at p_now (every given field must
 * hold). The criteria are read into typed variables once, so the scan compares constants.
 */
create or replace function public.segment_member_ids(p_user_id uuid, p_criteria jsonb, p_now timestamptz default now())
returns setof uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_stages text[] := nullif(array(select jsonb_array_elements_text(coalesce(p_criteria -> 'stages', '[]'))), '{}');
  v_collections text[] := nullif(array(select jsonb_array_elements_text(coalesce(p_criteria -> 'collections', '[]'))), '{}');
  v_min_ltv numeric := (p_criteria ->> 'min_ltv')::numeric;
  v_max_ltv numeric := (p_criteria ->> 'max_ltv')::numeric;
  v_min_orders integer := (p_criteria ->> 'min_orders')::integer;
  v_max_orders integer := (p_criteria ->> 'max_orders')::integer;
  v_bought_before timestamptz := p_now - make_interval(days => (p_criteria ->> 'min_days_since_purchase')::integer);
  v_bought_after timestamptz := p_now - make_interval(days => (p_criteria ->> 'max_days_since_purchase')::integer);
  v_subscribed boolean := (p_criteria ->> 'email_subscribed')::boolean;
begin
  return query
  select c.id from public.customers c
   where c.user_id = p_user_id
     and (v_stages is null or c.stage = any (v_stages))
     and (v_collections is null or c.primary_collection = any (v_collections))
     and (v_min_ltv is null or c.lifetime_value >= v_min_ltv)
     and (v_max_ltv is null or c.lifetime_value <= v_max_ltv)
     and (v_min_orders is null or c.total_orders >= v_min_orders)
     and (v_max_orders is null or c.total_orders <= v_max_orders)
     and (v_bought_before is null or c.last_purchase_at <= v_bought_before)
     and (v_bought_after is null or c.last_purchase_at >= v_bought_after)
     and (v_subscribed is null or c.email_subscribed = v_subscribed);
end
$$;
grant execute on function public.segment_member_ids(uuid, jsonb, timestamptz) to authenticated;

/**
 * Bring a segment's memberships in line with its criteria in one statement: new matches added,
 * removed members who match again re-added, non-matches marked removed; count stored.
 */
create or replace function public.evaluate_segment(p_user_id uuid, p_segment_id uuid, p_now timestamptz default now())
returns table (added integer, removed integer, total integer)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_seg public.customer_segments;
begin
  select * into v_seg from public.customer_segments s where s.user_id = p_user_id and s.id = p_segment_id for update;
  if not found then
    raise exception 'Segment not found' using errcode = 'HH404';
  end if;
  return query
  with m as materialized (
    select ids.id from public.segment_member_ids(v_seg.user_id, v_seg.criteria, p_now) as ids(id)
  ), ins as (
    -- Only customers not already active members: a re-evaluation that changes nothing
    -- writes nothing. Removed members who match again are re-added.
    insert into public.segment_memberships as sm (user_id, segment_id, customer_id, added_at)
    select v_seg.user_id, v_seg.id, m.id, p_now from m
     where not exists (select 1 from public.segment_memberships x
                        where x.user_id = v_seg.user_id and x.segment_id = v_seg.id and x.customer_id = m.id
                          and x.removed_at is null)
    on conflict (user_id, segment_id, customer_id) do update set removed_at = null, added_at = excluded.added_at
     where sm.removed_at is not null
    returning 1
  ), del as (
    update public.segment_memberships sm set removed_at = p_now
     where sm.user_id = v_seg.user_id and sm.segment_id = v_seg.id and sm.removed_at is null
       and not exists (select 1 from m where m.id = sm.customer_id)
    returning 1
  ), cnt as (
    update public.customer_segments s
       set customer_count = (select count(*) from m), last_evaluated_at = p_now
     where s.user_id = v_seg.user_id and s.id = v_seg.id
    returning s.customer_count
  )
  select (select count(*)::integer from ins), (select count(*)::integer from del), (select customer_count from cnt);
end
$$;
grant execute on function public.evaluate_segment(uuid, uuid, timestamptz) to authenticated;

/** Cron: evaluate dynamic segments, least recently evaluated first, bounded and overlap-safe. */
create or replace function private.evaluate_due_segments(p_now timestamptz default now(), p_limit integer default 50)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  r record;
  v_segments integer := 0;
  v_added integer := 0;
  v_removed integer := 0;
  v_failed integer := 0;
begin
  for r in
    select s.user_id, s.id from public.customer_segments s
     where s.is_dynamic and s.is_active
     order by s.last_evaluated_at nulls first
     limit p_limit
     for update skip locked
  loop
    -- One segment's failure must not stop the others: it is skipped until the next run.
    begin
      select v_added + e.added, v_removed + e.removed into v_added, v_removed
        from public.evaluate_segment(r.user_id, r.id, p_now) e;
      v_segments := v_segments + 1;
    exception when others then
      update public.customer_segments s set last_evaluated_at = p_now where s.user_id = r.user_id and s.id = r.id;
      v_failed := v_failed + 1;
    end;
  end loop;
  return jsonb_build_object('segments', v_segments, 'added', v_added, 'removed', v_removed, 'failed', v_failed);
end
$$;
