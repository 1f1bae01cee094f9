-- The order pipeline. The shop's order is normalised once (order, lines, discount codes,
-- customer), then each module's handler runs in its declared position, all in one transaction:
-- everything an order changes commits or fails together. Refunds and cancellations go through
-- the same registry, so each module reverses exactly what its order handler did.
--
-- A module plugs in from its own migration:
--   select private.register_order_handler('order', 'loyalty', 300, 'private.loyalty_on_order(uuid,uuid,timestamptz)');
-- Handlers take (merchant, subject id, now) and return a jsonb summary: the subject is the
-- order's id for 'order' and 'cancel', the refund's id for 'refund'. No module redefines
-- another's function.

create table private.order_handlers (
  event text not null check (event in ('order', 'refund', 'cancel')),
  position integer not null check (position > 0),
  module text not null check (module ~ '^[a-z][a-z0-9_]{0,62}$'),
  handler regprocedure not null,
  primary key (event, position),
  unique (event, module)
);

/** Register (or move or replace) a module's handler for one pipeline event. */
create or replace function private.register_order_handler(p_event text, p_module text, p_position integer, p_handler regprocedure)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if not exists (
    select 1 from pg_catalog.pg_proc p
     where p.oid = p_handler and p.prorettype = 'jsonb'::regtype
       and p.pronargs = 3 and p.proargtypes[0] = 'uuid'::regtype and p.proargtypes[1] = 'uuid'::regtype
       and p.proargtypes[2] = 'timestamptz'::regtype
  ) then
    raise exception 'Order handler % must take (uuid, uuid, timestamptz) and return jsonb', p_handler;
  end if;
  insert into private.order_handlers (event, position, module, handler)
  values (p_event, p_position, p_module, p_handler)
  on conflict (event, module) do update set position = excluded.position, handler = excluded.handler;
end
$$;

/** Run every handler registered for p_event, in position order; returns {module: summary}. */
create or replace function private.run_order_handlers(p_event text, p_user_id uuid, p_subject uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  r record;
  v_result jsonb;
  v_effects jsonb := '{}'::jsonb;
begin
  for r in select h.module, h.handler::oid::regproc::text as fn from private.order_handlers h where h.event = p_event order by h.position loop
    execute format('select %s($1, $2, $3)', r.fn) into v_result using p_user_id, p_subject, p_now;
    v_effects := v_effects || jsonb_build_object(r.module, coalesce(v_result, 'null'::jsonb));
  end loop;
  return v_effects;
end
$$;

/**
 * Serialise everything that happens to one shop order (its creation, refunds, cancellation):
 * a refund arriving while its order is being applied waits and then finds the order, instead
 * of being parked for an order that has already looked for parked refunds. Taken before any
 * row lock, so it cannot deadlock.
 */
create or replace function private.lock_shop_order(p_user_id uuid, p_shop_order_id text)
returns void
language sql
volatile
set search_path = ''
as $$ select pg_advisory_xact_lock(hashtextextended(p_user_id::text || '/' || coalesce(p_shop_order_id, ''), 0)) $$;

/**
 * Apply one shop order exactly once (idempotent on the shop's order id): the customer is found
 * or created by normalised email, the order stored with its lines (each with its product's
 * collection) and discount codes, then every module's order handler runs; refunds that arrived
 * before the order are applied after it.
 * p_order: {shopOrderId, email, total, currency, orderedAt, shopCustomerId?, firstName?,
 * lastName?, channel?, utm?, lineItems: [{shopLineId?, productId?, variantId?, title?, quantity,
 * price}], discountCodes: [{code, amount?, type?}], noteAttributes: {name: value}}.
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
  v_lines jsonb := coalesce(p_order -> 'lineItems', '[]'::jsonb);
  v_codes jsonb := coalesce(p_order -> 'discountCodes', '[]'::jsonb);
  v_subtotal numeric;
  v_items integer;
  v_order_id uuid := gen_random_uuid();
  v_customer_id uuid;
  v_effects jsonb;
  v_refund record;
  v_refund_effects jsonb := '[]'::jsonb;
  v_stage text;
begin
  if v_email is null then
    raise exception 'The order has no customer email' using errcode = 'HH422';
  end if;
  if v_shop_order_id is null or v_total is null or v_total < 0 or v_at is null then
    raise exception 'The order needs an id, a total of 0 or more and a date' using errcode = 'HH422';
  end if;
  perform private.lock_shop_order(p_user_id, v_shop_order_id);
  if exists (select 1 from public.orders o where o.user_id = p_user_id and o.shop_order_id = v_shop_order_id) then
    return jsonb_build_object('applied', false, 'reason', 'duplicate_order');
  end if;

  -- A shop customer id already on another customer (email changed in the shop) is not copied.
  if v_shop_customer is not null and exists (
    select 1 from public.customers where user_id = p_user_id and shopify_customer_id = v_shop_customer and email <> v_email
  ) then
    v_shop_customer := null;
  end if;
  -- A known customer's row is only rewritten when the order fills a name or the shop id it
  -- lacks: most repeat orders leave it alone here (the journey handler updates it anyway).
  insert into public.customers as c (user_id, email, first_name, last_name, shopify_customer_id, created_at)
  values (p_user_id, v_email, nullif(p_order ->> 'firstName', ''), nullif(p_order ->> 'lastName', ''), v_shop_customer,
          least(v_at, p_now))
  on conflict (user_id, email) do update
     set first_name = coalesce(c.first_name, excluded.first_name),
         last_name = coalesce(c.last_name, excluded.last_name),
         shopify_customer_id = coalesce(c.shopify_customer_id, excluded.shopify_customer_id)
   where (c.first_name is null and excluded.first_name is not null)
      or (c.last_name is null and excluded.last_name is not null)
      or (c.shopify_customer_id is null and excluded.shopify_customer_id is not null)
  returning c.id into v_customer_id;
  if v_customer_id is null then
    select c.id into v_customer_id from public.customers c where c.user_id = p_user_id and c.email = v_email;
  end if;

  select coalesce(sum(coalesce((li ->> 'quantity')::numeric, 1) * coalesce((li ->> 'price')::numeric, 0)), 0),
         coalesce(sum(coalesce((li ->> 'quantity')::integer, 1)), 0)
    into v_subtotal, v_items
    from jsonb_array_elements(v_lines) li;
  if v_subtotal = 0 then
    v_subtotal := v_total + coalesce((select sum((d ->> 'amount')::numeric) from jsonb_array_elements(v_codes) d), 0);
  end if;

  -- Two deliveries of one new order racing: the loser inserts nothing and stops here (the
  -- customer upsert it made only fills empty names).
  insert into public.orders (id, user_id, shop_order_id, customer_id, email, total, subtotal, item_count, currency,
                             channel, utm_source, utm_medium, utm_campaign, note_attributes, ordered_at)
  values (v_order_id, p_user_id, v_shop_order_id, v_customer_id, v_email, v_total, v_subtotal, v_items,
          coalesce(p_order ->> 'currency', 'USD'), coalesce(p_order ->> 'channel', 'direct'),
          p_order -> 'utm' ->> 'source', p_order -> 'utm' ->> 'medium', p_order -> 'utm' ->> 'campaign',
          coalesce(p_order -> 'noteAttributes', '{}'::jsonb), v_at)
  on conflict (user_id, shop_order_id) do nothing;
  if not found then
    return jsonb_build_object('applied', false, 'reason', 'duplicate_order');
  end if;

  if jsonb_array_length(v_lines) > 0 then
    insert into public.order_lines (user_id, order_id, line_no, shop_line_id, product_id, variant_id, title, quantity,
                                    price, collection)
    select p_user_id, v_order_id, (li.ord - 1)::integer, li.v ->> 'shopLineId', li.v ->> 'productId', li.v ->> 'variantId',
           left(li.v ->> 'title', 255), coalesce((li.v ->> 'quantity')::integer, 1), coalesce((li.v ->> 'price')::numeric, 0),
           pc.collection
      from jsonb_array_elements(v_lines) with ordinality as li(v, ord)
      left join public.product_collections pc on pc.user_id = p_user_id and pc.product_id = li.v ->> 'productId';
    update public.orders o
       set collection = (select l.collection from public.order_lines l
                          where l.user_id = p_user_id and l.order_id = v_order_id and l.collection is not null
                          group by l.collection
                          order by sum(l.quantity * l.price) desc, l.collection
                          limit 1)
     where o.user_id = p_user_id and o.id = v_order_id
       and exists (select 1 from public.order_lines l
                    where l.user_id = p_user_id and l.order_id = v_order_id and l.collection is not null);
  end if;
  if jsonb_array_length(v_codes) > 0 then
    insert into public.order_discount_codes (user_id, order_id, code, amount, type)
    select distinct on (upper(btrim(d ->> 'code'))) p_user_id, v_order_id, upper(btrim(d ->> 'code')),
           (d ->> 'amount')::numeric, d ->> 'type'
      from jsonb_array_elements(v_codes) d
     where nullif(btrim(d ->> 'code'), '') is not null
     order by upper(btrim(d ->> 'code'));
  end if;

  v_effects := private.run_order_handlers('order', p_user_id, v_order_id, p_now);

  -- Refunds that arrived before this order, in the order they were made.
  for v_refund in
    select r.id, r.amount from public.order_refunds r
     where r.user_id = p_user_id and r.shop_order_id = v_shop_order_id and r.order_id is null
     order by r.refunded_at, r.id
  loop
    update public.order_refunds r
       set order_id = v_order_id,
           amount = least(r.amount, (select o.total - o.refunded_total from public.orders o
                                      where o.user_id = p_user_id and o.id = v_order_id))
     where r.user_id = p_user_id and r.id = v_refund.id;
    update public.orders o
       set refunded_total = o.refunded_total + (select r.amount from public.order_refunds r
                                                 where r.user_id = p_user_id and r.id = v_refund.id)
     where o.user_id = p_user_id and o.id = v_order_id;
    v_refund_effects := v_refund_effects || private.run_order_handlers('refund', p_user_id, v_refund.id, p_now);
  end loop;

  select c.stage into v_stage from public.customers c where c.user_id = p_user_id and c.id = v_customer_id;
  return jsonb_build_object('applied', true, 'orderId', v_order_id, 'customerId', v_customer_id, 'stage', v_stage,
                            'effects', v_effects, 'earlierRefunds', v_refund_effects);
end
$$;

/**
 * Apply one refund exactly once (idempotent on the shop's refund id): recorded against its
 * order (never more than what is left of the order), then every module's refund handler runs.
 * A refund whose order has not arrived is kept; apply_order applies it.
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
  v_amount numeric := greatest(coalesce((p_refund ->> 'amount')::numeric, 0), 0);
  v_at timestamptz := coalesce((p_refund ->> 'refundedAt')::timestamptz, p_now);
  v_refund_id uuid;
begin
  if nullif(p_refund ->> 'shopRefundId', '') is null or nullif(p_refund ->> 'shopOrderId', '') is null then
    raise exception 'The refund needs its id and its order id' using errcode = 'HH422';
  end if;
  perform private.lock_shop_order(p_user_id, p_refund ->> 'shopOrderId');
  select * into v_order from public.orders o
   where o.user_id = p_user_id and o.shop_order_id = p_refund ->> 'shopOrderId'
   for update;
  if not found then
    insert into public.order_refunds (user_id, shop_refund_id, shop_order_id, order_id, amount, refunded_at)
    values (p_user_id, p_refund ->> 'shopRefundId', p_refund ->> 'shopOrderId', null, v_amount, v_at)
    on conflict (user_id, shop_refund_id) do nothing;
    return jsonb_build_object('applied', false, 'reason', case when found then 'pending_order' else 'duplicate_refund' end);
  end if;

  insert into public.order_refunds (user_id, shop_refund_id, shop_order_id, order_id, amount, refunded_at)
  values (p_user_id, p_refund ->> 'shopRefundId', v_order.shop_order_id, v_order.id,
          least(v_amount, v_order.total - v_order.refunded_total), v_at)
  on conflict (user_id, shop_refund_id) do nothing
  returning id, amount into v_refund_id, v_amount;
  if v_refund_id is null then
    return jsonb_build_object('applied', false, 'reason', 'duplicate_refund');
  end if;
  update public.orders o set refunded_total = o.refunded_total + v_amount where o.user_id = p_user_id and o.id = v_order.id;
  return jsonb_build_object('applied', true, 'amount', v_amount, 'customerId', v_order.customer_id,
                            'effects', private.run_order_handlers('refund', p_user_id, v_refund_id, p_now));
end
$$;

/**
 * Cancel one order exactly once: the order is marked cancelled and every module's cancel
 * handler reverses what the order still counts. A cancellation that arrives before its order
 * (the payload is the whole order) applies the order first, then cancels it.
 * p_order: as apply_order, plus cancelledAt.
 */
create or replace function private.apply_cancellation(p_user_id uuid, p_order jsonb, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_at timestamptz := coalesce((p_order ->> 'cancelledAt')::timestamptz, p_now);
begin
  if nullif(p_order ->> 'shopOrderId', '') is null then
    raise exception 'The cancellation needs the order id' using errcode = 'HH422';
  end if;
  perform private.lock_shop_order(p_user_id, p_order ->> 'shopOrderId');
  select * into v_order from public.orders o
   where o.user_id = p_user_id and o.shop_order_id = p_order ->> 'shopOrderId'
   for update;
  if not found and public.normalize_email(p_order ->> 'email') is null then
    return jsonb_build_object('applied', false, 'reason', 'unknown_order');
  end if;
  if not found then
    perform private.apply_order(p_user_id, p_order, p_now);
    select * into v_order from public.orders o
     where o.user_id = p_user_id and o.shop_order_id = p_order ->> 'shopOrderId'
     for update;
  end if;
  if v_order.cancelled_at is not null then
    return jsonb_build_object('applied', false, 'reason', 'already_cancelled');
  end if;
  update public.orders o set cancelled_at = v_at where o.user_id = p_user_id and o.id = v_order.id;
  return jsonb_build_object('applied', true, 'orderId', v_order.id, 'customerId', v_order.customer_id,
                            'effects', private.run_order_handlers('cancel', p_user_id, v_order.id, p_now));
end
$$;
