-- Coupon manager: coupons, uses, bulk batches, and one rule set in SQL that both validation
-- and redemption use, so they cannot disagree. Redemption is this module's handler in the order
-- pipeline, under a row lock on the coupon, so a limit is never oversold; a cancelled order
-- gives its use back.

create table public.coupon_batches (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  prefix text not null,
  count integer not null check (count between 1 and 10000),
  created_at timestamptz not null default now(),
  primary key (user_id, id)
);

create table public.coupons (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  code text not null check (code ~ '^[A-Z0-9_-]{3,40}$'),
  status text not null default 'active'
    check (status in ('draft', 'active', 'paused', 'expired', 'depleted', 'archived')),
  source text not null default 'manual' check (source in ('manual', 'bulk', 'loyalty', 'referral', 'winback')),
  batch_id uuid,
  discount_type text not null check (discount_type in ('percentage', 'fixed_amount', 'free_shipping', 'buy_x_get_y')),
  discount_value numeric(10, 2),
  buy_quantity integer,
  get_quantity integer,
  usage_limit integer check (usage_limit > 0),
  per_customer_limit integer check (per_customer_limit > 0),
  usage_count integer not null default 0 check (usage_count >= 0),
  rejected_count integer not null default 0 check (rejected_count >= 0),
  minimum_purchase numeric(10, 2) check (minimum_purchase >= 0),
  minimum_quantity integer check (minimum_quantity > 0),
  product_ids text[] not null default '{}',
  -- Collection slugs of the merchant's catalogue; a removed collection leaves this list.
  collections text[] not null default '{}' check (cardinality(collections) <= 100),
  first_time_only boolean not null default false,
  starts_at timestamptz not null default now(),
  expires_at timestamptz,
  total_discount_amount numeric(12, 2) not null default 0 check (total_discount_amount >= 0),
  total_orders integer not null default 0 check (total_orders >= 0),
  description text,
  internal_notes text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, id),
  unique (user_id, code),
  foreign key (user_id, batch_id) references public.coupon_batches (user_id, id) on delete set null (batch_id),
  check (expires_at is null or expires_at > starts_at),
  -- The invariant itself: a limited coupon is never used more often than its limit.
  check (usage_limit is null or usage_count <= usage_limit),
  check (case discount_type
           when 'percentage' then discount_value > 0 and discount_value <= 100
           when 'fixed_amount' then discount_value > 0
           when 'free_shipping' then discount_value is null
           when 'buy_x_get_y' then buy_quantity > 0 and get_quantity > 0
         end)
);
create index coupons_list_idx on public.coupons (user_id, created_at desc, id);
create index coupons_status_idx on public.coupons (user_id, status);
create index coupons_batch_idx on public.coupons (user_id, batch_id) where batch_id is not null;
create index coupons_expiry_idx on public.coupons (expires_at) where status in ('active', 'paused') and expires_at is not null;
create index coupons_collections_idx on public.coupons using gin (collections) where cardinality(collections) > 0;
create trigger coupons_updated_at before update on public.coupons
  for each row execute function public.update_updated_at_column();

-- One row per (coupon, order): accepted uses count toward limits; an order that arrived over a
-- limit (the shop already charged it) is kept as rejected, with the reason, for the merchant;
-- an accepted use whose order was cancelled is kept as cancelled and counts no more.
create table public.coupon_uses (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  coupon_id uuid not null,
  order_id uuid not null,
  customer_id uuid,
  customer_email text not null check (customer_email = public.normalize_email(customer_email)),
  shop_order_id text not null,
  status text not null check (status in ('accepted', 'rejected', 'cancelled')),
  reason text,
  discount_amount numeric(12, 2) not null default 0 check (discount_amount >= 0),
  order_total numeric(12, 2) not null check (order_total >= 0),
  used_at timestamptz not null default now(),
  primary key (user_id, id),
  unique (user_id, coupon_id, order_id),
  check ((status = 'accepted') = (reason is null)),
  foreign key (user_id, coupon_id) references public.coupons (user_id, id) on delete cascade,
  foreign key (user_id, order_id) references public.orders (user_id, id) on delete cascade,
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete set null (customer_id)
);
create index coupon_uses_customer_idx on public.coupon_uses (user_id, coupon_id, customer_email) where status = 'accepted';
create index coupon_uses_list_idx on public.coupon_uses (user_id, coupon_id, used_at desc, id);
create index coupon_uses_order_idx on public.coupon_uses (user_id, order_id);
create index coupon_uses_customer_fk_idx on public.coupon_uses (user_id, customer_id) where customer_id is not null;

-- A secret server key (hashed) lets a checkout validate codes without a dashboard session.
alter table public.merchant_settings
  add column server_key_hash text unique,
  add column server_key_last4 text;

do $$
declare t text;
begin
  foreach t in array array['coupon_batches', 'coupons', 'coupon_uses'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('create policy %I on public.%I for all to authenticated
                      using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()))', t || '_owner', t);
  end loop;
end
$$;

-- Merchants create and edit coupons; counters, uses and status changes come from SQL functions.
grant select on public.coupon_batches, public.coupons, public.coupon_uses to authenticated;
grant insert on public.coupon_batches to authenticated;
grant insert (user_id, code, status, source, batch_id, discount_type, discount_value, buy_quantity, get_quantity,
              usage_limit, per_customer_limit, minimum_purchase, minimum_quantity, product_ids, collections,
              first_time_only, starts_at, expires_at, description, internal_notes)
  on public.coupons to authenticated;
grant update (discount_type, discount_value, buy_quantity, get_quantity, usage_limit, per_customer_limit,
              minimum_purchase, minimum_quantity, product_ids, collections, first_time_only, starts_at, expires_at,
              description, internal_notes, status)
  on public.coupons to authenticated;
grant delete on public.coupons to authenticated;

/**
 * The one rule set: whether a coupon applies to a cart at p_now and the discount it
 * gives. Validation and redemption both call it, so they cannot disagree. Invoker: a merchant's
 * call sees only its own uses and orders. p_exclude_order leaves the order being redeemed out
 * of the first-time check.
 */
create or replace function public.coupon_evaluate(
  p_coupon public.coupons,
  p_email text,
  p_cart_total numeric,
  p_quantity integer,
  p_product_ids text[],
  p_now timestamptz,
  p_exclude_order text default null
)
returns table (valid boolean, reason text, message text, discount numeric, free_shipping boolean)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_email text := public.normalize_email(p_email);
  v_uses integer;
  v_discount numeric;
begin
  if p_coupon.status = 'draft' then
    return query select false, 'not_active', 'This code is not active yet', 0::numeric, false; return;
  elsif p_coupon.status = 'paused' then
    return query select false, 'paused', 'This code is paused', 0::numeric, false; return;
  elsif p_coupon.status = 'archived' then
    return query select false, 'not_found', 'This code does not exist', 0::numeric, false; return;
  -- Judged by time, not by the cron's status: an order placed before the end date still counts.
  elsif (p_coupon.expires_at is not null and p_now >= p_coupon.expires_at)
        or (p_coupon.status = 'expired' and p_coupon.expires_at is null) then
    return query select false, 'expired', 'This code has expired', 0::numeric, false; return;
  elsif p_now < p_coupon.starts_at then
    return query select false, 'not_started', 'This code is not valid yet', 0::numeric, false; return;
  elsif p_coupon.status = 'depleted' or (p_coupon.usage_limit is not null and p_coupon.usage_count >= p_coupon.usage_limit) then
    return query select false, 'depleted', 'This code has been used up', 0::numeric, false; return;
  end if;

  if p_coupon.per_customer_limit is not null then
    select count(*) into v_uses from public.coupon_uses u
     where u.user_id = p_coupon.user_id and u.coupon_id = p_coupon.id and u.customer_email = v_email
       and u.status = 'accepted';
    if v_uses >= p_coupon.per_customer_limit then
      return query select false, 'customer_limit', 'You have already used this code', 0::numeric, false; return;
    end if;
  end if;
  if p_coupon.minimum_purchase is not null and p_cart_total < p_coupon.minimum_purchase then
    return query select false, 'minimum_purchase',
      format('Spend at least %s to use this code', to_char(p_coupon.minimum_purchase, 'FM999999990.00')), 0::numeric, false;
    return;
  end if;
  if p_coupon.minimum_quantity is not null and p_quantity < p_coupon.minimum_quantity then
    return query select false, 'minimum_quantity',
      format('Add at least %s items to use this code', p_coupon.minimum_quantity), 0::numeric, false;
    return;
  end if;
  if p_coupon.first_time_only and exists (
    select 1 from public.orders o
     where o.user_id = p_coupon.user_id and o.email = v_email and o.shop_order_id is distinct from p_exclude_order
       and o.cancelled_at is null
  ) then
    return query select false, 'first_time_only', 'This code is for first orders only', 0::numeric, false; return;
  end if;
  if cardinality(p_coupon.product_ids) > 0 and not (coalesce(p_product_ids, '{}') && p_coupon.product_ids) then
    return query select false, 'product_restriction', 'This code does not apply to these products', 0::numeric, false;
    return;
  end if;
  if cardinality(p_coupon.collections) > 0 and not exists (
    select 1 from public.product_collections pc
     where pc.user_id = p_coupon.user_id and pc.product_id = any (coalesce(p_product_ids, '{}'))
       and pc.collection = any (p_coupon.collections)
  ) then
    return query select false, 'collection_restriction', 'This code does not apply to this collection', 0::numeric, false;
    return;
  end if;

  v_discount := case p_coupon.discount_type
    when 'percentage' then round(p_cart_total * p_coupon.discount_value / 100, 2)
    when 'fixed_amount' then least(p_coupon.discount_value, p_cart_total)
    when 'free_shipping' then 0
    -- Every (buy + get) items, `get` of them free, priced at the cart's average item price.
    when 'buy_x_get_y' then round(
      (greatest(p_quantity, 0) / (p_coupon.buy_quantity + p_coupon.get_quantity)) * p_coupon.get_quantity
        * p_cart_total / greatest(p_quantity, 1), 2)
  end;
  return query select true, null::text, null::text, v_discount, p_coupon.discount_type = 'free_shipping';
end
$$;
grant execute on function public.coupon_evaluate(public.coupons, text, numeric, integer, text[], timestamptz, text) to authenticated;

/** Validate a code for a cart (checkout before the order exists). Unknown codes are `not_found`. */
create or replace function public.validate_coupon(
  p_user_id uuid,
  p_code text,
  p_email text,
  p_cart_total numeric,
  p_quantity integer,
  p_product_ids text[],
  p_now timestamptz default now()
)
returns table (valid boolean, reason text, message text, discount numeric, free_shipping boolean)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_coupon public.coupons;
begin
  select * into v_coupon from public.coupons c where c.user_id = p_user_id and c.code = upper(btrim(p_code));
  if not found then
    return query select false, 'not_found', 'This code does not exist', 0::numeric, false;
    return;
  end if;
  return query select * from public.coupon_evaluate(v_coupon, p_email, p_cart_total, p_quantity, p_product_ids, p_now);
end
$$;
grant execute on function public.validate_coupon(uuid, text, text, numeric, integer, text[], timestamptz) to authenticated;

/** Cron: active or paused coupons past expires_at become expired; bounded, overlap-safe. */
create or replace function private.expire_coupons(p_now timestamptz default now(), p_limit integer default 5000)
returns integer
language sql
volatile
set search_path = ''
as $$
  with due as (
    select c.user_id, c.id from public.coupons c
     where c.status in ('active', 'paused') and c.expires_at is not null and c.expires_at <= p_now
     order by c.expires_at
     limit p_limit
     for update skip locked
  ), upd as (
    update public.coupons c set status = 'expired' from due where c.user_id = due.user_id and c.id = due.id returning 1
  )
  select count(*)::integer from upd
$$;

/**
 * Order handler: the order's discount codes are redeemed. Each of the merchant's coupons named
 * is locked (FOR UPDATE, in code order so two orders cannot deadlock), judged by
 * coupon_evaluate as of when the order was placed against the cart before discounts (what
 * checkout validated), and either counted (usage_count, totals, depleted at the limit) or kept
 * as a rejected use. Codes the merchant does not manage here are ignored.
 */
create or replace function private.coupons_on_order(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_products text[];
  r record;
  v_coupon public.coupons;
  v_check record;
  v_amount numeric;
  v_accepted integer := 0;
  v_rejected integer := 0;
begin
  select * into v_order from public.orders o where o.user_id = p_user_id and o.id = p_order_id;
  for r in
    select d.code, d.amount from public.order_discount_codes d
     where d.user_id = p_user_id and d.order_id = p_order_id
     order by d.code
  loop
    select * into v_coupon from public.coupons c where c.user_id = p_user_id and c.code = r.code for update;
    continue when not found;
    if v_products is null then
      select coalesce(array_agg(l.product_id) filter (where l.product_id is not null), '{}') into v_products
        from public.order_lines l where l.user_id = p_user_id and l.order_id = p_order_id;
    end if;
    select * into v_check
      from public.coupon_evaluate(v_coupon, v_order.email, v_order.subtotal, greatest(v_order.item_count, 1), v_products,
                                  v_order.ordered_at, v_order.shop_order_id);
    -- One use row either way: accepted uses count toward the limits, rejected ones are kept.
    v_amount := case when v_check.valid then coalesce(r.amount, v_check.discount) else coalesce(r.amount, 0) end;
    insert into public.coupon_uses (user_id, coupon_id, order_id, customer_id, customer_email, shop_order_id, status,
                                    reason, discount_amount, order_total, used_at)
    values (p_user_id, v_coupon.id, p_order_id, v_order.customer_id, v_order.email, v_order.shop_order_id,
            case when v_check.valid then 'accepted' else 'rejected' end, v_check.reason, v_amount, v_order.subtotal,
            v_order.ordered_at)
    on conflict (user_id, coupon_id, order_id) do nothing;
    continue when not found;
    update public.coupons c
       set usage_count = c.usage_count + v_check.valid::integer,
           total_orders = c.total_orders + v_check.valid::integer,
           total_discount_amount = c.total_discount_amount + case when v_check.valid then v_amount else 0 end,
           rejected_count = c.rejected_count + (not v_check.valid)::integer,
           status = case when v_check.valid and c.usage_limit is not null and c.usage_count + 1 >= c.usage_limit
                         then 'depleted' else c.status end
     where c.user_id = p_user_id and c.id = v_coupon.id;
    if v_check.valid then v_accepted := v_accepted + 1; else v_rejected := v_rejected + 1; end if;
  end loop;
  return jsonb_build_object('accepted', v_accepted, 'rejected', v_rejected);
end
$$;

/**
 * Cancel handler: the order's accepted uses become cancelled and stop counting: usage and
 * totals go back down, and a coupon depleted by them is active again. Coupons are locked in
 * code order, as redemption locks them.
 */
create or replace function private.coupons_on_cancel(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  r record;
  v_released integer := 0;
begin
  for r in
    select u.id, u.coupon_id, u.discount_amount from public.coupon_uses u
      join public.coupons c on c.user_id = u.user_id and c.id = u.coupon_id
     where u.user_id = p_user_id and u.order_id = p_order_id and u.status = 'accepted'
     order by c.code
       for update of c, u
  loop
    update public.coupon_uses u set status = 'cancelled', reason = 'order_cancelled'
     where u.user_id = p_user_id and u.id = r.id;
    update public.coupons c
       set usage_count = c.usage_count - 1,
           total_orders = c.total_orders - 1,
           total_discount_amount = greatest(c.total_discount_amount - r.discount_amount, 0),
           status = case when c.status = 'depleted' then 'active' else c.status end
     where c.user_id = p_user_id and c.id = r.coupon_id;
    v_released := v_released + 1;
  end loop;
  return jsonb_build_object('released', v_released);
end
$$;

select private.register_order_handler('order', 'coupons', 200, 'private.coupons_on_order(uuid,uuid,timestamptz)');
select private.register_order_handler('cancel', 'coupons', 200, 'private.coupons_on_cancel(uuid,uuid,timestamptz)');

/**
 * Trigger: a removed collection leaves the coupons restricted to it. A coupon restricted to
 * that collection alone would otherwise apply to everything: it is paused for the merchant to
 * look at instead.
 */
create or replace function private.coupons_collection_removed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.coupons c
     set collections = array_remove(c.collections, old.slug),
         status = case when cardinality(array_remove(c.collections, old.slug)) = 0 and c.status = 'active'
                       then 'paused' else c.status end
   where c.user_id = old.user_id and c.collections @> array[old.slug];
  return null;
end
$$;
revoke execute on function private.coupons_collection_removed() from public, anon, authenticated;
create trigger coupons_collection_removed after delete on public.collections
  for each row execute function private.coupons_collection_removed();
