-- Customer journey: storefront events accepted at insert speed, folded into customers after.
--
-- A batch of 500 events at 200,000 customers spent 12% of its time inserting the touchpoints
-- and 81% folding them into the customers: one update of each customer's activity, lead capture
-- and affinity, then the stage machine (docs/benchmarks.md, "ingest"). The storefront needs
-- none of that to be answered: /api/track now records the touchpoints and queues the batch's
-- fold, one row, and the touchpoints cron folds queued batches with the same statements as
-- before, each store's in the order they were queued, within a minute.
--
-- One mechanism, two entry points:
-- * private.intake_touchpoints(user, events, now, fold): unpack, customers not seen before,
--   events mapped to customers, touchpoints inserted; then the fold at once (fold = true:
--   private.record_touchpoints, which the gift claim, the win-back click and the demo history
--   call), after any queued batch of the store that names the same customers, so their events
--   count in the order they came; or one queued row (fold = false: private.queue_touchpoints,
--   /api/track). A store with a full backlog (100 batches, 50,000 events: the cron is far
--   behind or not called) folds its oldest batch in the call, so its queue stops growing and
--   its calls cost what they did before the queue.
-- * private.fold_touchpoint_batch(user, customers, types, times, collections, now): the fold.
-- * private.fold_touchpoints(limit, now, user, customers): claims queued batches (FOR UPDATE
--   SKIP LOCKED: two folds never take one batch), the cron one per store at a time, oldest
--   first, so one busy store cannot hold back the others; each folded at the later of the
--   call's time and the batch's, so a stage change is never logged before the call that caused it.
--
-- Locks: intake holds KEY SHARE on the batch's customers (what the touchpoints' foreign key
-- takes anyway, taken first and in id order), so an erasure waits for the batch rather than
-- deleting a customer between its lookup and its touchpoints; it conflicts with no order or
-- fold. A fold locks every customer of the batches it claimed FOR NO KEY UPDATE before it folds
-- any, store by store and in id order (the lock an update takes: it waits for an order or
-- another fold on the same customer), so folds holding several batches cannot deadlock. An
-- erasure keeps the customer's record (its stage and figures, not who they were): a queued
-- batch of an erased shopper folds into it as it would have before the erasure.

create table private.touchpoint_folds (
  user_id uuid not null,
  id bigint generated always as identity,
  queued_at timestamptz not null default now(),
  -- The batch's events in order, as the fold reads them (a missing customer is null).
  customer_ids uuid[] not null,
  types text[] not null,
  occurred_ats timestamptz[] not null,
  collections text[] not null,
  primary key (user_id, id),
  check (cardinality(customer_ids) = cardinality(types) and cardinality(types) = cardinality(occurred_ats)
         and cardinality(occurred_ats) = cardinality(collections))
);
-- The fold takes batches in the order they came, across stores.
create index touchpoint_folds_id_idx on private.touchpoint_folds (id);
-- Filled and emptied all day: vacuumed at a fixed count of dead rows (see the other queues).
alter table private.touchpoint_folds set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);

/**
 * Fold one batch of events into its customers: activity columns, lead capture, affinity (a
 * collection deleted since the event counts as none), then the stage machine at p_now. Events
 * come as parallel arrays in batch order; a null customer is skipped. Locks the customers FOR
 * NO KEY UPDATE in id order. Returns how many customers it folded.
 */
create or replace function private.fold_touchpoint_batch(
  p_user_id uuid,
  p_customer uuid[],
  p_type text[],
  p_at timestamptz[],
  p_collection text[],
  p_now timestamptz
)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_two_ids uuid[];
  v_two_lead_at timestamptz[];
  v_two_engaged timestamptz[];
begin
  select array_agg(l.id order by l.id) into v_ids
    from (select c.id from public.customers c
           where c.user_id = p_user_id and c.id = any (p_customer)
           order by c.id
           for no key update of c) as l;
  if v_ids is null then
    return 0;
  end if;

  -- One pass over the batch: each event carries its customer's lead time (known before, or the
  -- first capture in this batch) as a window aggregate, so nothing joins the batch to itself
  -- (a generic plan cannot know a batch's size and would make that join quadratic).
  with e as (
    select u.customer_id, u.type, u.at, k.slug as collection, t.affinity_weight, t.engages, t.promotes_lead,
           c.became_lead_at as known_lead_at,
           coalesce(c.became_lead_at, min(u.at) filter (where u.type = 'lead_capture') over (partition by u.customer_id)) as lead_at
      from unnest(p_customer, p_type, p_at, p_collection) as u(customer_id, type, at, collection)
      join private.touchpoint_types t on t.type = u.type
      join public.customers c on c.user_id = p_user_id and c.id = any (v_ids) and c.id = u.customer_id
      left join public.collections k on k.user_id = p_user_id and k.slug = u.collection
  ), a as (
    select e.customer_id,
           max(e.at) filter (where e.type = 'page_view') as last_view,
           max(e.at) filter (where e.type = 'email_open') as last_open,
           max(e.at) filter (where e.type = 'email_click') as last_click,
           max(e.at) filter (where e.engages) as last_engaged,
           min(e.at) filter (where e.type = 'lead_capture') as first_lead,
           min(e.at) filter (where e.promotes_lead and e.at > e.lead_at) as engaged_after_lead,
           min(e.known_lead_at) as known_lead_at,
           -- This batch's affinity points, as (collection, points) pairs of this customer.
           array_agg(e.collection) filter (where e.collection is not null) as collections,
           array_agg(e.affinity_weight) filter (where e.collection is not null) as weights
      from e
     group by e.customer_id
  ), s as (
    select a.*, case when a.collections is null then c.collection_scores
                     else c.collection_scores || (select jsonb_object_agg(x.slug, coalesce((c.collection_scores ->> x.slug)::numeric, 0) + x.points)
                                                    from (select k.slug, sum(k.w) as points from unnest(a.collections, a.weights) as k(slug, w)
                                                           group by k.slug) x) end as scores,
           a.collections is not null as scored
      from a
      join public.customers c on c.user_id = p_user_id and c.id = a.customer_id
  ), upd as (
    update public.customers c
       set last_site_visit_at = greatest(c.last_site_visit_at, s.last_view),
           last_email_open_at = greatest(c.last_email_open_at, s.last_open),
           last_email_click_at = greatest(c.last_email_click_at, s.last_click),
           last_engaged_at = greatest(c.last_engaged_at, s.last_engaged),
           became_lead_at = coalesce(c.became_lead_at, s.first_lead),
           -- A lead captured and engaged in this same batch gets its engagement after the
           -- lead stage has been logged (below), so the lead stage stays observable.
           engaged_after_lead_at = coalesce(c.engaged_after_lead_at,
             case when s.known_lead_at is null and s.first_lead is not null then null else s.engaged_after_lead end),
           collection_scores = s.scores,
           primary_collection = case when s.scored then private.primary_collection(s.scores) else c.primary_collection end
      from s
     where c.user_id = p_user_id and c.id = s.customer_id
    returning c.id, s.first_lead, s.engaged_after_lead, (s.known_lead_at is null and s.first_lead is not null
                                                          and s.engaged_after_lead is not null) as two_step
  )
  select array_agg(upd.id) filter (where upd.two_step), array_agg(upd.first_lead) filter (where upd.two_step),
         array_agg(upd.engaged_after_lead) filter (where upd.two_step)
    into v_two_ids, v_two_lead_at, v_two_engaged
    from upd;

  if v_two_ids is not null then
    perform private.apply_stages(p_user_id, v_two_ids, p_now, 'engagement', null, v_two_lead_at);
    update public.customers c set engaged_after_lead_at = t.engaged
      from unnest(v_two_ids, v_two_engaged) as t(id, engaged)
     where c.user_id = p_user_id and c.id = any (v_two_ids) and c.id = t.id;
  end if;

  perform private.apply_stages(p_user_id, v_ids, p_now, 'engagement', null);
  return cardinality(v_ids);
end
$$;
revoke execute on function private.fold_touchpoint_batch(uuid, uuid[], text[], timestamptz[], text[], timestamptz)
  from public, anon, authenticated;

/** Queued batches a store may have before its calls fold its oldest (100 batches of up to 500 events). */
create or replace function private.touchpoint_backlog()
returns integer
language plpgsql
immutable
set search_path = ''
as $$ begin return 100; end $$;

/**
 * Record a batch of storefront events for one merchant, set-based: customers upserted
 * (ON CONFLICT, so two batches with the same new email make one customer), touchpoints
 * inserted; then folded at once (p_fold) or queued for the touchpoints cron. Each event needs
 * `occurredAt`. A collection the merchant does not have is recorded as none. Returns rows
 * inserted. The batch is unpacked once into arrays and every statement unnests them: no temp
 * table (that would invalidate the cached plans on every call) and index lookups by
 * (merchant, email).
 */
create or replace function private.intake_touchpoints(p_user_id uuid, p_events jsonb, p_now timestamptz, p_fold boolean)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_email text[]; v_type text[]; v_channel text[]; v_at timestamptz[]; v_collection text[]; v_value numeric[];
  v_ref_id text[]; v_ref_type text[]; v_utm_source text[]; v_utm_medium text[]; v_utm_campaign text[]; v_meta jsonb[];
  v_customer uuid[];
  v_count integer;
begin
  select array_agg(public.normalize_email(e.v ->> 'email') order by e.ord), array_agg(e.v ->> 'type' order by e.ord),
         array_agg(e.v ->> 'channel' order by e.ord), array_agg((e.v ->> 'occurredAt')::timestamptz order by e.ord),
         array_agg(k.slug order by e.ord), array_agg((e.v ->> 'value')::numeric order by e.ord),
         array_agg(e.v ->> 'referenceId' order by e.ord), array_agg(e.v ->> 'referenceType' order by e.ord),
         array_agg(e.v -> 'utm' ->> 'source' order by e.ord), array_agg(e.v -> 'utm' ->> 'medium' order by e.ord),
         array_agg(e.v -> 'utm' ->> 'campaign' order by e.ord), array_agg(coalesce(e.v -> 'metadata', '{}'::jsonb) order by e.ord)
    into v_email, v_type, v_channel, v_at, v_collection, v_value, v_ref_id, v_ref_type, v_utm_source, v_utm_medium,
         v_utm_campaign, v_meta
    from jsonb_array_elements(p_events) with ordinality as e(v, ord)
    left join public.collections k on k.user_id = p_user_id and k.slug = e.v ->> 'collection';
  if v_email is null then
    return 0;
  end if;

  -- Only emails not seen before are inserted (ON CONFLICT still settles a race); sorted
  -- inserts and locks keep two overlapping batches from deadlocking.
  insert into public.customers (user_id, email, created_at)
  select p_user_id, u.email, min(u.at) from unnest(v_email, v_at) as u(email, at)
   where not exists (select 1 from public.customers x where x.user_id = p_user_id and x.email = u.email)
   group by u.email order by u.email
  on conflict (user_id, email) do nothing;

  -- Hold the batch's customers (KEY SHARE, in id order) and map each event to its customer in
  -- one pass; one erased since the insert above maps to null and its events are left out.
  with held as (
    select c.id, c.email from public.customers c
     where c.user_id = p_user_id and c.email = any (v_email)
     order by c.id
     for key share
  )
  select array_agg(h.id order by u.ord) into v_customer
    from unnest(v_email) with ordinality as u(email, ord) left join held h using (email);

  insert into public.touchpoints (user_id, customer_id, type, channel, reference_id, reference_type, metadata, value,
                                  collection, utm_source, utm_medium, utm_campaign, occurred_at)
  select p_user_id, e.customer_id, e.type, e.channel, e.ref_id, e.ref_type, e.meta, e.value,
         e.collection, e.utm_source, e.utm_medium, e.utm_campaign, e.at
    from unnest(v_customer, v_type, v_channel, v_ref_id, v_ref_type, v_meta, v_value, v_collection, v_utm_source,
                v_utm_medium, v_utm_campaign, v_at)
      as e(customer_id, type, channel, ref_id, ref_type, meta, value, collection, utm_source, utm_medium, utm_campaign, at)
   where e.customer_id is not null;
  get diagnostics v_count = row_count;

  if p_fold then
    -- Queued batches naming these customers first (locking them with these customers).
    perform private.fold_touchpoints(private.touchpoint_backlog(), p_now, p_user_id, v_customer);
    perform private.fold_touchpoint_batch(p_user_id, v_customer, v_type, v_at, v_collection, p_now);
  elsif v_count > 0 then
    insert into private.touchpoint_folds (user_id, queued_at, customer_ids, types, occurred_ats, collections)
    values (p_user_id, p_now, v_customer, v_type, v_at, v_collection);
    if (select count(*) from (select 1 from private.touchpoint_folds q where q.user_id = p_user_id
                               limit private.touchpoint_backlog() + 1) as x) > private.touchpoint_backlog() then
      perform private.fold_touchpoints(1, p_now, p_user_id);
    end if;
  end if;
  return v_count;
end
$$;
revoke execute on function private.intake_touchpoints(uuid, jsonb, timestamptz, boolean) from public, anon, authenticated;

/**
 * Record a batch and fold it into its customers in the same transaction (see
 * intake_touchpoints). plpgsql, as before: a SQL function with a SET clause is planned anew on
 * every call.
 */
create or replace function private.record_touchpoints(p_user_id uuid, p_events jsonb, p_now timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$ begin return private.intake_touchpoints(p_user_id, p_events, p_now, true); end $$;

/** Record a batch and queue its fold for the touchpoints cron (see intake_touchpoints): /api/track. */
create or replace function private.queue_touchpoints(p_user_id uuid, p_events jsonb, p_now timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$ begin return private.intake_touchpoints(p_user_id, p_events, p_now, false); end $$;
revoke execute on function private.queue_touchpoints(uuid, jsonb, timestamptz) from public, anon, authenticated;

/**
 * Fold up to p_limit queued batches and delete them. Without p_user_id (the cron): the oldest
 * batch of each store, oldest first (a store's next batch waits for the next call or step).
 * With it: that store's batches in the order they were queued, only those naming one of
 * p_customers when given (whose rows are locked with the batches'). A batch another fold
 * holds is skipped. Each is folded at the later of p_now and the time it was queued. Returns
 * {batches, events}.
 */
create or replace function private.fold_touchpoints(p_limit integer, p_now timestamptz default now(), p_user_id uuid default null,
                                                    p_customers uuid[] default null)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_users uuid[];
  v_ids bigint[];
  v_store uuid;
  v record;
  v_events integer := 0;
begin
  if p_user_id is null then
    with claimed as (
      select q.user_id, q.id from private.touchpoint_folds q
       where q.id in (select min(x.id) from private.touchpoint_folds x group by x.user_id)
       order by q.id
       limit p_limit
         for update skip locked
    )
    select array_agg(c.user_id order by c.id), array_agg(c.id order by c.id) into v_users, v_ids from claimed c;
  else
    with claimed as (
      select q.user_id, q.id from private.touchpoint_folds q
       where q.user_id = p_user_id and (p_customers is null or q.customer_ids && p_customers)
       order by q.id
       limit p_limit
         for update skip locked
    )
    select array_agg(c.user_id order by c.id), array_agg(c.id order by c.id) into v_users, v_ids from claimed c;
  end if;
  if v_ids is null then
    return jsonb_build_object('batches', 0, 'events', 0);
  end if;

  -- Every customer of the claimed batches (and p_customers), store by store in id order, before
  -- any batch is folded.
  for v_store in select distinct u.id from unnest(v_users) as u(id) order by 1 loop
    perform 1
       from (select c.id from public.customers c
              where c.user_id = v_store
                and c.id = any (array(select x.id from private.touchpoint_folds q cross join lateral unnest(q.customer_ids) as x(id)
                                       where q.user_id = v_store and q.id = any (v_ids))
                                || case when v_store = p_user_id then coalesce(p_customers, '{}') else '{}' end)
              order by c.id
                for no key update of c) as l;
  end loop;

  for i in 1 .. cardinality(v_ids) loop
    select q.user_id, q.id, q.queued_at, q.customer_ids, q.types, q.occurred_ats, q.collections into v
      from private.touchpoint_folds q where q.user_id = v_users[i] and q.id = v_ids[i];
    perform private.fold_touchpoint_batch(v.user_id, v.customer_ids, v.types, v.occurred_ats, v.collections,
                                          greatest(p_now, v.queued_at));
    delete from private.touchpoint_folds q where q.user_id = v.user_id and q.id = v.id;
    v_events := v_events + cardinality(v.customer_ids);
  end loop;
  return jsonb_build_object('batches', cardinality(v_ids), 'events', v_events);
end
$$;
revoke execute on function private.fold_touchpoints(integer, timestamptz, uuid, uuid[]) from public, anon, authenticated;
