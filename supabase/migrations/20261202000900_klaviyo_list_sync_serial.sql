-- The Klaviyo list sync, after a review of 20261202000500:
-- * One run of a segment at a time. A membership change while a run sends queues the segment's
--   job again under its key; graphile-worker then adds a second job beside the running one, and
--   two runs could read the same changes and send them out of order (a member who left stays on
--   the list). The jobs of one segment now share a named queue, which graphile-worker runs one
--   job at a time.
-- * A batch leaves the queue by the ids it read, not "every id up to the last": ids are taken
--   when a change is written, not when it commits, so a change committed while the batch was at
--   Klaviyo could carry a smaller id than the batch's last and was deleted unsent.
-- * Turning sync off (or on) starts the progress figures again: they described the queue that
--   was just dropped (or not yet queued), and the first figures after sync came back on added to them.

create or replace function private.klaviyo_list_jobs(p_segments jsonb)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_specs graphile_worker.job_spec[];
begin
  select coalesce(array_agg(row(
           'klaviyo_list_sync', json_build_object('u', s ->> 'user_id', 's', s ->> 'segment_id'), 'klaviyo-list:' || (s ->> 'segment_id'),
           clock_timestamp() + interval '2 seconds', 10::smallint, 'klaviyo-list:' || (s ->> 'segment_id'), null, null
         )::graphile_worker.job_spec), '{}')
    into v_specs
    from (select distinct value as s from jsonb_array_elements(p_segments)) d;
  if cardinality(v_specs) > 0 then
    perform graphile_worker.add_jobs(v_specs, true);
  end if;
end
$$;

drop function private.klaviyo_list_taken(uuid, uuid, bigint, uuid[]);

/**
 * Klaviyo has taken these changes (the ids a batch read): they leave the queue and count as
 * done. Returns whether changes are still waiting. When none are, the round ends: the list
 * holds the segment's members as of now.
 */
create or replace function private.klaviyo_list_taken(p_user_id uuid, p_segment_id uuid, p_ids bigint[])
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
   where k.user_id = p_user_id and k.segment_id = p_segment_id and k.id = any (p_ids);
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
revoke execute on function private.klaviyo_list_taken(uuid, uuid, bigint[]) from public, anon, authenticated;

/**
 * Trigger: sync turned on queues every current member (the list starts complete); turned off,
 * what was waiting is dropped (the list stays in Klaviyo as it was). Either way the round's
 * figures start again.
 */
create or replace function private.customer_segments_sync_changed()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.sync_enabled and not old.sync_enabled then
    update public.customer_segments set klaviyo_sync_error = null, klaviyo_sync_done = 0, klaviyo_sync_left = 0
     where user_id = new.user_id and id = new.id;
    perform private.klaviyo_queue_list_changes((
      select coalesce(jsonb_agg(jsonb_build_object('user_id', m.user_id, 'segment_id', m.segment_id, 'customer_id', m.customer_id, 'op', 'add')), '[]')
        from public.segment_memberships m where m.user_id = new.user_id and m.segment_id = new.id and m.removed_at is null));
  elsif old.sync_enabled and not new.sync_enabled then
    delete from private.klaviyo_list_changes where user_id = new.user_id and segment_id = new.id;
    update public.customer_segments set klaviyo_sync_done = 0, klaviyo_sync_left = 0 where user_id = new.user_id and id = new.id;
  end if;
  return null;
end
$$;
