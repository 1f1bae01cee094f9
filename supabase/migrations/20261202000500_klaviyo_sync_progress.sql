-- A segment's Klaviyo list sync at scale (issue 13, item 6): the job sends a segment's queued
-- membership changes in Klaviyo's batch sizes and paces itself under Klaviyo's limits, so a
-- 400,000-member segment takes minutes to mirror, and the merchant sees how far it has come.
--
-- A round is the sending of what was queued when it began, and of what joins the queue while
-- it runs: `klaviyo_sync_done` counts the changes Klaviyo has taken in this round, and
-- `klaviyo_sync_left` what was waiting at the last count. The left figure is counted when a
-- round begins and whenever it runs out while changes remain (the queue grew meanwhile), and
-- is brought down by what each batch takes, so a batch costs its own rows, not the queue's.
-- An erased shopper's changes leave the queue without the job: the figure is an estimate
-- between counts and exact at each count; the round's end (nothing left) sets it to 0.

alter table public.customer_segments
  add column klaviyo_sync_done integer not null default 0 check (klaviyo_sync_done >= 0),
  add column klaviyo_sync_left integer not null default 0 check (klaviyo_sync_left >= 0);

/**
 * Begin a round if none is under way: what is waiting is counted once. Returns what is left.
 * The segment's row is held for the statement (the lock order: segment rows, then the rest).
 */
create or replace function private.klaviyo_list_round(p_user_id uuid, p_segment_id uuid)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_left integer;
begin
  select klaviyo_sync_left into v_left
    from public.customer_segments where user_id = p_user_id and id = p_segment_id for update;
  if v_left is null or v_left > 0 then
    return coalesce(v_left, 0);
  end if;
  select count(*)::integer into v_left
    from private.klaviyo_list_changes where user_id = p_user_id and segment_id = p_segment_id;
  if v_left > 0 then
    update public.customer_segments set klaviyo_sync_done = 0, klaviyo_sync_left = v_left
     where user_id = p_user_id and id = p_segment_id;
  end if;
  return v_left;
end
$$;
revoke execute on function private.klaviyo_list_round(uuid, uuid) from public, anon, authenticated;

/**
 * Klaviyo has taken these changes: the queued changes up to p_up_to of p_customers (null:
 * of everyone) leave the queue and count as done. Returns whether changes are still waiting.
 * When none are, the round ends: the list holds the segment's members as of now.
 */
create or replace function private.klaviyo_list_taken(p_user_id uuid, p_segment_id uuid, p_up_to bigint, p_customers uuid[] default null)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_taken integer;
  v_left integer;
  v_more boolean;
begin
  perform 1 from public.customer_segments where user_id = p_user_id and id = p_segment_id for update;
  if not found then
    return false;
  end if;
  delete from private.klaviyo_list_changes k
   where k.user_id = p_user_id and k.segment_id = p_segment_id and k.id <= p_up_to
     and (p_customers is null or k.customer_id = any (p_customers));
  get diagnostics v_taken = row_count;
  v_more := exists (select 1 from private.klaviyo_list_changes k where k.user_id = p_user_id and k.segment_id = p_segment_id);

  select greatest(s.klaviyo_sync_left - v_taken, 0) into v_left
    from public.customer_segments s where s.user_id = p_user_id and s.id = p_segment_id;
  if not v_more then
    v_left := 0;
  elsif v_left = 0 then
    select count(*)::integer into v_left
      from private.klaviyo_list_changes k where k.user_id = p_user_id and k.segment_id = p_segment_id;
  end if;

  update public.customer_segments s
     set klaviyo_sync_done = s.klaviyo_sync_done + v_taken,
         klaviyo_sync_left = v_left,
         klaviyo_sync_error = null,
         last_synced_at = case when v_more then s.last_synced_at else now() end,
         klaviyo_synced_count = case when v_more then s.klaviyo_synced_count else public.segment_member_count(s.user_id, s.id) end
   where s.user_id = p_user_id and s.id = p_segment_id;
  return v_more;
end
$$;
revoke execute on function private.klaviyo_list_taken(uuid, uuid, bigint, uuid[]) from public, anon, authenticated;
