-- Customer journey, part 2: the stage machine, written as data. Rules are tried in priority
-- order; the first whose conditions hold gives the stage. Time-based rules fire once
-- `inactive_days` have passed since the last purchase or the last engagement. Every change is
-- logged in stage_transitions and offered, in the same transaction, to the modules that
-- consume stage changes. README.md shows the same rules table.

-- What each touchpoint type means for a customer.
create table private.touchpoint_types (
  type text primary key,
  affinity_weight numeric not null check (affinity_weight >= 0),
  -- Counts as activity for the churn clock (email opens do not: mail clients open them).
  engages boolean not null,
  -- After lead capture, this makes a lead a prospect.
  promotes_lead boolean not null
);
insert into private.touchpoint_types (type, affinity_weight, engages, promotes_lead) values
  ('page_view', 0.5, true, true),
  ('email_open', 0.5, false, false),
  ('email_click', 0.5, true, true),
  ('pin_save', 2, true, true),
  ('pin_click', 1, true, true),
  ('ad_click', 0.5, true, true),
  ('quiz_start', 0.5, true, true),
  ('quiz_complete', 0.5, true, true),
  ('lead_capture', 0.5, true, false),
  ('cart_add', 3, true, true),
  ('checkout_start', 0.5, true, true),
  ('checkout_abandon', 0.5, true, true),
  ('purchase', 10, true, true),
  ('review', 0.5, true, true),
  ('support_ticket', 0.5, false, false);

create table private.stage_rules (
  priority integer primary key,
  rule text not null unique,
  to_stage text not null check (public.is_stage(to_stage)),
  min_orders integer,
  max_orders integer,
  min_ltv numeric,
  needs_lead boolean not null default false,
  needs_lead_or_order boolean not null default false,
  needs_lead_engagement boolean not null default false,
  inactive_days integer check (inactive_days > 0),
  inactive_since text check (inactive_since in ('purchase', 'engagement')),
  reason text not null,
  check ((inactive_days is null) = (inactive_since is null))
);
insert into private.stage_rules
  (priority, rule, to_stage, min_orders, max_orders, min_ltv, needs_lead, needs_lead_or_order, needs_lead_engagement,
   inactive_days, inactive_since, reason) values
  (10, 'churned_inactive_180d', 'churned', null, null, null, false, true, false, 180, 'engagement',
   'No activity for 180 days'),
  (20, 'at_risk_repeat_120d', 'at_risk', 2, null, null, false, false, false, 120, 'purchase',
   'No purchase for 120 days after 2 or more orders'),
  (30, 'at_risk_customer_90d', 'at_risk', 1, 1, null, false, false, false, 90, 'purchase',
   'No second purchase within 90 days of the first'),
  (40, 'at_risk_lead_30d', 'at_risk', null, 0, null, true, false, false, 30, 'engagement',
   'Lead with no activity for 30 days'),
  (50, 'vip_value', 'vip', 2, null, 500, false, false, false, null, null,
   '2 or more orders and lifetime value of 500 or more'),
  (60, 'repeat_second_order', 'repeat', 2, null, null, false, false, false, null, null,
   '2 or more orders'),
  (70, 'customer_first_order', 'customer', 1, null, null, false, false, false, null, null,
   'First order'),
  (80, 'prospect_engaged', 'prospect', null, 0, null, true, false, true, null, null,
   'Engaged again after leaving an email'),
  (90, 'lead_captured', 'lead', null, 0, null, true, false, false, null, null,
   'Left an email address'),
  (100, 'visitor', 'visitor', null, null, null, false, false, false, null, null,
   'Seen on the storefront, no email or order yet');

-- When each customer's earliest timed rule falls due; the stages cron claims due rows. Kept
-- apart from customers so that rescheduling (on nearly every event) does not rewrite the
-- wide, many-indexed customer row.
create table private.stage_reviews (
  user_id uuid not null,
  customer_id uuid not null,
  review_at timestamptz not null,
  primary key (user_id, customer_id),
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade
);
create index stage_reviews_due_idx on private.stage_reviews (review_at);
create index stage_reviews_user_due_idx on private.stage_reviews (user_id, review_at);

-- Modules that react to stage changes (win-back enrols customers who become at risk) register
-- here, with the stages they want; each change into one of them is queued for them in the same
-- transaction as the change, so nothing polls the customers table and nothing is missed.
create table private.stage_event_consumers (
  consumer text primary key check (consumer ~ '^[a-z][a-z0-9_]{0,62}$'),
  to_stages text[] not null check (cardinality(to_stages) > 0)
);

create table private.stage_events (
  id bigint generated always as identity,
  consumer text not null references private.stage_event_consumers (consumer) on delete cascade,
  user_id uuid not null,
  customer_id uuid not null,
  transition_id uuid not null,
  from_stage text not null,
  to_stage text not null,
  trigger_type text not null,
  transitioned_at timestamptz not null,
  primary key (user_id, consumer, id),
  foreign key (user_id, transition_id) references public.stage_transitions (user_id, id) on delete cascade
);
create index stage_events_queue_idx on private.stage_events (consumer, id);

/** Register (or change) a consumer of stage changes into the given stages. */
create or replace function private.register_stage_consumer(p_consumer text, p_to_stages text[])
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if exists (select 1 from unnest(p_to_stages) s where not public.is_stage(s)) then
    raise exception 'Unknown stage in %', p_to_stages;
  end if;
  insert into private.stage_event_consumers (consumer, to_stages) values (p_consumer, p_to_stages)
  on conflict (consumer) do update set to_stages = excluded.to_stages;
end
$$;

/**
 * Take up to p_limit queued stage changes for one consumer, oldest first, removing them: the
 * caller handles them in the same transaction, so a failure puts them back. Takers of one
 * consumer run one at a time (a transaction-level advisory lock), so each customer's changes
 * are handled in the order they happened.
 */
create or replace function private.take_stage_events(p_consumer text, p_limit integer default 1000)
returns setof private.stage_events
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(hashtextextended('stage_events:' || p_consumer, 0));
  return query
  with taken as (
    select e.user_id, e.consumer, e.id from private.stage_events e
     where e.consumer = p_consumer
     order by e.id
     limit p_limit
  )
  delete from private.stage_events e
   using taken
   where e.user_id = taken.user_id and e.consumer = taken.consumer and e.id = taken.id
  returning e.*;
end
$$;

/**
 * Move the given customers of one merchant to the stage the rules give at p_now (or at the
 * time given per customer in p_at), logging every change with its trigger and rule, stamping
 * became_*_at, queuing the change for its consumers and scheduling the next timed review (the
 * earliest timed rule not yet due). Callers hold the customers' row locks. Rules are joined
 * set-based; plpgsql so the plan is cached per connection. Returns how many customers changed.
 */
create or replace function private.apply_stages(
  p_user_id uuid,
  p_customer_ids uuid[],
  p_now timestamptz,
  p_trigger text,
  p_reference text default null,
  p_at timestamptz[] default null
)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_changed integer;
begin
  with targets as (
    select t.id, coalesce(p_at[t.ord], p_now) as at
      from unnest(p_customer_ids) with ordinality as t(id, ord)
     where t.id is not null
  ), matched as (
    select c.id, c.user_id, c.stage as from_stage, t.at,
           r.priority, r.to_stage, r.rule, r.reason,
           case r.inactive_since
             when 'purchase' then coalesce(c.last_purchase_at, c.created_at)
             when 'engagement' then coalesce(c.last_engaged_at, c.created_at)
           end + make_interval(days => r.inactive_days) as due_at
      from targets t
      -- `id = any` as well as the join: the index is probed for exactly these customers,
      -- whatever the statistics say (a join on id alone let the planner scan the merchant).
      join public.customers c on c.user_id = p_user_id and c.id = any (p_customer_ids) and c.id = t.id
      join private.stage_rules r
        on (r.min_orders is null or c.total_orders >= r.min_orders)
       and (r.max_orders is null or c.total_orders <= r.max_orders)
       and (r.min_ltv is null or c.lifetime_value >= r.min_ltv)
       and (not r.needs_lead or c.became_lead_at is not null)
       and (not r.needs_lead_or_order or c.became_lead_at is not null or c.total_orders > 0)
       and (not r.needs_lead_engagement or c.engaged_after_lead_at is not null)
  ), decided as (
    select distinct on (m.id) m.id, m.user_id, m.from_stage, m.to_stage, m.rule, m.reason, m.at
      from matched m
     where m.due_at is null or m.due_at <= m.at
     order by m.id, m.priority
  ), review as (
    select m.id, m.user_id, min(m.due_at) filter (where m.due_at > m.at) as review_at from matched m group by m.id, m.user_id
  ), scheduled as (
    insert into private.stage_reviews as sr (user_id, customer_id, review_at)
    select review.user_id, review.id, review.review_at from review where review.review_at is not null
    on conflict (user_id, customer_id) do update set review_at = excluded.review_at where sr.review_at <> excluded.review_at
    returning 1
  ), unscheduled as (
    delete from private.stage_reviews sr using review
     where sr.user_id = p_user_id and sr.customer_id = review.id and review.review_at is null
    returning 1
  ), upd as (
    -- Only customers whose stage changes are written, so most event batches leave the wide,
    -- many-indexed customers rows alone.
    update public.customers c
       set stage = d.to_stage,
           stage_changed_at = d.at,
           became_customer_at = case when d.to_stage in ('customer', 'repeat', 'vip')
                                     then coalesce(c.became_customer_at, d.at) else c.became_customer_at end,
           became_repeat_at = case when d.to_stage in ('repeat', 'vip')
                                   then coalesce(c.became_repeat_at, d.at) else c.became_repeat_at end,
           became_vip_at = case when d.to_stage = 'vip' then coalesce(c.became_vip_at, d.at) else c.became_vip_at end,
           became_at_risk_at = case when d.to_stage = 'at_risk' then d.at else c.became_at_risk_at end,
           became_churned_at = case when d.to_stage = 'churned' then d.at else c.became_churned_at end
      from decided d
     where c.user_id = p_user_id and c.id = d.id and d.to_stage <> d.from_stage
    returning c.id
  ), ins as (
    insert into public.stage_transitions
      (user_id, customer_id, from_stage, to_stage, trigger_type, trigger_reference_id, rule, reason, transitioned_at)
    select d.user_id, d.id, d.from_stage, d.to_stage, p_trigger, p_reference, d.rule, d.reason, d.at
      from decided d
     where d.to_stage <> d.from_stage
    returning id, user_id, customer_id, from_stage, to_stage, trigger_type, transitioned_at
  ), queued as (
    insert into private.stage_events (consumer, user_id, customer_id, transition_id, from_stage, to_stage, trigger_type,
                                      transitioned_at)
    select k.consumer, i.user_id, i.customer_id, i.id, i.from_stage, i.to_stage, i.trigger_type, i.transitioned_at
      from ins i
      join private.stage_event_consumers k on i.to_stage = any (k.to_stages)
     order by i.transitioned_at, i.customer_id
    returning 1
  )
  select count(*)::integer into v_changed from ins;
  return v_changed;
end
$$;

/**
 * Cron: re-evaluate customers whose timed review is due (at_risk and churned by time), for one
 * merchant or all. Bounded by p_limit; SKIP LOCKED lets two overlapping runs share the work.
 */
create or replace function private.evaluate_stages(p_user_id uuid, p_now timestamptz default now(), p_limit integer default 5000)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  r record;
  v_checked integer := 0;
  v_changed integer := 0;
begin
  for r in
    -- Both claims skip what another transaction holds and never wait, so an event holding a
    -- customer (and about to reschedule its review) cannot deadlock with this run, and two
    -- overlapping runs take different reviews.
    with due as (
      select sr.user_id, sr.customer_id from private.stage_reviews sr
       where sr.review_at <= p_now and (p_user_id is null or sr.user_id = p_user_id)
       order by sr.review_at
       limit p_limit
       for update skip locked
    ), claimed as (
      select c.id, c.user_id from public.customers c
       where (c.user_id, c.id) in (select due.user_id, due.customer_id from due)
       order by c.id
       for update skip locked
    )
    select claimed.user_id, array_agg(claimed.id) as ids from claimed group by claimed.user_id
  loop
    v_checked := v_checked + cardinality(r.ids);
    v_changed := v_changed + private.apply_stages(r.user_id, r.ids, p_now, 'time_based', null);
  end loop;
  return jsonb_build_object('checked', v_checked, 'changed', v_changed);
end
$$;
