-- The outbox's part of an erasure: messages about the shopper keep what they counted (metric,
-- value, when, whether sent: a campaign's sends and opens) but not what they said or to whom;
-- those still waiting are cancelled (a runner sending one at this moment may still finish: the
-- deletion below waits for its lease). Profile and list changes waiting for the shopper are
-- dropped, and an erased customer is never queued again.
--
-- Where the merchant has a Klaviyo key, Klaviyo is asked to delete the shopper's profile
-- (POST /api/data-privacy-deletion-jobs, by email): a deletion request holds the email only until
-- Klaviyo has taken it. It is asked when we may ever have sent Klaviyo something about them (a
-- customer record, a message): an erasure that finds nothing (a replay) asks nothing.

create table private.klaviyo_deletions (
  user_id uuid not null references auth.users (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  -- Until Klaviyo has taken the request; then null.
  email text check (email = public.normalize_email(email)),
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
  reason text check (length(reason) <= 500),
  attempts integer not null default 0 check (attempts >= 0),
  requested_at timestamptz not null,
  sent_at timestamptz,
  primary key (user_id, id),
  check ((status = 'sent') = (sent_at is not null)),
  check (status = 'sent' or email is not null)
);

/** The deletion request's job: after the lease of a message being sent now, so its event cannot recreate the profile. */
create or replace function private.klaviyo_deletion_job(p_user_id uuid, p_id uuid, p_run_at timestamptz)
returns graphile_worker.job_spec
language sql
stable
set search_path = ''
as $$
  select row('klaviyo_delete', json_build_object('u', p_user_id, 'd', p_id), null, p_run_at, 10::smallint,
             'klaviyo-delete:' || p_id::text, null, null)::graphile_worker.job_spec
$$;

create or replace function private.klaviyo_shopper_erase(p_user_id uuid, p_customer_id uuid, p_email text, p_orders uuid[],
                                                         p_placeholder text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_messages integer; v_profiles integer; v_lists integer; v_deletion uuid;
begin
  with taken as (
    select m.id from public.klaviyo_messages m where m.user_id = p_user_id and m.customer_id = p_customer_id
    union
    select m.id from public.klaviyo_messages m where m.user_id = p_user_id and m.profile is not null and m.profile ->> 'email' = p_email
    order by 1
  ), erased as (
    update public.klaviyo_messages m
       set properties = '{}'::jsonb,
           profile = case when m.profile is not null then jsonb_build_object('email', p_placeholder) end,
           status = case when m.status in ('pending', 'held') then 'cancelled' else m.status end,
           hold = case when m.status in ('pending', 'held') then null else m.hold end,
           reason = case when m.status in ('pending', 'held') then 'The shopper''s data was erased' else m.reason end
      from taken t
     where m.user_id = p_user_id and m.id = t.id
       and (m.properties <> '{}'::jsonb or m.status in ('pending', 'held')
            or m.profile is not null and m.profile ->> 'email' <> p_placeholder)
    returning 1
  )
  select count(*) into v_messages from erased;

  delete from private.klaviyo_profile_changes k where k.user_id = p_user_id and k.customer_id = p_customer_id;
  get diagnostics v_profiles = row_count;
  delete from private.klaviyo_list_changes k where k.user_id = p_user_id and k.customer_id = p_customer_id;
  get diagnostics v_lists = row_count;

  if p_email is not null and private.has_klaviyo(p_user_id) and (p_customer_id is not null or v_messages > 0) then
    insert into private.klaviyo_deletions (user_id, email, requested_at) values (p_user_id, p_email, p_now)
    returning id into v_deletion;
    perform graphile_worker.add_jobs(array[private.klaviyo_deletion_job(p_user_id, v_deletion, p_now + interval '2 minutes')]);
  end if;

  return jsonb_build_object('klaviyo_messages', v_messages, 'klaviyo_profile_changes', v_profiles,
                            'klaviyo_list_changes', v_lists, 'klaviyo_deletions', (v_deletion is not null)::integer);
end
$$;
-- Right after the journey's part: a runner sending a message holds it, then takes what its
-- prepare hook needs (a win-back recipient, a member's points), so messages go before those.
select private.register_shopper_erase('klaviyo', 150, 'private.klaviyo_shopper_erase(uuid,uuid,text,uuid[],text,timestamptz)');

/**
 * The deletion request to send: its email and the merchant's key (the server decrypts it), or
 * null when there is nothing to send (already sent, or no key: it waits for one).
 */
create or replace function private.klaviyo_deletion_claim(p_user_id uuid, p_id uuid)
returns jsonb
language sql
volatile
set search_path = ''
as $$
  update private.klaviyo_deletions d set attempts = d.attempts + 1
    from public.merchant_credentials k
   where d.user_id = p_user_id and d.id = p_id and d.status <> 'sent'
     and k.user_id = d.user_id and k.provider = 'klaviyo'
  returning jsonb_build_object('email', d.email, 'ciphertext', k.ciphertext, 'attempts', d.attempts)
$$;

/** What came of a deletion request: sent (the email is let go), or why it is not (kept to try again). */
create or replace function private.klaviyo_deletion_result(p_user_id uuid, p_id uuid, p_sent boolean, p_reason text default null,
                                                           p_now timestamptz default now())
returns void
language sql
volatile
set search_path = ''
as $$
  update private.klaviyo_deletions d
     set status = case when p_sent then 'sent' else 'failed' end,
         email = case when p_sent then null else d.email end,
         sent_at = case when p_sent then p_now end,
         reason = case when p_sent then null else left(p_reason, 500) end
   where d.user_id = p_user_id and d.id = p_id and d.status <> 'sent'
$$;

/** Trigger: a Klaviyo key saved sends the deletion requests that waited for one or were refused (keys are saved rarely: a row trigger). */
create or replace function private.klaviyo_key_saved_deletions()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_specs graphile_worker.job_spec[];
begin
  select coalesce(array_agg(private.klaviyo_deletion_job(d.user_id, d.id, now())), '{}') into v_specs
    from private.klaviyo_deletions d where d.user_id = new.user_id and d.status <> 'sent';
  if cardinality(v_specs) > 0 then
    perform graphile_worker.add_jobs(v_specs);
  end if;
  return null;
end
$$;
create trigger merchant_credentials_klaviyo_deletions after insert or update of ciphertext on public.merchant_credentials
  for each row when (new.provider = 'klaviyo') execute function private.klaviyo_key_saved_deletions();

/**
 * Trigger: a message about an erased customer (a merchant's bonus, a tier change after the
 * erasure) is kept cancelled, never sent: it would make Klaviyo a profile for the placeholder.
 */
create or replace function private.klaviyo_messages_erased()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if exists (select 1 from public.customers c where c.user_id = new.user_id and c.id = new.customer_id and c.erased_at is not null) then
    new.status := 'cancelled';
    new.hold := null;
    new.reason := 'The shopper''s data was erased';
  end if;
  return new;
end
$$;
create trigger klaviyo_messages_erased before insert on public.klaviyo_messages
  for each row when (new.customer_id is not null) execute function private.klaviyo_messages_erased();

-- An erased customer is never queued for Klaviyo again: a later stage change or segment move
-- must not send their placeholder there.
create or replace function private.klaviyo_profiles_changed(p_rows jsonb)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_specs graphile_worker.job_spec[];
begin
  with marked as (
    insert into private.klaviyo_profile_changes (user_id, customer_id)
    select distinct (r ->> 'user_id')::uuid, (r ->> 'customer_id')::uuid
      from jsonb_array_elements(p_rows) r
      join public.customers c on c.user_id = (r ->> 'user_id')::uuid and c.id = (r ->> 'customer_id')::uuid and c.erased_at is null
     where private.has_klaviyo((r ->> 'user_id')::uuid)
    -- A change while the job is sending moves the time on, so that send does not clear it.
    on conflict (user_id, customer_id) do update set changed_at = excluded.changed_at
    returning user_id
  )
  select coalesce(array_agg(row('klaviyo_profiles', json_build_object('u', m.user_id), null, clock_timestamp() + interval '30 seconds',
                                10::smallint, 'klaviyo-profiles:' || m.user_id::text, null, null)::graphile_worker.job_spec), '{}')
    into v_specs
    from (select distinct user_id from marked) m;
  if cardinality(v_specs) > 0 then
    perform graphile_worker.add_jobs(v_specs, true);
  end if;
end
$$;

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
      join public.customers c on c.user_id = (r ->> 'user_id')::uuid and c.id = (r ->> 'customer_id')::uuid and c.erased_at is null
    returning user_id, segment_id
  )
  select coalesce(jsonb_agg(distinct jsonb_build_object('user_id', q.user_id, 'segment_id', q.segment_id)), '[]')
    into v_segments from queued q;
  perform private.klaviyo_list_jobs(v_segments);
end
$$;

revoke execute on function private.klaviyo_deletion_job(uuid, uuid, timestamptz),
  private.klaviyo_shopper_erase(uuid, uuid, text, uuid[], text, timestamptz), private.klaviyo_deletion_claim(uuid, uuid),
  private.klaviyo_deletion_result(uuid, uuid, boolean, text, timestamptz), private.klaviyo_key_saved_deletions(),
  private.klaviyo_messages_erased() from public;
