-- A build step finds where its chunk ends by the chunk's last customer, read from the primary
-- key at an offset, rather than the largest id of the chunk's 20,000 turned to text and back
-- (10 ms of a step's 80 at 200,000 customers; the same customers either way, so the same chunks).
--
-- The memberships lose their index by customer (user_id, customer_id): a fifth of what each
-- member's insert cost a build. Every reader of one customer's memberships reaches them by
-- the store's segments (200 at most) and the primary key (user_id, segment_id, customer_id):
-- the drain and the time step by (segment, customer) pairs, a customer's delete by joining the
-- store's segments (20261206000300), a shopper's export by its join of the segment's name.
--
-- And the memberships' count trigger counts active rows with a filter rather than a WHERE: a
-- transition table's rows are known to the planner, a WHERE's share of them is not (it guessed
-- 40 of 8,000 and sorted them to group them; planned for a build's step, it now hashes).

drop index public.segment_memberships_customer_idx;

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
  v_last boolean;
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
  -- The chunk ends at its last customer: the one p_chunk - 1 past the first (the primary key
  -- read alone). Without one, this is the last step, which reaches the end of the id space (the
  -- nil id starts the first, so the first customer is included; the last includes customers
  -- created since the step before).
  select c.id into v_upto from public.customers c where c.user_id = p_user_id and c.id > v_from
   order by c.id offset p_chunk - 1 limit 1;
  v_last := v_upto is null;
  if v_last then v_upto := 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid; end if;

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

  if v_last then
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


/** Statement triggers on memberships: the net change of active members per segment, appended. */
create or replace function private.segment_memberships_count()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.segment_count_deltas (user_id, segment_id, delta)
    select n.user_id, n.segment_id, count(*) filter (where n.removed_at is null) from new_rows n
     group by 1, 2 having count(*) filter (where n.removed_at is null) > 0;
  elsif tg_op = 'UPDATE' then
    insert into public.segment_count_deltas (user_id, segment_id, delta)
    select d.user_id, d.segment_id, sum(d.delta)
      from (select n.user_id, n.segment_id, (n.removed_at is null)::int as delta from new_rows n
            union all
            select o.user_id, o.segment_id, -(o.removed_at is null)::int from old_rows o) d
     group by 1, 2 having sum(d.delta) <> 0;
  else
    insert into public.segment_count_deltas (user_id, segment_id, delta)
    select o.user_id, o.segment_id, -count(*) filter (where o.removed_at is null) from old_rows o
     where exists (select 1 from public.customer_segments s where s.user_id = o.user_id and s.id = o.segment_id)
     group by 1, 2 having count(*) filter (where o.removed_at is null) > 0;
  end if;
  return null;
end
$$;
