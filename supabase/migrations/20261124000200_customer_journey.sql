-- Customer journey (seed Phase 17): customers, touchpoints, the stage machine as data,
-- stage transitions, segments, orders and the intake functions that apply them.

create extension if not exists pg_trgm with schema extensions;

create table public.customers (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  shopify_customer_id text,
  lead_id uuid references public.leads (id) on delete set null,
  klaviyo_profile_id text,
  email text not null check (email = public.normalize_email(email) and position('@' in email) > 1),
  first_name text,
  last_name text,
  phone text,
  stage text not null default 'visitor'
    check (stage in ('visitor', 'lead', 'prospect', 'customer', 'repeat', 'vip', 'at_risk', 'churned')),
  stage_changed_at timestamptz,
  became_lead_at timestamptz,
  became_customer_at timestamptz,
  became_repeat_at timestamptz,
  became_vip_at timestamptz,
  became_at_risk_at timestamptz,
  became_churned_at timestamptz,
  -- First engagement after lead capture: what makes a lead a prospect (S15).
  engaged_after_lead_at timestamptz,
  total_orders integer not null default 0 check (total_orders >= 0),
  lifetime_value numeric(12, 2) not null default 0 check (lifetime_value >= 0),
  average_order_value numeric(12, 2),
  primary_collection text check (primary_collection in ('grounding', 'wholeness', 'growth')),
  collection_scores jsonb not null default '{"grounding": 0, "wholeness": 0, "growth": 0}'::jsonb,
  last_email_open_at timestamptz,
  last_email_click_at timestamptz,
  last_site_visit_at timestamptz,
  last_purchase_at timestamptz,
  last_engaged_at timestamptz,
  email_subscribed boolean not null default true,
  sms_subscribed boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, email),
  -- Target of the (user_id, customer_id) foreign keys: a child row's merchant is its customer's.
  unique (user_id, id)
) with (fillfactor = 85);
create unique index customers_shopify_idx on public.customers (user_id, shopify_customer_id) where shopify_customer_id is not null;
-- The stage filter of the customers list (analytics read customer_rollups, not this).
create index customers_stage_idx on public.customers (user_id, stage);
create index customers_collection_idx on public.customers (user_id, primary_collection);
create index customers_ltv_idx on public.customers (user_id, lifetime_value desc, id);
create index customers_orders_idx on public.customers (user_id, total_orders desc, id);
create index customers_purchase_idx on public.customers (user_id, last_purchase_at desc nulls last, id);
create index customers_created_idx on public.customers (user_id, created_at desc, id);
create index customers_search_idx on public.customers
  using gin ((email || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '')) extensions.gin_trgm_ops);
create trigger customers_updated_at before update on public.customers
  for each row execute function public.update_updated_at_column();

create table public.touchpoints (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  customer_id uuid not null,
  type text not null check (type in ('page_view', 'email_open', 'email_click', 'pin_save', 'pin_click', 'ad_click',
    'quiz_start', 'quiz_complete', 'lead_capture', 'cart_add', 'checkout_start', 'checkout_abandon', 'purchase',
    'review', 'support_ticket')),
  channel text not null check (channel in ('organic', 'pinterest', 'email', 'ads', 'direct', 'referral', 'social')),
  reference_id text,
  reference_type text,
  metadata jsonb not null default '{}'::jsonb,
  value numeric(12, 2),
  collection text check (collection in ('grounding', 'wholeness', 'growth')),
  utm_source text,
  utm_medium text,
  utm_campaign text,
  occurred_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade
);
create index touchpoints_customer_idx on public.touchpoints (customer_id, occurred_at desc, id desc);
create index touchpoints_user_occurred_idx on public.touchpoints (user_id, occurred_at desc);

create table public.stage_transitions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  customer_id uuid not null,
  from_stage text not null,
  to_stage text not null,
  trigger_type text not null check (trigger_type in ('purchase', 'refund', 'engagement', 'time_based', 'manual')),
  trigger_reference_id text,
  rule text not null,
  reason text not null,
  transitioned_at timestamptz not null default now(),
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade
);
create index stage_transitions_customer_idx on public.stage_transitions (customer_id, transitioned_at desc);
create index stage_transitions_stage_idx on public.stage_transitions (user_id, to_stage, transitioned_at desc);

-- Orders as the shop sent them: the idempotency key for intake (S5) and the base for refunds.
create table public.orders (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  shop_order_id text not null,
  customer_id uuid references public.customers (id) on delete set null,
  email text,
  total numeric(12, 2) not null check (total >= 0),
  refunded_total numeric(12, 2) not null default 0 check (refunded_total >= 0 and refunded_total <= total),
  currency text not null default 'USD',
  collection text check (collection in ('grounding', 'wholeness', 'growth')),
  ordered_at timestamptz not null,
  created_at timestamptz not null default now(),
  unique (user_id, shop_order_id)
);
create index orders_customer_idx on public.orders (customer_id, ordered_at desc);
create index orders_user_ordered_idx on public.orders (user_id, ordered_at desc);

-- A refund can arrive before its order (webhooks are not ordered): it waits with order_id null
-- and apply_order applies it when the order comes.
create table public.order_refunds (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  shop_refund_id text not null,
  shop_order_id text not null,
  order_id uuid references public.orders (id) on delete cascade,
  amount numeric(12, 2) not null check (amount >= 0),
  refunded_at timestamptz not null,
  created_at timestamptz not null default now(),
  unique (user_id, shop_refund_id)
);
create index order_refunds_order_idx on public.order_refunds (order_id);
create index order_refunds_pending_idx on public.order_refunds (user_id, shop_order_id) where order_id is null;

-- Set when the shop's first correctly signed webhook arrives: claims of the same domain by
-- others (which prove nothing) are tried after the merchant who proved it.
alter table public.merchant_settings add column shop_verified_at timestamptz;

-- Webhook inbox: a delivery id seen before is acknowledged and ignored.
create table public.webhook_deliveries (
  user_id uuid not null references auth.users (id) on delete cascade,
  delivery_id text not null,
  topic text not null,
  shop_resource_id text,
  outcome text not null,
  received_at timestamptz not null default now(),
  primary key (user_id, delivery_id)
);
create index webhook_deliveries_received_idx on public.webhook_deliveries (user_id, received_at desc);

-- Which collection each of the merchant's products belongs to (set in Settings).
create table public.product_collections (
  user_id uuid not null references auth.users (id) on delete cascade,
  product_id text not null check (length(product_id) between 1 and 64),
  collection text not null check (collection in ('grounding', 'wholeness', 'growth')),
  primary key (user_id, product_id)
);

/** Segment criteria as the API accepts them: known keys only, each of the right type (in SQL as a CHECK). */
create or replace function public.segment_criteria_valid(p jsonb)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  k text;
  v jsonb;
begin
  if jsonb_typeof(p) <> 'object' then return false; end if;
  for k, v in select * from jsonb_each(p) loop
    if k in ('stages', 'collections') then
      if jsonb_typeof(v) <> 'array' then return false; end if;
      if exists (select 1 from jsonb_array_elements(v) e
                  where jsonb_typeof(e) <> 'string'
                     or (k = 'stages' and e #>> '{}' not in ('visitor', 'lead', 'prospect', 'customer', 'repeat', 'vip', 'at_risk', 'churned'))
                     or (k = 'collections' and e #>> '{}' not in ('grounding', 'wholeness', 'growth'))) then
        return false;
      end if;
    elsif k in ('min_ltv', 'max_ltv') then
      if jsonb_typeof(v) <> 'number' or (v #>> '{}')::numeric < 0 then return false; end if;
    elsif k in ('min_orders', 'max_orders', 'min_days_since_purchase', 'max_days_since_purchase') then
      if jsonb_typeof(v) <> 'number' or (v #>> '{}')::numeric not between 0 and 1000000
         or (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric) then
        return false;
      end if;
    elsif k = 'email_subscribed' then
      if jsonb_typeof(v) <> 'boolean' then return false; end if;
    else
      return false;
    end if;
  end loop;
  return true;
end
$$;
grant execute on function public.segment_criteria_valid(jsonb) to authenticated, service_role;

create table public.customer_segments (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (length(name) between 1 and 120),
  description text,
  criteria jsonb not null default '{}'::jsonb check (public.segment_criteria_valid(criteria)),
  klaviyo_segment_id text,
  sync_enabled boolean not null default false,
  last_synced_at timestamptz,
  customer_count integer not null default 0,
  is_dynamic boolean not null default true,
  is_active boolean not null default true,
  last_evaluated_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, id)
);
create index customer_segments_user_idx on public.customer_segments (user_id, created_at desc);
create index customer_segments_due_idx on public.customer_segments (last_evaluated_at nulls first)
  where is_dynamic and is_active;
create trigger customer_segments_updated_at before update on public.customer_segments
  for each row execute function public.update_updated_at_column();

-- user_id on memberships lets the owner write them under RLS (S9).
create table public.segment_memberships (
  user_id uuid not null,
  segment_id uuid not null,
  customer_id uuid not null,
  added_at timestamptz not null default now(),
  removed_at timestamptz,
  primary key (segment_id, customer_id),
  foreign key (user_id, segment_id) references public.customer_segments (user_id, id) on delete cascade,
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade
);
create index segment_memberships_active_idx on public.segment_memberships (segment_id, added_at desc) where removed_at is null;
create index segment_memberships_customer_idx on public.segment_memberships (customer_id);

do $$
declare t text;
begin
  foreach t in array array['customers', 'touchpoints', 'stage_transitions', 'orders', 'order_refunds',
    'webhook_deliveries', 'product_collections', 'customer_segments', 'segment_memberships']
  loop
    execute format('alter table public.%I enable row level security', t);
    execute format('create policy %I on public.%I for all to authenticated
                      using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()))', t || '_owner', t);
  end loop;
end
$$;

-- The dashboard reads everything it owns; it writes only what a merchant edits by hand.
grant select on public.customers, public.touchpoints, public.stage_transitions, public.orders,
  public.order_refunds, public.webhook_deliveries, public.product_collections,
  public.customer_segments, public.segment_memberships to authenticated;
grant update (first_name, last_name, phone, email_subscribed, sms_subscribed) on public.customers to authenticated;
grant insert, update, delete on public.product_collections, public.customer_segments, public.segment_memberships
  to authenticated;

-- ---------------------------------------------------------------------------
-- The stage machine, written as data (S15, S16). Rules are tried in priority order; the first
-- whose conditions hold gives the stage. Time-based rules fire once `inactive_days` have passed
-- since the last purchase or the last engagement. README.md shows the same table.
-- ---------------------------------------------------------------------------

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
  to_stage text not null
    check (to_stage in ('visitor', 'lead', 'prospect', 'customer', 'repeat', 'vip', 'at_risk', 'churned')),
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
  customer_id uuid primary key references public.customers (id) on delete cascade,
  user_id uuid not null,
  review_at timestamptz not null
);
create index stage_reviews_due_idx on private.stage_reviews (review_at);
create index stage_reviews_user_due_idx on private.stage_reviews (user_id, review_at);

/**
 * Move the given customers of one merchant to the stage the rules give at p_now, logging every
 * change with its trigger and rule, stamping became_*_at, and scheduling the next timed review
 * (the earliest timed rule not yet due). Callers hold the customers' row locks. Rules are joined
 * set-based, no per-row function; plpgsql so the plan is cached per connection. Returns how
 * many customers changed stage.
 */
create or replace function private.apply_stages(
  p_user_id uuid,
  p_customer_ids uuid[],
  p_now timestamptz,
  p_trigger text,
  p_reference text default null,
  -- Optional time per customer (same order as p_customer_ids), instead of p_now for all.
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
    select t.id, coalesce(t.at, p_now) as at
      from unnest(p_customer_ids, coalesce(p_at, '{}'::timestamptz[])) as t(id, at)
     where t.id is not null
  ), matched as (
    select c.id, c.user_id, c.stage as from_stage, t.at,
           r.priority, r.to_stage, r.rule, r.reason,
           case r.inactive_since
             when 'purchase' then coalesce(c.last_purchase_at, c.created_at)
             when 'engagement' then coalesce(c.last_engaged_at, c.created_at)
           end + make_interval(days => r.inactive_days) as due_at
      from targets t
      join public.customers c on c.id = t.id
      join private.stage_rules r
        on (r.min_orders is null or c.total_orders >= r.min_orders)
       and (r.max_orders is null or c.total_orders <= r.max_orders)
       and (r.min_ltv is null or c.lifetime_value >= r.min_ltv)
       and (not r.needs_lead or c.became_lead_at is not null)
       and (not r.needs_lead_or_order or c.became_lead_at is not null or c.total_orders > 0)
       and (not r.needs_lead_engagement or c.engaged_after_lead_at is not null)
     where c.user_id = p_user_id
  ), decided as (
    select distinct on (m.id) m.id, m.user_id, m.from_stage, m.to_stage, m.rule, m.reason, m.at
      from matched m
     where m.due_at is null or m.due_at <= m.at
     order by m.id, m.priority
  ), review as (
    select m.id, m.user_id, min(m.due_at) filter (where m.due_at > m.at) as review_at from matched m group by m.id, m.user_id
  ), scheduled as (
    insert into private.stage_reviews as sr (customer_id, user_id, review_at)
    select review.id, review.user_id, review.review_at from review where review.review_at is not null
    on conflict (customer_id) do update set review_at = excluded.review_at where sr.review_at <> excluded.review_at
    returning 1
  ), unscheduled as (
    delete from private.stage_reviews sr using review
     where sr.customer_id = review.id and review.review_at is null
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
     where c.id = d.id and d.to_stage <> d.from_stage
    returning c.id
  ), ins as (
    insert into public.stage_transitions
      (user_id, customer_id, from_stage, to_stage, trigger_type, trigger_reference_id, rule, reason, transitioned_at)
    select d.user_id, d.id, d.from_stage, d.to_stage, p_trigger, p_reference, d.rule, d.reason, d.at
      from decided d
     where d.to_stage <> d.from_stage
    returning 1
  )
  select count(*)::integer into v_changed from ins;
  return v_changed;
end
$$;

/** The collection with the highest score, or null while all are zero (ties: grounding, wholeness, growth). */
create or replace function private.primary_collection(p_scores jsonb)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  g numeric := coalesce((p_scores ->> 'grounding')::numeric, 0);
  w numeric := coalesce((p_scores ->> 'wholeness')::numeric, 0);
  r numeric := coalesce((p_scores ->> 'growth')::numeric, 0);
begin
  if g <= 0 and w <= 0 and r <= 0 then return null; end if;
  if g >= w and g >= r then return 'grounding'; end if;
  if w >= r then return 'wholeness'; end if;
  return 'growth';
end
$$;

/**
 * Record a batch of storefront events for one merchant, set-based: customers upserted
 * (ON CONFLICT, S2), touchpoints inserted, activity columns, lead capture and affinity updated
 * incrementally (S17), stages re-evaluated. Each event needs `occurredAt`. Returns rows inserted.
 * The batch is unpacked once into arrays and every statement unnests them: no temp table (that
 * would invalidate the cached plans on every call) and index lookups by (merchant, email).
 */
create or replace function private.record_touchpoints(p_user_id uuid, p_events jsonb, p_now timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_email text[]; v_type text[]; v_channel text[]; v_at timestamptz[]; v_collection text[]; v_value numeric[];
  v_ref_id text[]; v_ref_type text[]; v_utm_source text[]; v_utm_medium text[]; v_utm_campaign text[]; v_meta jsonb[];
  v_customer uuid[];
  v_ids uuid[];
  v_count integer;
  v_two_ids uuid[];
  v_two_lead_at timestamptz[];
  v_two_engaged timestamptz[];
begin
  select array_agg(public.normalize_email(e.v ->> 'email') order by e.ord), array_agg(e.v ->> 'type' order by e.ord),
         array_agg(e.v ->> 'channel' order by e.ord), array_agg((e.v ->> 'occurredAt')::timestamptz order by e.ord),
         array_agg(e.v ->> 'collection' order by e.ord), array_agg((e.v ->> 'value')::numeric order by e.ord),
         array_agg(e.v ->> 'referenceId' order by e.ord), array_agg(e.v ->> 'referenceType' order by e.ord),
         array_agg(e.v -> 'utm' ->> 'source' order by e.ord), array_agg(e.v -> 'utm' ->> 'medium' order by e.ord),
         array_agg(e.v -> 'utm' ->> 'campaign' order by e.ord), array_agg(coalesce(e.v -> 'metadata', '{}'::jsonb) order by e.ord)
    into v_email, v_type, v_channel, v_at, v_collection, v_value, v_ref_id, v_ref_type, v_utm_source, v_utm_medium,
         v_utm_campaign, v_meta
    from jsonb_array_elements(p_events) with ordinality as e(v, ord);
  if v_email is null then
    return 0;
  end if;

  -- Only emails not seen before are inserted (ON CONFLICT still settles a race, S2); sorted
  -- inserts and locks keep two overlapping batches from deadlocking.
  insert into public.customers (user_id, email, created_at)
  select p_user_id, u.email, min(u.at) from unnest(v_email, v_at) as u(email, at)
   where not exists (select 1 from public.customers x where x.user_id = p_user_id and x.email = u.email)
   group by u.email order by u.email
  on conflict (user_id, email) do nothing;

  -- Lock the batch's customers in id order and map each event to its customer in one pass.
  with locked as (
    select c.id, c.email from public.customers c
     where c.user_id = p_user_id and c.email = any (v_email)
     order by c.id
     for update
  )
  select (select array_agg(l.id order by l.id) from locked l),
         (select array_agg(l.id order by u.ord) from unnest(v_email) with ordinality as u(email, ord) join locked l using (email))
    into v_ids, v_customer;

  insert into public.touchpoints (user_id, customer_id, type, channel, reference_id, reference_type, metadata, value,
                                  collection, utm_source, utm_medium, utm_campaign, occurred_at)
  select p_user_id, e.customer_id, e.type, e.channel, e.ref_id, e.ref_type, e.meta, e.value,
         e.collection, e.utm_source, e.utm_medium, e.utm_campaign, e.at
    from unnest(v_customer, v_type, v_channel, v_ref_id, v_ref_type, v_meta, v_value, v_collection, v_utm_source,
                v_utm_medium, v_utm_campaign, v_at)
      as e(customer_id, type, channel, ref_id, ref_type, meta, value, collection, utm_source, utm_medium, utm_campaign, at);
  get diagnostics v_count = row_count;

  with e as (
    select u.customer_id, u.type, u.at, u.collection, t.affinity_weight, t.engages, t.promotes_lead,
           c.became_lead_at as known_lead_at
      from unnest(v_customer, v_type, v_at, v_collection) as u(customer_id, type, at, collection)
      join private.touchpoint_types t on t.type = u.type
      join public.customers c on c.id = u.customer_id
  ), lead as (
    select e.customer_id, coalesce(min(e.known_lead_at), min(e.at) filter (where e.type = 'lead_capture')) as lead_at
      from e group by e.customer_id
  ), a as (
    select e.customer_id,
           max(e.at) filter (where e.type = 'page_view') as last_view,
           max(e.at) filter (where e.type = 'email_open') as last_open,
           max(e.at) filter (where e.type = 'email_click') as last_click,
           max(e.at) filter (where e.engages) as last_engaged,
           min(e.at) filter (where e.type = 'lead_capture') as first_lead,
           min(e.at) filter (where e.promotes_lead and e.at > l.lead_at) as engaged_after_lead,
           min(e.known_lead_at) as known_lead_at,
           coalesce(sum(e.affinity_weight) filter (where e.collection = 'grounding'), 0) as grounding,
           coalesce(sum(e.affinity_weight) filter (where e.collection = 'wholeness'), 0) as wholeness,
           coalesce(sum(e.affinity_weight) filter (where e.collection = 'growth'), 0) as growth
      from e join lead l using (customer_id)
     group by e.customer_id
  ), s as (
    select a.*, jsonb_build_object(
             'grounding', coalesce((c.collection_scores ->> 'grounding')::numeric, 0) + a.grounding,
             'wholeness', coalesce((c.collection_scores ->> 'wholeness')::numeric, 0) + a.wholeness,
             'growth', coalesce((c.collection_scores ->> 'growth')::numeric, 0) + a.growth) as scores
      from a join public.customers c on c.id = a.customer_id
  )
  , upd as (
    update public.customers c
       set last_site_visit_at = greatest(c.last_site_visit_at, s.last_view),
           last_email_open_at = greatest(c.last_email_open_at, s.last_open),
           last_email_click_at = greatest(c.last_email_click_at, s.last_click),
           last_engaged_at = greatest(c.last_engaged_at, s.last_engaged),
           became_lead_at = coalesce(c.became_lead_at, s.first_lead),
           -- A lead captured and engaged in this same batch gets its engagement after the
           -- lead stage has been logged (below), so `lead` stays observable (S15).
           engaged_after_lead_at = coalesce(c.engaged_after_lead_at,
             case when s.known_lead_at is null and s.first_lead is not null then null else s.engaged_after_lead end),
           collection_scores = s.scores,
           primary_collection = private.primary_collection(s.scores)
      from s
     where c.id = s.customer_id
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
     where c.id = t.id;
  end if;

  perform private.apply_stages(p_user_id, v_ids, p_now, 'engagement', null);
  return v_count;
end
$$;

/** One event: the batch function with a single element (one mechanism for both). */
create or replace function private.record_touchpoint(p_user_id uuid, p_event jsonb, p_now timestamptz default now())
returns integer
language sql
volatile
set search_path = ''
as $$ select private.record_touchpoints(p_user_id, jsonb_build_array(p_event), p_now) $$;

/** Add `p_points` to one collection's score. */
create or replace function private.add_affinity(p_scores jsonb, p_collection text, p_points numeric)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select case when p_collection is null then p_scores
         else jsonb_set(p_scores, array[p_collection], to_jsonb(coalesce((p_scores ->> p_collection)::numeric, 0) + p_points))
         end
$$;

/**
 * What else an order changes, in the same transaction as the order. Each later module
 * (coupons, loyalty, referrals, win-back, gifts) redefines this to add its effect, so
 * apply_order itself stays as it is. Returns a summary per module.
 */
create or replace function private.apply_order_effects(p_user_id uuid, p_order jsonb, p_customer_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$ begin return '{}'::jsonb; end $$;

/**
 * Apply one shop order exactly once (idempotent on the shop's order id, S5): customer upsert,
 * purchase touchpoint, counters and average order value (S1, S16), affinity, stage, then the
 * other modules' effects (private.apply_order_effects), so everything an order changes commits
 * or fails together.
 * p_order: {shopOrderId, email, total, currency, orderedAt, shopCustomerId?, firstName?,
 * lastName?, channel?, utm?, lineItems: [{productId, quantity, price}], discountCodes, noteAttributes}.
 */
create or replace function private.apply_order(p_user_id uuid, p_order jsonb, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_email text := public.normalize_email(p_order ->> 'email');
  v_shop_order_id text := p_order ->> 'shopOrderId';
  v_total numeric := (p_order ->> 'total')::numeric;
  v_at timestamptz := (p_order ->> 'orderedAt')::timestamptz;
  v_shop_customer text := nullif(p_order ->> 'shopCustomerId', '');
  v_collection text;
  v_order_id uuid;
  v_customer_id uuid;
  v_weight numeric;
  v_stage text;
  v_effects jsonb;
  v_refunded numeric;
begin
  if v_email is null then
    raise exception 'The order has no customer email' using errcode = 'HH422';
  end if;
  if v_shop_order_id is null or v_total is null or v_total < 0 or v_at is null then
    raise exception 'The order needs an id, a total of 0 or more and a date' using errcode = 'HH422';
  end if;

  -- The order's collection: the one with the most line value among mapped products.
  select pc.collection into v_collection
    from jsonb_to_recordset(coalesce(p_order -> 'lineItems', '[]'::jsonb)) as li(product_id text, quantity integer, price numeric)
    join public.product_collections pc on pc.user_id = p_user_id and pc.product_id = li.product_id
   group by pc.collection
   order by sum(coalesce(li.quantity, 1) * coalesce(li.price, 0)) desc, pc.collection
   limit 1;

  insert into public.orders (user_id, shop_order_id, email, total, currency, collection, ordered_at)
  values (p_user_id, v_shop_order_id, v_email, v_total, coalesce(p_order ->> 'currency', 'USD'), v_collection, v_at)
  on conflict (user_id, shop_order_id) do nothing
  returning id into v_order_id;
  if v_order_id is null then
    return jsonb_build_object('applied', false, 'reason', 'duplicate_order');
  end if;

  -- A shop customer id already on another customer (email changed in the shop) is not copied.
  if v_shop_customer is not null and exists (
    select 1 from public.customers where user_id = p_user_id and shopify_customer_id = v_shop_customer and email <> v_email
  ) then
    v_shop_customer := null;
  end if;

  insert into public.customers as c (user_id, email, first_name, last_name, shopify_customer_id, created_at)
  values (p_user_id, v_email, nullif(p_order ->> 'firstName', ''), nullif(p_order ->> 'lastName', ''), v_shop_customer,
          least(v_at, p_now))
  on conflict (user_id, email) do update
     set first_name = coalesce(c.first_name, excluded.first_name),
         last_name = coalesce(c.last_name, excluded.last_name),
         shopify_customer_id = coalesce(c.shopify_customer_id, excluded.shopify_customer_id)
  returning c.id into v_customer_id;

  update public.orders set customer_id = v_customer_id where id = v_order_id;

  insert into public.touchpoints (user_id, customer_id, type, channel, reference_id, reference_type, value, collection,
                                  utm_source, utm_medium, utm_campaign, occurred_at)
  values (p_user_id, v_customer_id, 'purchase', coalesce(p_order ->> 'channel', 'direct'), v_shop_order_id, 'order',
          v_total, v_collection, p_order -> 'utm' ->> 'source', p_order -> 'utm' ->> 'medium',
          p_order -> 'utm' ->> 'campaign', v_at);

  select affinity_weight into v_weight from private.touchpoint_types where type = 'purchase';
  update public.customers c
     set total_orders = c.total_orders + 1,
         lifetime_value = c.lifetime_value + v_total,
         average_order_value = round((c.lifetime_value + v_total) / (c.total_orders + 1), 2),
         last_purchase_at = greatest(c.last_purchase_at, v_at),
         last_engaged_at = greatest(c.last_engaged_at, v_at),
         collection_scores = private.add_affinity(c.collection_scores, v_collection, v_weight),
         primary_collection = private.primary_collection(private.add_affinity(c.collection_scores, v_collection, v_weight))
   where c.id = v_customer_id;

  -- Refunds that arrived before this order.
  with attached as (
    update public.order_refunds r set order_id = v_order_id
     where r.user_id = p_user_id and r.shop_order_id = v_shop_order_id and r.order_id is null
    returning r.amount
  )
  select least(coalesce(sum(amount), 0), v_total) into v_refunded from attached;
  if v_refunded > 0 then
    update public.orders set refunded_total = v_refunded where id = v_order_id;
    update public.customers c
       set lifetime_value = greatest(c.lifetime_value - v_refunded, 0),
           average_order_value = round(greatest(c.lifetime_value - v_refunded, 0) / c.total_orders, 2)
     where c.id = v_customer_id;
  end if;

  perform private.apply_stages(p_user_id, array[v_customer_id], p_now, 'purchase', v_shop_order_id);
  v_effects := private.apply_order_effects(p_user_id, p_order, v_customer_id, p_now);

  select stage into v_stage from public.customers where id = v_customer_id;
  return jsonb_build_object('applied', true, 'orderId', v_order_id, 'customerId', v_customer_id, 'stage', v_stage,
                            'effects', v_effects);
end
$$;

/**
 * Apply one refund exactly once (idempotent on the shop's refund id): the order's refunded total
 * and the customer's lifetime value go down (never below zero), and the stage is re-evaluated.
 * p_refund: {shopRefundId, shopOrderId, amount, refundedAt}.
 */
create or replace function private.apply_refund(p_user_id uuid, p_refund jsonb, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_amount numeric;
  v_refund_id uuid;
begin
  select * into v_order from public.orders
   where user_id = p_user_id and shop_order_id = p_refund ->> 'shopOrderId'
   for update;
  if not found then
    -- The order has not arrived yet: keep the refund; apply_order applies it.
    insert into public.order_refunds (user_id, shop_refund_id, shop_order_id, order_id, amount, refunded_at)
    values (p_user_id, p_refund ->> 'shopRefundId', p_refund ->> 'shopOrderId', null,
            greatest((p_refund ->> 'amount')::numeric, 0), coalesce((p_refund ->> 'refundedAt')::timestamptz, p_now))
    on conflict (user_id, shop_refund_id) do nothing;
    return jsonb_build_object('applied', false, 'reason', case when found then 'pending_order' else 'duplicate_refund' end);
  end if;
  v_amount := least(greatest((p_refund ->> 'amount')::numeric, 0), v_order.total - v_order.refunded_total);

  insert into public.order_refunds (user_id, shop_refund_id, shop_order_id, order_id, amount, refunded_at)
  values (p_user_id, p_refund ->> 'shopRefundId', v_order.shop_order_id, v_order.id, v_amount,
          coalesce((p_refund ->> 'refundedAt')::timestamptz, p_now))
  on conflict (user_id, shop_refund_id) do nothing
  returning id into v_refund_id;
  if v_refund_id is null then
    return jsonb_build_object('applied', false, 'reason', 'duplicate_refund');
  end if;

  update public.orders set refunded_total = refunded_total + v_amount where id = v_order.id;
  if v_order.customer_id is not null then
    update public.customers c
       set lifetime_value = greatest(c.lifetime_value - v_amount, 0),
           average_order_value = case when c.total_orders > 0
                                      then round(greatest(c.lifetime_value - v_amount, 0) / c.total_orders, 2) end
     where c.id = v_order.customer_id;
    perform private.apply_stages(p_user_id, array[v_order.customer_id], p_now, 'refund', p_refund ->> 'shopRefundId');
  end if;
  return jsonb_build_object('applied', true, 'amount', v_amount, 'customerId', v_order.customer_id);
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
      select sr.customer_id from private.stage_reviews sr
       where sr.review_at <= p_now and (p_user_id is null or sr.user_id = p_user_id)
       order by sr.review_at
       limit p_limit
       for update skip locked
    ), claimed as (
      select c.id, c.user_id from public.customers c
       where c.id in (select due.customer_id from due)
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

-- ---------------------------------------------------------------------------
-- Segments (S18): criteria evaluated set-based in one statement; invoker functions, so a
-- merchant's call runs under RLS.
-- ---------------------------------------------------------------------------

/**
 * Ids of the merchant's customers matching segment criteria at p_now (every given field must
 * hold). The criteria are read into typed variables once, so the scan compares constants.
 */
create or replace function public.segment_member_ids(p_user_id uuid, p_criteria jsonb, p_now timestamptz default now())
returns setof uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_stages text[] := nullif(array(select jsonb_array_elements_text(coalesce(p_criteria -> 'stages', '[]'))), '{}');
  v_collections text[] := nullif(array(select jsonb_array_elements_text(coalesce(p_criteria -> 'collections', '[]'))), '{}');
  v_min_ltv numeric := (p_criteria ->> 'min_ltv')::numeric;
  v_max_ltv numeric := (p_criteria ->> 'max_ltv')::numeric;
  v_min_orders integer := (p_criteria ->> 'min_orders')::integer;
  v_max_orders integer := (p_criteria ->> 'max_orders')::integer;
  v_bought_before timestamptz := p_now - make_interval(days => (p_criteria ->> 'min_days_since_purchase')::integer);
  v_bought_after timestamptz := p_now - make_interval(days => (p_criteria ->> 'max_days_since_purchase')::integer);
  v_subscribed boolean := (p_criteria ->> 'email_subscribed')::boolean;
begin
  return query
  select c.id from public.customers c
   where c.user_id = p_user_id
     and (v_stages is null or c.stage = any (v_stages))
     and (v_collections is null or c.primary_collection = any (v_collections))
     and (v_min_ltv is null or c.lifetime_value >= v_min_ltv)
     and (v_max_ltv is null or c.lifetime_value <= v_max_ltv)
     and (v_min_orders is null or c.total_orders >= v_min_orders)
     and (v_max_orders is null or c.total_orders <= v_max_orders)
     and (v_bought_before is null or c.last_purchase_at <= v_bought_before)
     and (v_bought_after is null or c.last_purchase_at >= v_bought_after)
     and (v_subscribed is null or c.email_subscribed = v_subscribed);
end
$$;
grant execute on function public.segment_member_ids(uuid, jsonb, timestamptz) to authenticated;

/**
 * Bring a segment's memberships in line with its criteria in one statement: new matches added,
 * removed members who match again re-added (S18), non-matches marked removed; count stored.
 */
create or replace function public.evaluate_segment(p_segment_id uuid, p_now timestamptz default now())
returns table (added integer, removed integer, total integer)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_seg public.customer_segments;
begin
  select * into v_seg from public.customer_segments where id = p_segment_id for update;
  if not found then
    raise exception 'Segment not found' using errcode = 'HH404';
  end if;
  return query
  with m as materialized (
    select ids.id from public.segment_member_ids(v_seg.user_id, v_seg.criteria, p_now) as ids(id)
  ), ins as (
    -- Only customers not already active members: a re-evaluation that changes nothing
    -- writes nothing. Removed members who match again are re-added (S18).
    insert into public.segment_memberships as sm (user_id, segment_id, customer_id, added_at)
    select v_seg.user_id, v_seg.id, m.id, p_now from m
     where not exists (select 1 from public.segment_memberships x
                        where x.segment_id = v_seg.id and x.customer_id = m.id and x.removed_at is null)
    on conflict (segment_id, customer_id) do update set removed_at = null, added_at = excluded.added_at
     where sm.removed_at is not null
    returning 1
  ), del as (
    update public.segment_memberships sm set removed_at = p_now
     where sm.segment_id = v_seg.id and sm.removed_at is null
       and not exists (select 1 from m where m.id = sm.customer_id)
    returning 1
  ), cnt as (
    update public.customer_segments s
       set customer_count = (select count(*) from m), last_evaluated_at = p_now
     where s.id = v_seg.id
    returning s.customer_count
  )
  select (select count(*)::integer from ins), (select count(*)::integer from del), (select customer_count from cnt);
end
$$;
grant execute on function public.evaluate_segment(uuid, timestamptz) to authenticated;

/** Cron: evaluate dynamic segments, least recently evaluated first, bounded and overlap-safe. */
create or replace function private.evaluate_due_segments(p_now timestamptz default now(), p_limit integer default 50)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  r record;
  v_segments integer := 0;
  v_added integer := 0;
  v_removed integer := 0;
  v_failed integer := 0;
begin
  for r in
    select s.id from public.customer_segments s
     where s.is_dynamic and s.is_active
     order by s.last_evaluated_at nulls first
     limit p_limit
     for update skip locked
  loop
    -- One segment's failure must not stop the others: it is skipped until the next run.
    begin
      select v_added + e.added, v_removed + e.removed into v_added, v_removed
        from public.evaluate_segment(r.id, p_now) e;
      v_segments := v_segments + 1;
    exception when others then
      update public.customer_segments set last_evaluated_at = p_now where id = r.id;
      v_failed := v_failed + 1;
    end;
  end loop;
  return jsonb_build_object('segments', v_segments, 'added', v_added, 'removed', v_removed, 'failed', v_failed);
end
$$;
