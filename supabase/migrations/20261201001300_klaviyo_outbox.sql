-- Messages to Klaviyo: the one way any module (win-back, gifts, loyalty) tells Klaviyo about a
-- shopper. Each message is a row here, which is what the merchant sees (pending, held and why,
-- sent, failed and why) and whose id is Klaviyo's `unique_id`, so a retry can never count twice
-- on Klaviyo's side. Each pending row also has a job in the queue (graphile-worker), added by a
-- trigger in the same transaction as the row, due when the message is: nothing is enqueued
-- that does not commit, and nothing commits without its job.
--
-- A module plugs in by registering its source, with an optional `prepare` function (run in the
-- claim, under the message's row lock, just before the send: it may hold the message, cancel it
-- or add properties such as a coupon code issued at that moment) and an optional `on_sent`
-- function (run in the same transaction that records Klaviyo's 202).

create table private.klaviyo_sources (
  source text primary key check (source ~ '^[a-z][a-z0-9_]{0,30}$'),
  prepare regprocedure,
  on_sent regprocedure
);

/** Register (or change) a module's message source and its hooks. */
create or replace function private.register_klaviyo_source(p_source text, p_prepare regprocedure, p_on_sent regprocedure)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if p_prepare is not null and not exists (
    select 1 from pg_catalog.pg_proc p
     where p.oid = p_prepare and p.prorettype = 'jsonb'::regtype and p.pronargs = 3
       and p.proargtypes[0] = 'uuid'::regtype and p.proargtypes[1] = 'uuid'::regtype and p.proargtypes[2] = 'timestamptz'::regtype
  ) then
    raise exception 'prepare % must take (uuid, uuid, timestamptz) and return jsonb', p_prepare;
  end if;
  if p_on_sent is not null and not exists (
    select 1 from pg_catalog.pg_proc p
     where p.oid = p_on_sent and p.prorettype = 'void'::regtype and p.pronargs = 3
       and p.proargtypes[0] = 'uuid'::regtype and p.proargtypes[1] = 'uuid'::regtype and p.proargtypes[2] = 'timestamptz'::regtype
  ) then
    raise exception 'on_sent % must take (uuid, uuid, timestamptz) and return void', p_on_sent;
  end if;
  insert into private.klaviyo_sources (source, prepare, on_sent) values (p_source, p_prepare, p_on_sent)
  on conflict (source) do update set prepare = excluded.prepare, on_sent = excluded.on_sent;
end
$$;

create table public.klaviyo_messages (
  user_id uuid not null references auth.users (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  source text not null check (source ~ '^[a-z][a-z0-9_]{0,30}$'),
  -- The source module's row this message is about (a win-back recipient, a gift).
  source_id uuid,
  customer_id uuid not null,
  metric text not null check (length(metric) between 1 and 127),
  properties jsonb not null default '{}'::jsonb check (jsonb_typeof(properties) = 'object'),
  value numeric(12, 2),
  -- When it happened, for Klaviyo's `time`; null: when it is sent (an offer is news when it goes).
  occurred_at timestamptz,
  due_at timestamptz not null default now(),
  status text not null default 'pending' check (status in ('pending', 'held', 'sent', 'failed', 'cancelled')),
  -- Why it is held (released by the fix: a key saved, a campaign resumed).
  hold text check (hold in ('no_key', 'key_rejected', 'paused')),
  -- The last thing that went wrong, in words for the merchant (never the key, never a body).
  reason text check (length(reason) <= 500),
  attempts integer not null default 0 check (attempts >= 0),
  last_attempt_at timestamptz,
  -- Set by the claim while a runner is sending; a second claim inside it is refused.
  lease_until timestamptz,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, id),
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade,
  check ((status = 'sent') = (sent_at is not null)),
  check ((status = 'held') = (hold is not null))
);
-- What needs the merchant: the held and the failed (the dead-letter list), newest first.
create index klaviyo_messages_attention_idx on public.klaviyo_messages (user_id, status, created_at desc)
  where status in ('held', 'failed');
create index klaviyo_messages_source_idx on public.klaviyo_messages (user_id, source, source_id);
create index klaviyo_messages_customer_idx on public.klaviyo_messages (user_id, customer_id);
create trigger klaviyo_messages_updated_at before update on public.klaviyo_messages
  for each row execute function public.update_updated_at_column();

alter table public.klaviyo_messages enable row level security;
create policy klaviyo_messages_owner on public.klaviyo_messages for select to authenticated using (user_id = (select auth.uid()));
revoke all on public.klaviyo_messages from anon, authenticated;
grant select on public.klaviyo_messages to authenticated;

-- How many attempts a message gets for errors that may pass (5xx, timeouts) before it is
-- failed for the merchant to retry; rate limiting (429) is not an error and is not counted.
create or replace function private.klaviyo_max_attempts()
returns smallint
language sql
immutable
set search_path = ''
as $$ select 8::smallint $$;

/** The queue's job for a message: due when the message is, keyed by it (a new one replaces a waiting one). */
create or replace function private.klaviyo_job(p_user_id uuid, p_id uuid, p_due_at timestamptz)
returns graphile_worker.job_spec
language plpgsql
stable
set search_path = ''
as $$
begin
  return row('klaviyo_send', json_build_object('u', p_user_id, 'm', p_id), null, p_due_at, private.klaviyo_max_attempts(),
             'klaviyo:' || p_id::text, null, null)::graphile_worker.job_spec;
end
$$;

/** Trigger: every message inserted pending gets its job (set-based: one call per statement). */
create or replace function private.klaviyo_messages_inserted()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_specs graphile_worker.job_spec[];
begin
  select coalesce(array_agg(private.klaviyo_job(n.user_id, n.id, n.due_at)), '{}') into v_specs
    from new_rows n where n.status = 'pending';
  if cardinality(v_specs) > 0 then
    perform graphile_worker.add_jobs(v_specs);
  end if;
  return null;
end
$$;
create trigger klaviyo_messages_enqueue_insert after insert on public.klaviyo_messages
  referencing new table as new_rows
  for each statement execute function private.klaviyo_messages_inserted();

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
  select coalesce(array_agg(private.klaviyo_job(n.user_id, n.id, n.due_at)), '{}') into v_specs
    from new_rows n join old_rows o on o.user_id = n.user_id and o.id = n.id
   where n.status = 'pending' and (o.status <> 'pending' or o.due_at <> n.due_at);
  if cardinality(v_specs) > 0 then
    perform graphile_worker.add_jobs(v_specs);
  end if;
  return null;
end
$$;
create trigger klaviyo_messages_enqueue_update after update on public.klaviyo_messages
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.klaviyo_messages_updated();

/**
 * Claim one message for sending. Under its row lock: a message that is no longer pending is
 * skipped; one claimed by another runner within its lease is refused (the job retries later);
 * a merchant without a Klaviyo key keeps it held with that reason (never marked sent). The
 * source's prepare hook may hold it, cancel it or add properties. Otherwise the attempt is
 * counted and the message returned with what the request needs: the key's ciphertext (the
 * server decrypts it), the profile read from the customer now, and the event's attributes.
 * Returns {action: 'send'|'skip'|'busy'|'hold'|'cancel', ...}.
 */
create or replace function private.klaviyo_claim(p_user_id uuid, p_id uuid, p_now timestamptz default now(), p_lease interval default interval '2 minutes')
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_msg public.klaviyo_messages;
  v_key text;
  v_prepare regprocedure;
  v_prep jsonb := '{}'::jsonb;
  v_customer public.customers;
begin
  select * into v_msg from public.klaviyo_messages m where m.user_id = p_user_id and m.id = p_id for update;
  if not found or v_msg.status <> 'pending' then
    return jsonb_build_object('action', 'skip', 'status', v_msg.status);
  end if;
  if v_msg.lease_until > p_now then
    return jsonb_build_object('action', 'busy', 'leaseUntil', v_msg.lease_until);
  end if;
  select c.ciphertext into v_key from public.merchant_credentials c where c.user_id = p_user_id and c.provider = 'klaviyo';
  if v_key is null then
    update public.klaviyo_messages set status = 'held', hold = 'no_key', reason = 'No Klaviyo API key: add one in Settings, Integrations'
     where user_id = p_user_id and id = p_id;
    return jsonb_build_object('action', 'hold', 'hold', 'no_key');
  end if;
  select s.prepare into v_prepare from private.klaviyo_sources s where s.source = v_msg.source;
  if v_prepare is not null then
    execute format('select %s($1, $2, $3)', v_prepare::oid::regproc::text) into v_prep using p_user_id, p_id, p_now;
    v_prep := coalesce(v_prep, '{}'::jsonb);
    if v_prep ? 'hold' then
      update public.klaviyo_messages set status = 'held', hold = v_prep ->> 'hold', reason = v_prep ->> 'reason'
       where user_id = p_user_id and id = p_id;
      return jsonb_build_object('action', 'hold', 'hold', v_prep ->> 'hold');
    end if;
    if v_prep ? 'cancel' then
      update public.klaviyo_messages set status = 'cancelled', reason = v_prep ->> 'cancel'
       where user_id = p_user_id and id = p_id;
      return jsonb_build_object('action', 'cancel', 'reason', v_prep ->> 'cancel');
    end if;
  end if;
  select * into v_customer from public.customers c where c.user_id = p_user_id and c.id = v_msg.customer_id;
  update public.klaviyo_messages
     set attempts = attempts + 1, last_attempt_at = p_now, lease_until = p_now + p_lease,
         properties = properties || coalesce(v_prep -> 'properties', '{}'::jsonb)
   where user_id = p_user_id and id = p_id
  returning * into v_msg;
  return jsonb_build_object(
    'action', 'send',
    'source', v_msg.source,
    'keyCiphertext', v_key,
    'attempts', v_msg.attempts,
    'event', jsonb_strip_nulls(jsonb_build_object(
      'uniqueId', v_msg.id,
      'metric', v_msg.metric,
      'properties', v_msg.properties,
      'value', v_msg.value,
      'time', coalesce(v_msg.occurred_at, p_now),
      'profile', jsonb_strip_nulls(jsonb_build_object(
        'email', v_customer.email, 'first_name', v_customer.first_name, 'last_name', v_customer.last_name,
        'external_id', v_customer.id)))));
end
$$;

/**
 * Record what came of a send. p_outcome:
 *  - 'sent': Klaviyo answered 202; the message is sent and the source's on_sent hook runs here.
 *    A 202 is the truth whoever claimed last: a message cancelled meanwhile (its campaign
 *    completed while the request was out) is sent all the same.
 *  - 'defer': rate limited; due again p_delay from now, by the database's clock, the one the
 *    queue runs by. Not an error: a claimed attempt is given back; with no claim (p_attempt
 *    null: the pacer said wait before anything was claimed) only the due time moves.
 *  - 'retry': an error that may pass; it stays pending with the reason and the job backs off.
 *  - 'failed': a permanent error, or the last attempt; the merchant sees it and can retry it.
 *  - 'key_rejected': Klaviyo refused the key; held until a key is saved.
 * Except for 'sent', only the claim that is still the message's latest (p_attempt, the count
 * its claim returned) changes it: a runner that lost its lease cannot overwrite a newer claim.
 */
create or replace function private.klaviyo_result(p_user_id uuid, p_id uuid, p_outcome text, p_reason text default null,
                                                   p_delay interval default null, p_now timestamptz default now(),
                                                   p_attempt integer default null)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_source text;
  v_on_sent regprocedure;
  v_reason text := left(p_reason, 500);
begin
  if p_outcome = 'sent' then
    update public.klaviyo_messages set status = 'sent', sent_at = p_now, reason = null, hold = null, lease_until = null
     where user_id = p_user_id and id = p_id and status in ('pending', 'cancelled')
    returning source into v_source;
    if v_source is null then
      return false;
    end if;
    select s.on_sent into v_on_sent from private.klaviyo_sources s where s.source = v_source;
    if v_on_sent is not null then
      execute format('select %s($1, $2, $3)', v_on_sent::oid::regproc::text) using p_user_id, p_id, p_now;
    end if;
    return true;
  elsif p_outcome = 'defer' then
    update public.klaviyo_messages
       set due_at = clock_timestamp() + greatest(coalesce(p_delay, interval '1 second'), interval '0'), reason = v_reason,
           lease_until = case when p_attempt is null then lease_until end,
           attempts = case when p_attempt is null then attempts else greatest(attempts - 1, 0) end
     where user_id = p_user_id and id = p_id and status = 'pending'
       and (p_attempt is null and (lease_until is null or lease_until <= p_now) or attempts = p_attempt);
  elsif p_outcome = 'retry' then
    update public.klaviyo_messages set reason = v_reason, lease_until = null
     where user_id = p_user_id and id = p_id and status = 'pending' and attempts = p_attempt;
  elsif p_outcome = 'failed' then
    update public.klaviyo_messages set status = 'failed', reason = v_reason, lease_until = null
     where user_id = p_user_id and id = p_id and status = 'pending' and attempts = p_attempt;
  elsif p_outcome = 'key_rejected' then
    -- Refused with the key this claim read; if a key has been saved since, it goes again now
    -- with the new one instead of waiting for a key that is already there.
    update public.klaviyo_messages m
       set status = case when k.fresh then 'pending' else 'held' end, hold = case when k.fresh then null else 'key_rejected' end,
           reason = v_reason, lease_until = null, due_at = case when k.fresh then clock_timestamp() else m.due_at end
      from (select exists (select 1 from public.merchant_credentials c, public.klaviyo_messages x
                            where c.user_id = p_user_id and c.provider = 'klaviyo' and x.user_id = p_user_id and x.id = p_id
                              and c.updated_at > x.last_attempt_at) as fresh) k
     where m.user_id = p_user_id and m.id = p_id and m.status = 'pending' and m.attempts = p_attempt;
  else
    raise exception 'Unknown outcome %', p_outcome;
  end if;
  return found;
end
$$;

/** A Klaviyo key was saved: messages held for want of a (working) key go again now. */
create or replace function private.klaviyo_release_key_holds(p_user_id uuid, p_now timestamptz default now())
returns integer
language sql
volatile
set search_path = ''
as $$
  with released as (
    update public.klaviyo_messages
       set status = 'pending', hold = null, reason = null, due_at = greatest(due_at, p_now)
     where user_id = p_user_id and status = 'held' and hold in ('no_key', 'key_rejected')
    returning 1
  )
  select count(*)::int from released
$$;

/**
 * The merchant retries failed messages (the dead-letter list): each goes again now, as a new
 * job with the queue's full set of tries (the message keeps its count of attempts so far).
 * Only the merchant's own failed messages; returns how many.
 */
create or replace function private.klaviyo_retry(p_user_id uuid, p_ids uuid[], p_now timestamptz default now())
returns integer
language sql
volatile
set search_path = ''
as $$
  with retried as (
    update public.klaviyo_messages
       set status = 'pending', reason = null, due_at = p_now, lease_until = null
     where user_id = p_user_id and id = any (p_ids) and status = 'failed'
    returning 1
  )
  select count(*)::int from retried
$$;

/**
 * What the queue's cron does before it runs jobs: messages held for want of a key go again
 * when the merchant has one. The key trigger below does this at once; this catches a claim
 * that found no key while one was being saved (its hold committed after the trigger looked).
 * At most p_limit messages a call (the attention index finds them).
 */
create or replace function private.klaviyo_sweep(p_now timestamptz default now(), p_limit integer default 5000)
returns integer
language sql
volatile
set search_path = ''
as $$
  with stale as (
    select m.user_id, m.id from public.klaviyo_messages m
      join public.merchant_credentials c on c.user_id = m.user_id and c.provider = 'klaviyo'
     where m.status = 'held' and m.hold = 'no_key'
     limit p_limit
       for update of m skip locked
  ), released as (
    update public.klaviyo_messages m set status = 'pending', hold = null, reason = null, due_at = greatest(m.due_at, p_now)
      from stale s where m.user_id = s.user_id and m.id = s.id
    returning 1
  )
  select count(*)::int from released
$$;

/** Trigger: saving a Klaviyo key releases what waited for one. */
create or replace function private.klaviyo_key_saved()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.provider = 'klaviyo' then
    perform private.klaviyo_release_key_holds(new.user_id);
  end if;
  return null;
end
$$;
create trigger merchant_credentials_klaviyo_saved after insert or update of ciphertext on public.merchant_credentials
  for each row execute function private.klaviyo_key_saved();

-- Whether the merchant's Klaviyo key works: the last check (a cheap authenticated call, from
-- Settings) and what it said. Saving another key forgets it until that key is checked.
create table public.klaviyo_connections (
  user_id uuid not null references auth.users (id) on delete cascade,
  checked_at timestamptz not null,
  ok boolean not null,
  -- What Klaviyo said (the account's name when it works, the error when not); never the key.
  detail text check (length(detail) <= 300),
  primary key (user_id)
);
alter table public.klaviyo_connections enable row level security;
create policy klaviyo_connections_owner on public.klaviyo_connections for select to authenticated using (user_id = (select auth.uid()));
revoke all on public.klaviyo_connections from anon, authenticated;
grant select on public.klaviyo_connections to authenticated;

/** Trigger: another key (or none) makes the last check say nothing about it. */
create or replace function private.klaviyo_key_changed()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if coalesce(new.provider, old.provider) = 'klaviyo' then
    delete from public.klaviyo_connections where user_id = coalesce(new.user_id, old.user_id);
  end if;
  return null;
end
$$;
create trigger merchant_credentials_klaviyo_changed after insert or update of ciphertext or delete on public.merchant_credentials
  for each row execute function private.klaviyo_key_changed();
