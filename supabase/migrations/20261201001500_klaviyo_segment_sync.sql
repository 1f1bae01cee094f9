-- A segment with sync on is mirrored to a Klaviyo list (the seed's klaviyo_segment_id,
-- sync_enabled and last_synced_at): every membership change the segments module makes (an
-- insert, a removal, a return) is queued here in the same transaction, and one job per
-- segment (debounced: the job key keeps its due time while changes keep coming) sends them in
-- batches: additions through the bulk profile import with the list as its relationship,
-- removals by profile id. Turning sync on queues the current members once.

alter table public.customer_segments
  add column klaviyo_synced_count integer check (klaviyo_synced_count >= 0),
  add column klaviyo_sync_error text check (length(klaviyo_sync_error) <= 300);

create table private.klaviyo_list_changes (
  user_id uuid not null,
  id bigint generated always as identity,
  segment_id uuid not null,
  customer_id uuid not null,
  op text not null check (op in ('add', 'remove')),
  primary key (user_id, id),
  foreign key (user_id, segment_id) references public.customer_segments (user_id, id) on delete cascade,
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade
);
create index klaviyo_list_changes_segment_idx on private.klaviyo_list_changes (user_id, segment_id, id);

/** A sync job for each of these segments, due in a moment (a waiting one keeps its time: changes batch up). */
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
           'klaviyo_list_sync', json_build_object('u', s ->> 'user_id', 's', s ->> 'segment_id'), null,
           clock_timestamp() + interval '2 seconds', 10::smallint, 'klaviyo-list:' || (s ->> 'segment_id'), null, null
         )::graphile_worker.job_spec), '{}')
    into v_specs
    from (select distinct value as s from jsonb_array_elements(p_segments)) d;
  if cardinality(v_specs) > 0 then
    perform graphile_worker.add_jobs(v_specs, true);
  end if;
end
$$;

/** Queue membership changes of segments with sync on (p_rows: [{user_id, segment_id, customer_id, op}]). */
create or replace function private.klaviyo_queue_list_changes(p_rows jsonb)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_segments jsonb;
begin
  with queued as (
    insert into private.klaviyo_list_changes (user_id, segment_id, customer_id, op)
    select (r ->> 'user_id')::uuid, (r ->> 'segment_id')::uuid, (r ->> 'customer_id')::uuid, r ->> 'op'
      from jsonb_array_elements(p_rows) r
      join public.customer_segments s on s.user_id = (r ->> 'user_id')::uuid and s.id = (r ->> 'segment_id')::uuid and s.sync_enabled
    returning user_id, segment_id
  )
  select coalesce(jsonb_agg(distinct jsonb_build_object('user_id', q.user_id, 'segment_id', q.segment_id)), '[]')
    into v_segments from queued q;
  perform private.klaviyo_list_jobs(v_segments);
end
$$;

/** Trigger: members added. Cheap when no segment of the statement syncs (the common case). */
create or replace function private.segment_memberships_added()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select 1 from (select distinct n.user_id, n.segment_id from new_rows n) d
                   join public.customer_segments s on s.user_id = d.user_id and s.id = d.segment_id and s.sync_enabled) then
    return null;
  end if;
  perform private.klaviyo_queue_list_changes((
    select coalesce(jsonb_agg(jsonb_build_object('user_id', n.user_id, 'segment_id', n.segment_id, 'customer_id', n.customer_id, 'op', 'add')), '[]')
      from new_rows n where n.removed_at is null));
  return null;
end
$$;
create trigger segment_memberships_klaviyo_insert after insert on public.segment_memberships
  referencing new table as new_rows
  for each statement execute function private.segment_memberships_added();

/** Trigger: members who left (removed_at set) or came back (removed_at cleared). */
create or replace function private.segment_memberships_moved()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select 1 from (select distinct n.user_id, n.segment_id from new_rows n) d
                   join public.customer_segments s on s.user_id = d.user_id and s.id = d.segment_id and s.sync_enabled) then
    return null;
  end if;
  perform private.klaviyo_queue_list_changes((
    select coalesce(jsonb_agg(jsonb_build_object('user_id', n.user_id, 'segment_id', n.segment_id, 'customer_id', n.customer_id,
                                                 'op', case when n.removed_at is null then 'add' else 'remove' end)), '[]')
      from new_rows n
      join old_rows o on o.user_id = n.user_id and o.segment_id = n.segment_id and o.customer_id = n.customer_id
     where (o.removed_at is null) <> (n.removed_at is null)));
  return null;
end
$$;
create trigger segment_memberships_klaviyo_update after update on public.segment_memberships
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.segment_memberships_moved();

/**
 * Trigger: sync turned on queues every current member (the list starts complete); turned off,
 * what was waiting is dropped (the list stays in Klaviyo as it was).
 */
create or replace function private.customer_segments_sync_changed()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.sync_enabled and not old.sync_enabled then
    update public.customer_segments set klaviyo_sync_error = null where user_id = new.user_id and id = new.id;
    perform private.klaviyo_queue_list_changes((
      select coalesce(jsonb_agg(jsonb_build_object('user_id', m.user_id, 'segment_id', m.segment_id, 'customer_id', m.customer_id, 'op', 'add')), '[]')
        from public.segment_memberships m where m.user_id = new.user_id and m.segment_id = new.id and m.removed_at is null));
  elsif old.sync_enabled and not new.sync_enabled then
    delete from private.klaviyo_list_changes where user_id = new.user_id and segment_id = new.id;
  end if;
  return null;
end
$$;
create trigger customer_segments_klaviyo_sync after update of sync_enabled on public.customer_segments
  for each row execute function private.customer_segments_sync_changed();

/** Trigger: a Klaviyo key saved sends what the merchant's synced segments have waiting. */
create or replace function private.klaviyo_key_saved_lists()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.provider = 'klaviyo' then
    perform private.klaviyo_list_jobs((
      select coalesce(jsonb_agg(jsonb_build_object('user_id', s.user_id, 'segment_id', s.id)), '[]')
        from public.customer_segments s
       where s.user_id = new.user_id and s.sync_enabled
         and exists (select 1 from private.klaviyo_list_changes c where c.user_id = s.user_id and c.segment_id = s.id)));
  end if;
  return null;
end
$$;
create trigger merchant_credentials_klaviyo_lists after insert or update of ciphertext on public.merchant_credentials
  for each row execute function private.klaviyo_key_saved_lists();
