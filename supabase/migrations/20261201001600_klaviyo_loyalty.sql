-- Loyalty in Klaviyo: the moments a flow can answer (points earned, a reward issued, a tier
-- reached) as events through the outbox, and the properties a template can show (points
-- balance, tier, referral code and link, lifecycle stage) kept on each profile through the
-- bulk profile import. Only for merchants with a Klaviyo key: without one, nothing is queued
-- (a store that never connects Klaviyo does not pile up messages for every order).

select private.register_klaviyo_source('loyalty', null, null);

/** Whether the merchant has a Klaviyo key saved (what every loyalty trigger asks first). */
create or replace function private.has_klaviyo(p_user_id uuid)
returns boolean
language sql
stable
set search_path = ''
as $$ select exists (select 1 from public.merchant_credentials c where c.user_id = p_user_id and c.provider = 'klaviyo') $$;

/**
 * Trigger: points earned (any way of earning) become a "Points Earned" event. A row trigger
 * with a WHEN, not a statement trigger with a transition table: every order of a store with a
 * program writes this table, and most stores have no Klaviyo key; the row costs one key lookup.
 */
create or replace function private.loyalty_moment_points()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if private.has_klaviyo(new.user_id) then
    insert into public.klaviyo_messages (user_id, source, customer_id, metric, properties, occurred_at)
    values (new.user_id, 'loyalty', new.customer_id, 'Points Earned',
            jsonb_strip_nulls(jsonb_build_object('points', new.points, 'way', replace(new.type, 'earn_', ''), 'description', new.description,
                                                 'balance', new.balance_after, 'expires_at', new.expires_at)),
            new.created_at);
  end if;
  return null;
end
$$;
create trigger points_transactions_klaviyo after insert on public.points_transactions
  for each row when (new.type like 'earn\_%' and new.points > 0) execute function private.loyalty_moment_points();

/** Trigger: a redemption becomes a "Reward Issued" event carrying its code. */
create or replace function private.loyalty_moment_reward()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into public.klaviyo_messages (user_id, source, source_id, customer_id, metric, properties, occurred_at)
  select n.user_id, 'loyalty', n.id, n.customer_id, 'Reward Issued',
         jsonb_strip_nulls(jsonb_build_object('reward', r.name, 'code', n.code, 'points_spent', n.points_spent, 'expires_at', n.expires_at)),
         n.created_at
    from new_rows n
    join public.loyalty_rewards r on r.user_id = n.user_id and r.id = n.reward_id
   where private.has_klaviyo(n.user_id);
  return null;
end
$$;
create trigger reward_redemptions_klaviyo after insert on public.reward_redemptions
  referencing new table as new_rows
  for each statement execute function private.loyalty_moment_reward();

/** Trigger: moving up a tier (not down, not leaving the program) becomes a "Tier Reached" event. */
create or replace function private.loyalty_moment_tier()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  insert into public.klaviyo_messages (user_id, source, source_id, customer_id, metric, properties, occurred_at)
  select n.user_id, 'loyalty', n.id, n.customer_id, 'Tier Reached',
         jsonb_strip_nulls(jsonb_build_object('tier', t.name, 'previous_tier', f.name, 'multiplier', t.points_multiplier)),
         n.changed_at
    from new_rows n
    join public.loyalty_tiers t on t.user_id = n.user_id and t.id = n.to_tier_id
    left join public.loyalty_tiers f on f.user_id = n.user_id and f.id = n.from_tier_id
   where (f.id is null or t.tier_order > f.tier_order) and private.has_klaviyo(n.user_id);
  return null;
end
$$;
create trigger loyalty_tier_changes_klaviyo after insert on public.loyalty_tier_changes
  referencing new table as new_rows
  for each statement execute function private.loyalty_moment_tier();

-- Profiles whose properties changed since they were last sent, one row each however often they
-- changed; one job per merchant (debounced half a minute) sends them in bulk.
create table private.klaviyo_profile_changes (
  user_id uuid not null,
  customer_id uuid not null,
  changed_at timestamptz not null default now(),
  primary key (user_id, customer_id),
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade
);

/** Mark customers' profiles to be sent (p_rows: [{user_id, customer_id}]) and make sure a job will send them. */
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

/**
 * Trigger: a member joined, or what their profile shows changed (balance, tier, code). A row
 * trigger with a WHEN (every earn updates the member): one key lookup for a store without
 * Klaviyo, and nothing more.
 */
create or replace function private.loyalty_members_profile()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if private.has_klaviyo(new.user_id) then
    perform private.klaviyo_profiles_changed(jsonb_build_array(jsonb_build_object('user_id', new.user_id, 'customer_id', new.customer_id)));
  end if;
  return null;
end
$$;
create trigger loyalty_members_klaviyo_insert after insert on public.loyalty_members
  for each row execute function private.loyalty_members_profile();
create trigger loyalty_members_klaviyo_update after update of points_balance, tier_id, referral_code on public.loyalty_members
  for each row when ((new.points_balance, new.tier_id, new.referral_code) is distinct from (old.points_balance, old.tier_id, old.referral_code))
  execute function private.loyalty_members_profile();

/** Trigger: a customer's lifecycle stage changed (a row trigger with a WHEN: only real changes call it). */
create or replace function private.customers_stage_profile()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if private.has_klaviyo(new.user_id) then
    perform private.klaviyo_profiles_changed(jsonb_build_array(jsonb_build_object('user_id', new.user_id, 'customer_id', new.id)));
  end if;
  return null;
end
$$;
create trigger customers_klaviyo_stage after update of stage on public.customers
  for each row when (old.stage is distinct from new.stage) execute function private.customers_stage_profile();

/**
 * Up to p_limit changed profiles of one merchant, as the bulk import takes them: email, name,
 * and our properties (prefixed hh_ so they never clash with the merchant's own). Read, not
 * taken: the job deletes what Klaviyo accepted (private.klaviyo_profiles_sent).
 */
create or replace function private.klaviyo_profiles_batch(p_user_id uuid, p_limit integer default 10000)
returns table (customer_id uuid, changed_at timestamptz, profile jsonb)
language sql
stable
set search_path = ''
as $$
  select k.customer_id, k.changed_at, jsonb_strip_nulls(jsonb_build_object(
    'email', c.email, 'first_name', c.first_name, 'last_name', c.last_name,
    'properties', jsonb_strip_nulls(jsonb_build_object(
      'hh_stage', c.stage,
      'hh_points_balance', m.points_balance,
      'hh_tier', t.name,
      'hh_referral_code', m.referral_code,
      'hh_referral_link', case when m.referral_code is not null and s.shop_domain is not null
                               then 'https://' || s.shop_domain || '/?ref=' || m.referral_code end))))
    from private.klaviyo_profile_changes k
    join public.customers c on c.user_id = k.user_id and c.id = k.customer_id
    left join public.loyalty_members m on m.user_id = k.user_id and m.customer_id = k.customer_id
    left join public.loyalty_tiers t on t.user_id = m.user_id and t.id = m.tier_id
    left join public.merchant_settings s on s.user_id = k.user_id
   where k.user_id = p_user_id
   order by k.changed_at, k.customer_id
   limit p_limit
$$;

/** What Klaviyo accepted is no longer waiting (unless it changed again meanwhile); whether more is waiting. */
create or replace function private.klaviyo_profiles_sent(p_user_id uuid, p_customers uuid[], p_changed timestamptz[])
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  delete from private.klaviyo_profile_changes k
   using unnest(p_customers, p_changed) as x(customer_id, changed_at)
   where k.user_id = p_user_id and k.customer_id = x.customer_id and k.changed_at = x.changed_at;
  return exists (select 1 from private.klaviyo_profile_changes k where k.user_id = p_user_id);
end
$$;

/** Trigger: a Klaviyo key saved sends the profiles waiting (and, the first time, every member's). */
create or replace function private.klaviyo_key_saved_profiles()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.provider = 'klaviyo' then
    perform private.klaviyo_profiles_changed((
      select coalesce(jsonb_agg(jsonb_build_object('user_id', m.user_id, 'customer_id', m.customer_id)), '[]')
        from public.loyalty_members m where m.user_id = new.user_id));
  end if;
  return null;
end
$$;
create trigger merchant_credentials_klaviyo_profiles after insert or update of ciphertext on public.merchant_credentials
  for each row execute function private.klaviyo_key_saved_profiles();
