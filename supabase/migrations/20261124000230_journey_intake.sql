-- Customer journey, part 3: intake. Storefront events recorded set-based, and the journey's
-- own handlers in the order pipeline: a purchase touchpoint, counters, lifetime value, affinity
-- and stage for an order, and their reversal for refunds and cancellations.

/**
 * Record a batch of storefront events for one merchant, set-based: customers upserted
 * (ON CONFLICT, so two batches with the same new email make one customer), touchpoints
 * inserted, activity columns, lead capture and affinity updated incrementally, stages
 * re-evaluated. Each event needs `occurredAt`. A collection the merchant does not have is
 * recorded as none. Returns rows inserted. The batch is unpacked once into arrays and every
 * statement unnests them: no temp table (that would invalidate the cached plans on every call)
 * and index lookups by (merchant, email).
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

  -- One pass over the batch: each event carries its customer's lead time (known before, or the
  -- first capture in this batch) as a window aggregate, so nothing joins the batch to itself
  -- (a generic plan cannot know a batch's size and would make that join quadratic).
  with e as (
    select u.customer_id, u.type, u.at, u.collection, t.affinity_weight, t.engages, t.promotes_lead,
           c.became_lead_at as known_lead_at,
           coalesce(c.became_lead_at, min(u.at) filter (where u.type = 'lead_capture') over (partition by u.customer_id)) as lead_at
      from unnest(v_customer, v_type, v_at, v_collection) as u(customer_id, type, at, collection)
      join private.touchpoint_types t on t.type = u.type
      join public.customers c on c.user_id = p_user_id and c.id = any (v_ids) and c.id = u.customer_id
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

/**
 * Order handler: the purchase touchpoint, order count, lifetime value, average order value,
 * last purchase, affinity for the order's collection, then the stage.
 */
create or replace function private.journey_on_order(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_weight numeric;
  v_stage text;
begin
  select * into v_order from public.orders o where o.user_id = p_user_id and o.id = p_order_id;
  insert into public.touchpoints (user_id, customer_id, type, channel, reference_id, reference_type, value, collection,
                                  utm_source, utm_medium, utm_campaign, occurred_at)
  values (p_user_id, v_order.customer_id, 'purchase', v_order.channel, v_order.shop_order_id, 'order', v_order.total,
          v_order.collection, v_order.utm_source, v_order.utm_medium, v_order.utm_campaign, v_order.ordered_at);

  select t.affinity_weight into v_weight from private.touchpoint_types t where t.type = 'purchase';
  update public.customers c
     set total_orders = c.total_orders + 1,
         lifetime_value = c.lifetime_value + v_order.total,
         average_order_value = round((c.lifetime_value + v_order.total) / (c.total_orders + 1), 2),
         last_purchase_at = greatest(c.last_purchase_at, v_order.ordered_at),
         last_engaged_at = greatest(c.last_engaged_at, v_order.ordered_at),
         collection_scores = private.add_affinity(c.collection_scores, v_order.collection, v_weight),
         primary_collection = case when v_order.collection is null then c.primary_collection
                                   else private.primary_collection(private.add_affinity(c.collection_scores, v_order.collection, v_weight)) end
   where c.user_id = p_user_id and c.id = v_order.customer_id;

  perform private.apply_stages(p_user_id, array[v_order.customer_id], p_now, 'purchase', v_order.shop_order_id);
  select c.stage into v_stage from public.customers c where c.user_id = p_user_id and c.id = v_order.customer_id;
  return jsonb_build_object('stage', v_stage);
end
$$;

/**
 * Refund handler: lifetime value goes down by the refunded amount (never below zero) and the
 * stage is re-evaluated. A cancelled order no longer counts, so its refunds change nothing here.
 */
create or replace function private.journey_on_refund(p_user_id uuid, p_refund_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v record;
begin
  select r.amount, r.shop_refund_id, o.customer_id, o.cancelled_at into v
    from public.order_refunds r
    join public.orders o on o.user_id = r.user_id and o.id = r.order_id
   where r.user_id = p_user_id and r.id = p_refund_id;
  if v.customer_id is null or v.cancelled_at is not null or v.amount = 0 then
    return jsonb_build_object('lifetimeValue', 0);
  end if;
  update public.customers c
     set lifetime_value = greatest(c.lifetime_value - v.amount, 0),
         average_order_value = case when c.total_orders > 0
                                    then round(greatest(c.lifetime_value - v.amount, 0) / c.total_orders, 2) end
   where c.user_id = p_user_id and c.id = v.customer_id;
  perform private.apply_stages(p_user_id, array[v.customer_id], p_now, 'refund', v.shop_refund_id);
  return jsonb_build_object('lifetimeValue', -v.amount);
end
$$;

/**
 * Cancel handler: the order stops counting. One order fewer, lifetime value down by what the
 * order still counted (its total less what was already refunded), its affinity points taken
 * back, the last purchase recomputed from the orders that stand, then the stage.
 */
create or replace function private.journey_on_cancel(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_remaining numeric;
  v_weight numeric;
begin
  select * into v_order from public.orders o where o.user_id = p_user_id and o.id = p_order_id;
  if v_order.customer_id is null then
    return jsonb_build_object('orders', 0);
  end if;
  v_remaining := v_order.total - v_order.refunded_total;
  select t.affinity_weight into v_weight from private.touchpoint_types t where t.type = 'purchase';
  update public.customers c
     set total_orders = greatest(c.total_orders - 1, 0),
         lifetime_value = greatest(c.lifetime_value - v_remaining, 0),
         average_order_value = case when c.total_orders > 1
                                    then round(greatest(c.lifetime_value - v_remaining, 0) / (c.total_orders - 1), 2) end,
         last_purchase_at = (select max(o.ordered_at) from public.orders o
                              where o.user_id = p_user_id and o.customer_id = c.id and o.cancelled_at is null),
         collection_scores = private.add_affinity(c.collection_scores, v_order.collection, -v_weight),
         primary_collection = case when v_order.collection is null then c.primary_collection
                                   else private.primary_collection(private.add_affinity(c.collection_scores, v_order.collection, -v_weight)) end
   where c.user_id = p_user_id and c.id = v_order.customer_id;
  perform private.apply_stages(p_user_id, array[v_order.customer_id], p_now, 'cancellation', v_order.shop_order_id);
  return jsonb_build_object('orders', -1, 'lifetimeValue', -v_remaining);
end
$$;

select private.register_order_handler('order', 'journey', 100, 'private.journey_on_order(uuid,uuid,timestamptz)');
select private.register_order_handler('refund', 'journey', 100, 'private.journey_on_refund(uuid,uuid,timestamptz)');
select private.register_order_handler('cancel', 'journey', 100, 'private.journey_on_cancel(uuid,uuid,timestamptz)');
