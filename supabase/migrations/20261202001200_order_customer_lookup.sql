-- The order pipeline: a repeat customer is looked up before anything is written. The upsert
-- that found or created an order's customer (INSERT ... ON CONFLICT DO UPDATE ... WHERE) wrote
-- nothing for most repeat orders but still fired the customers table's INSERT and UPDATE
-- statement triggers (rollup deltas, segment change queue, trends, loyalty leads) on every
-- order. Otherwise apply_order is as it was (20261124000220_order_pipeline.sql).

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
  v_first_name text := nullif(p_order ->> 'firstName', '');
  v_last_name text := nullif(p_order ->> 'lastName', '');
  v_fill boolean;
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
  -- Looked up first: a repeat customer's row is only written here when the order fills a name
  -- or the shop id it lacks (an INSERT ... ON CONFLICT would fire the table's insert and update
  -- statement triggers on every order, for nothing).
  select c.id, (c.first_name is null and v_first_name is not null) or (c.last_name is null and v_last_name is not null)
               or (c.shopify_customer_id is null and v_shop_customer is not null)
    into v_customer_id, v_fill
    from public.customers c where c.user_id = p_user_id and c.email = v_email;
  if v_customer_id is null then
    insert into public.customers (user_id, email, first_name, last_name, shopify_customer_id, created_at)
    values (p_user_id, v_email, v_first_name, v_last_name, v_shop_customer, least(v_at, p_now))
    on conflict (user_id, email) do nothing
    returning id into v_customer_id;
    if v_customer_id is null then
      -- Created by another transaction since the look-up: fill what it lacks.
      select c.id into v_customer_id from public.customers c where c.user_id = p_user_id and c.email = v_email;
      v_fill := true;
    end if;
  end if;
  if v_fill then
    update public.customers c
       set first_name = coalesce(c.first_name, v_first_name),
           last_name = coalesce(c.last_name, v_last_name),
           shopify_customer_id = coalesce(c.shopify_customer_id, v_shop_customer)
     where c.user_id = p_user_id and c.id = v_customer_id
       and ((c.first_name is null and v_first_name is not null) or (c.last_name is null and v_last_name is not null)
            or (c.shopify_customer_id is null and v_shop_customer is not null));
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
 * Serialise everything that happens to one shop order (as 20261124000220_order_pipeline.sql),
 * in plpgsql: a SQL function with a SET clause is planned anew on every call.
 */
create or replace function private.lock_shop_order(p_user_id uuid, p_shop_order_id text)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform pg_advisory_xact_lock(hashtextextended(p_user_id::text || '/' || coalesce(p_shop_order_id, ''), 0));
end
$$;
