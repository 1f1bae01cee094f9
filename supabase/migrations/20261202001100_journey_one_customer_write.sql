-- Customer journey: one write of the customer row per order, refund or cancellation.
--
-- Before, an order updated its customer twice: the journey handler wrote the new figures
-- (orders, lifetime value, last purchase, affinity), then apply_stages read them back and wrote
-- the stage they give. Every column of that row that the lists sort or filter by is indexed
-- (eleven indexes, one a trigram GIN), so neither write is a HOT update, and each fired the
-- row's statement triggers (rollup deltas, segment change queue). Now the stage is decided on
-- the figures before they are written, and both go in one UPDATE.
--
-- One mechanism for every caller:
-- * private.settle_customers(rows, ...): decides the stage on each customer's journey figures as
--   given (the rules joined set-based, as apply_stages did), writes figures and stage in one
--   UPDATE, logs and queues changes, schedules the next review.
-- * private.apply_stages(ids, ...) (the cron, storefront events): the rows as they stand, read
--   by settle_customers itself.
-- * The journey's order, refund and cancel handlers: the row locked, its figures changed in
--   memory, then settled. The lock is FOR NO KEY UPDATE, the lock the UPDATE takes anyway: the
--   order's own row already holds a KEY SHARE lock on its customer (the foreign key), which a
--   FOR UPDATE would conflict with, so two orders of one customer would deadlock.

/**
 * Write customers as they are to be: p_rows carry each customer's journey figures (orders,
 * lifetime value, average order value, last purchase, last engagement, affinity) as the caller
 * changed them, and the stage those figures give at p_at[i] (p_now where null) is written in the
 * same UPDATE. A stage change is logged with p_trigger, p_reference and its rule, stamps
 * became_*_at and is queued for the modules that consume it; the next timed review is
 * scheduled. A customer whose figures and stage are unchanged is not written. With p_ids instead
 * of rows, the customers as they stand (p_at[i] for p_ids[i]). Callers hold the rows' locks
 * (a given row's stage is the stage it is read with) and pass each customer once. Returns how
 * many customers changed stage.
 */
create or replace function private.settle_customers(
  p_user_id uuid,
  p_rows public.customers[],
  p_now timestamptz,
  p_trigger text,
  p_reference text default null,
  p_at timestamptz[] default null,
  p_ids uuid[] default null
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
    -- Given rows, unnested in the select list in step with p_at (null or shorter: p_now): unnest
    -- in FROM would spread each row into columns, and p_rows[i] walks the array from its start
    -- every time. Each field is taken out once here: reading a field of a whole row walks the
    -- row's columns, and the rules' join would do it for every rule.
    select (u.n).id, (u.n).stage, (u.n).total_orders, (u.n).lifetime_value, (u.n).average_order_value,
           (u.n).last_purchase_at, (u.n).last_engaged_at, (u.n).collection_scores, (u.n).primary_collection,
           (u.n).created_at, (u.n).became_lead_at, (u.n).engaged_after_lead_at, coalesce(u.at, p_now) as at
      from (select unnest(p_rows) as n, unnest(p_at) as at) as u
     where p_ids is null and (u.n).user_id = p_user_id
    union all
    -- Or the customers as they stand.
    select c.id, c.stage, c.total_orders, c.lifetime_value, c.average_order_value,
           c.last_purchase_at, c.last_engaged_at, c.collection_scores, c.primary_collection,
           c.created_at, c.became_lead_at, c.engaged_after_lead_at, coalesce(k.at, p_now)
      from (select unnest(p_ids) as id, unnest(p_at) as at) as k
      -- `id = any` as well as the join: the index is probed for exactly these customers,
      -- whatever the statistics say (a join on id alone let the planner scan the merchant).
      join public.customers c on c.user_id = p_user_id and c.id = any (p_ids) and c.id = k.id
  ), matched as (
    -- The rules joined set-based, on the figures as they are to be: a batch of 5,000 is one join.
    select t.id, t.stage as from_stage, t.at, r.priority, r.to_stage, r.rule, r.reason,
           case r.inactive_since
             when 'purchase' then coalesce(t.last_purchase_at, t.created_at)
             when 'engagement' then coalesce(t.last_engaged_at, t.created_at)
           end + make_interval(days => r.inactive_days) as due_at
      from targets t
      join private.stage_rules r
        on (r.min_orders is null or t.total_orders >= r.min_orders)
       and (r.max_orders is null or t.total_orders <= r.max_orders)
       and (r.min_ltv is null or t.lifetime_value >= r.min_ltv)
       and (not r.needs_lead or t.became_lead_at is not null)
       and (not r.needs_lead_or_order or t.became_lead_at is not null or t.total_orders > 0)
       and (not r.needs_lead_engagement or t.engaged_after_lead_at is not null)
  ), decided as (
    -- The first rule by priority that holds and whose inactivity, if any, has passed.
    select distinct on (m.id) m.id, m.from_stage, m.to_stage, m.rule, m.reason, m.at
      from matched m
     where m.due_at is null or m.due_at <= m.at
     order by m.id, m.priority
  ), review as (
    -- When the earliest timed rule that holds but is not yet due falls due (null: none).
    select m.id, min(m.due_at) filter (where m.due_at > m.at) as review_at from matched m group by m.id
  ), scheduled as (
    insert into private.stage_reviews as sr (user_id, customer_id, review_at)
    select p_user_id, review.id, review.review_at from review where review.review_at is not null
    on conflict (user_id, customer_id) do update set review_at = excluded.review_at where sr.review_at <> excluded.review_at
    returning 1
  ), unscheduled as (
    delete from private.stage_reviews sr using review
     where sr.user_id = p_user_id and sr.customer_id = review.id and review.review_at is null
    returning 1
  ), upd as (
    update public.customers c
       set total_orders = t.total_orders,
           lifetime_value = t.lifetime_value,
           average_order_value = t.average_order_value,
           last_purchase_at = t.last_purchase_at,
           last_engaged_at = t.last_engaged_at,
           collection_scores = t.collection_scores,
           primary_collection = t.primary_collection,
           stage = d.to_stage,
           stage_changed_at = case when d.to_stage <> d.from_stage then d.at else c.stage_changed_at end,
           became_customer_at = case when d.to_stage <> d.from_stage and d.to_stage in ('customer', 'repeat', 'vip')
                                     then coalesce(c.became_customer_at, d.at) else c.became_customer_at end,
           became_repeat_at = case when d.to_stage <> d.from_stage and d.to_stage in ('repeat', 'vip')
                                   then coalesce(c.became_repeat_at, d.at) else c.became_repeat_at end,
           became_vip_at = case when d.to_stage <> d.from_stage and d.to_stage = 'vip'
                                then coalesce(c.became_vip_at, d.at) else c.became_vip_at end,
           became_at_risk_at = case when d.to_stage <> d.from_stage and d.to_stage = 'at_risk' then d.at else c.became_at_risk_at end,
           became_churned_at = case when d.to_stage <> d.from_stage and d.to_stage = 'churned' then d.at else c.became_churned_at end
      from decided d
      join targets t on t.id = d.id
     where c.user_id = p_user_id and c.id = d.id
       -- Most storefront batches change no stage: their rows are left alone here.
       and (d.to_stage <> d.from_stage
            or (t.total_orders, t.lifetime_value, t.average_order_value, t.last_purchase_at, t.last_engaged_at,
                t.collection_scores, t.primary_collection)
               is distinct from
               (c.total_orders, c.lifetime_value, c.average_order_value, c.last_purchase_at, c.last_engaged_at,
                c.collection_scores, c.primary_collection))
    returning c.id
  ), ins as (
    insert into public.stage_transitions
      (user_id, customer_id, from_stage, to_stage, trigger_type, trigger_reference_id, rule, reason, transitioned_at)
    select p_user_id, d.id, d.from_stage, d.to_stage, p_trigger, p_reference, d.rule, d.reason, d.at
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
revoke execute on function private.settle_customers(uuid, public.customers[], timestamptz, text, text, timestamptz[], uuid[])
  from public, anon, authenticated;

/**
 * Move the given customers of one merchant to the stage the rules give at p_now (or at the
 * time given per customer in p_at): their rows as they stand, settled. Callers hold the rows'
 * locks. A customer listed twice is settled once, at its first instant. Returns how many
 * customers changed.
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
  v_ids uuid[];
  v_at timestamptz[];
begin
  select array_agg(t.id order by t.ord), array_agg(t.at order by t.ord)
    into v_ids, v_at
    from (select distinct on (u.id) u.id, u.ord, coalesce(p_at[u.ord], p_now) as at
            from unnest(p_customer_ids) with ordinality as u(id, ord)
           where u.id is not null
           order by u.id, u.ord) as t;
  if v_ids is null then
    return 0;
  end if;
  return private.settle_customers(p_user_id, null, p_now, p_trigger, p_reference, v_at, v_ids);
end
$$;

/**
 * Order handler: the purchase touchpoint; then the customer's order count, lifetime value,
 * average order value, last purchase and affinity for the order's collection, written with the
 * stage they give in one write.
 */
create or replace function private.journey_on_order(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_customer public.customers;
  v_weight numeric;
begin
  select * into v_order from public.orders o where o.user_id = p_user_id and o.id = p_order_id;
  insert into public.touchpoints (user_id, customer_id, type, channel, reference_id, reference_type, value, collection,
                                  utm_source, utm_medium, utm_campaign, occurred_at)
  values (p_user_id, v_order.customer_id, 'purchase', v_order.channel, v_order.shop_order_id, 'order', v_order.total,
          v_order.collection, v_order.utm_source, v_order.utm_medium, v_order.utm_campaign, v_order.ordered_at);

  select * into v_customer from public.customers c
   where c.user_id = p_user_id and c.id = v_order.customer_id
   for no key update;
  v_customer.total_orders := v_customer.total_orders + 1;
  v_customer.lifetime_value := v_customer.lifetime_value + v_order.total;
  v_customer.average_order_value := round(v_customer.lifetime_value / v_customer.total_orders, 2);
  v_customer.last_purchase_at := greatest(v_customer.last_purchase_at, v_order.ordered_at);
  v_customer.last_engaged_at := greatest(v_customer.last_engaged_at, v_order.ordered_at);
  if v_order.collection is not null then
    select t.affinity_weight into v_weight from private.touchpoint_types t where t.type = 'purchase';
    v_customer.collection_scores := private.add_affinity(v_customer.collection_scores, v_order.collection, v_weight);
    v_customer.primary_collection := private.primary_collection(v_customer.collection_scores);
  end if;
  perform private.settle_customers(p_user_id, array[v_customer], p_now, 'purchase', v_order.shop_order_id);
  return jsonb_build_object('stage', (select c.stage from public.customers c where c.user_id = p_user_id and c.id = v_customer.id));
end
$$;

/**
 * Refund handler: lifetime value goes down by the refunded amount (never below zero), written
 * with the stage it gives. A cancelled order no longer counts, so its refunds change nothing here.
 */
create or replace function private.journey_on_refund(p_user_id uuid, p_refund_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v record;
  v_customer public.customers;
begin
  select r.amount, r.shop_refund_id, o.customer_id, o.cancelled_at into v
    from public.order_refunds r
    join public.orders o on o.user_id = r.user_id and o.id = r.order_id
   where r.user_id = p_user_id and r.id = p_refund_id;
  if v.customer_id is null or v.cancelled_at is not null or v.amount = 0 then
    return jsonb_build_object('lifetimeValue', 0);
  end if;
  select * into v_customer from public.customers c
   where c.user_id = p_user_id and c.id = v.customer_id
   for no key update;
  v_customer.lifetime_value := greatest(v_customer.lifetime_value - v.amount, 0);
  v_customer.average_order_value := case when v_customer.total_orders > 0
                                         then round(v_customer.lifetime_value / v_customer.total_orders, 2) end;
  perform private.settle_customers(p_user_id, array[v_customer], p_now, 'refund', v.shop_refund_id);
  return jsonb_build_object('lifetimeValue', -v.amount);
end
$$;

/**
 * Cancel handler: the order stops counting. One order fewer, lifetime value down by what the
 * order still counted (its total less what was already refunded), its affinity points taken
 * back, the last purchase recomputed from the orders that stand, written with the stage they
 * give.
 */
create or replace function private.journey_on_cancel(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_customer public.customers;
  v_remaining numeric;
  v_weight numeric;
begin
  select * into v_order from public.orders o where o.user_id = p_user_id and o.id = p_order_id;
  if v_order.customer_id is null then
    return jsonb_build_object('orders', 0);
  end if;
  v_remaining := v_order.total - v_order.refunded_total;
  select * into v_customer from public.customers c
   where c.user_id = p_user_id and c.id = v_order.customer_id
   for no key update;
  v_customer.total_orders := greatest(v_customer.total_orders - 1, 0);
  v_customer.lifetime_value := greatest(v_customer.lifetime_value - v_remaining, 0);
  v_customer.average_order_value := case when v_customer.total_orders > 0
                                         then round(v_customer.lifetime_value / v_customer.total_orders, 2) end;
  v_customer.last_purchase_at := (select max(o.ordered_at) from public.orders o
                                   where o.user_id = p_user_id and o.customer_id = v_customer.id and o.cancelled_at is null);
  if v_order.collection is not null then
    select t.affinity_weight into v_weight from private.touchpoint_types t where t.type = 'purchase';
    v_customer.collection_scores := private.add_affinity(v_customer.collection_scores, v_order.collection, -v_weight);
    v_customer.primary_collection := private.primary_collection(v_customer.collection_scores);
  end if;
  perform private.settle_customers(p_user_id, array[v_customer], p_now, 'cancellation', v_order.shop_order_id);
  return jsonb_build_object('orders', -1, 'lifetimeValue', -v_remaining);
end
$$;

/**
 * Add `p_points` (negative to take them back) to one collection's score, never below zero.
 * plpgsql now: a SQL function with a SET clause is planned anew on every call.
 */
create or replace function private.add_affinity(p_scores jsonb, p_collection text, p_points numeric)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_collection is null then
    return p_scores;
  end if;
  return jsonb_set(p_scores, array[p_collection], to_jsonb(greatest(coalesce((p_scores ->> p_collection)::numeric, 0) + p_points, 0)));
end
$$;
