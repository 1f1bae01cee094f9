-- Klaviyo: the outbox's and the list sync's update triggers find what moved without joining
-- their transition tables (see 20261205000200: a join first planned for one row is a nested
-- loop kept for the connection, quadratic on the next bulk update; a segment's evaluation
-- moves hundreds of thousands of memberships at once). New rows EXCEPT old rows, by value.

/**
 * Trigger: a message that becomes pending again (released, retried) or whose due time moves
 * (deferred after a 429) gets a job for its new due time. The key is the message's, so the job
 * replaces any waiting one; a running one keeps running and cannot retry (graphile-worker
 * clears its key), so a message never has two jobs that both go on.
 */
create or replace function private.klaviyo_messages_updated()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_specs graphile_worker.job_spec[];
begin
  -- Pending now, and not pending before at this due time.
  select coalesce(array_agg(private.klaviyo_job(m.user_id, m.id, m.due_at)), '{}') into v_specs
    from (select n.user_id, n.id, n.due_at from new_rows n where n.status = 'pending'
          except
          select o.user_id, o.id, o.due_at from old_rows o where o.status = 'pending') as m;
  if cardinality(v_specs) > 0 then
    perform graphile_worker.add_jobs(v_specs);
  end if;
  return null;
end
$$;

/** Trigger: members who left (removed_at set) or came back (removed_at cleared). */
create or replace function private.segment_memberships_moved()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- The segments' primary key probed for the ids at hand (a join could keep a plan that
  -- scans every merchant's segments).
  if not exists (select 1 from public.customer_segments s
                  where s.user_id = any (array(select distinct n.user_id from new_rows n))
                    and s.id = any (array(select distinct n.segment_id from new_rows n))
                    and s.sync_enabled) then
    return null;
  end if;
  perform private.klaviyo_queue_list_changes((
    select coalesce(jsonb_agg(jsonb_build_object('user_id', m.user_id, 'segment_id', m.segment_id, 'customer_id', m.customer_id,
                                                 'op', case when m.active then 'add' else 'remove' end)), '[]')
      from (select n.user_id, n.segment_id, n.customer_id, n.removed_at is null as active from new_rows n
            except
            select o.user_id, o.segment_id, o.customer_id, o.removed_at is null from old_rows o) as m));
  return null;
end
$$;
