-- A build step over a range of customers the segment has never had a member in (every step
-- of a new segment's first build, which is what a merchant waits for) inserts the range's
-- matches straight from the customers: no arrays, no lookup of memberships that cannot exist.
-- The step holds the segment's row (no other writer of its memberships runs meanwhile), so the
-- probe and the insert see the same memberships. At 200,000 customers a build from empty went
-- 0.69 s -> 0.55 s. Any other range is reconciled by private.segment_apply as before.

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
  -- customers of a store are neither, and are not looked up at all). A range without any
  -- membership row yet has only matches to add.
  if not exists (select 1 from public.segment_memberships m where m.user_id = p_user_id and m.segment_id = p_segment_id
                   and m.customer_id > v_from and m.customer_id <= v_upto) then
    insert into public.segment_memberships (user_id, segment_id, customer_id, added_at)
    select p_user_id, p_segment_id, c.id, p_now from public.customers c
     where c.user_id = p_user_id and c.id > v_from and c.id <= v_upto and private.segment_holds(v_rule, c);
    get diagnostics v_added = row_count;
    v_removed := 0;
  else
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
  end if;
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
revoke execute on function private.segment_build_step(uuid, uuid, timestamptz, integer) from public, anon, authenticated;
