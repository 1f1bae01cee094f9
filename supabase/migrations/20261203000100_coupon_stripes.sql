-- Coupons: one hot code no longer puts every order that carries it in one line.
--
-- Until now every redemption locked the coupon's row and updated the counters on it, so orders
-- carrying the same code committed one after another: in the coupons bench a hot code reached
-- 77% of the throughput of the same orders without one. Now a code's uses are counted on one of
-- eight stripes (coupon_tallies), and a limited code's remaining uses are handed out to the
-- stripes in shares (their allowance) under the coupon's row lock. Concurrent orders take
-- different stripes (FOR UPDATE SKIP LOCKED) and none waits for another:
--   * The limit holds: the row's uses, plus every stripe's uses and allowance, never exceed
--     usage_limit. Redeeming on a stripe moves one unit from its allowance to its uses, so that
--     sum only grows by a grant, and grants are made under the coupon's row lock from what is
--     free. Near the limit (fewer than 64 uses free) nothing more is granted: uses are counted
--     on the coupon's row under its lock, as before, and the last units a stripe still holds are
--     waited for, so the code is used exactly up to its limit.
--   * A change of limit or status takes every stripe's allowance back, waiting for redemptions
--     in flight, so a paused code or a lowered limit holds from the moment it commits.
--   * A per-customer limit or a first-order rule is judged under the customer's row lock.
--   * What a merchant reads (coupons_counted) is the row's figures plus its stripes'.
-- Codes limited to a few uses (every code issued to one member or friend) never reach a stripe.

create table public.coupon_tallies (
  user_id uuid not null,
  coupon_id uuid not null,
  stripe smallint not null check (stripe between 0 and 7),
  uses integer not null default 0,
  discount numeric(12, 2) not null default 0,
  rejected integer not null default 0,
  allowance integer not null default 0 check (allowance >= 0),
  primary key (user_id, coupon_id, stripe),
  foreign key (user_id, coupon_id) references public.coupons (user_id, id) on delete cascade
) with (fillfactor = 50);
comment on table public.coupon_tallies is
  'A coupon''s uses counted off its row (eight stripes at most), and the share of its limit each may still grant.';
comment on column public.coupons.usage_count is
  'Uses counted on this row; coupons_counted adds those counted on the coupon''s stripes (coupon_tallies).';

alter table public.coupon_tallies enable row level security;
create policy coupon_tallies_owner on public.coupon_tallies for select to authenticated using (user_id = (select auth.uid()));
revoke all on public.coupon_tallies from anon, authenticated;
grant select on public.coupon_tallies to authenticated;

/** A coupon as a merchant reads it: its row's figures plus its stripes', depleted when used up. */
create view public.coupons_counted with (security_invoker = true) as
select c.id, c.user_id, c.code,
       case when c.status = 'active' and c.usage_limit is not null and c.usage_count + coalesce(t.uses, 0) >= c.usage_limit
            then 'depleted' else c.status end as status,
       c.source, c.batch_id, c.discount_type, c.discount_value, c.buy_quantity, c.get_quantity, c.usage_limit,
       c.per_customer_limit, c.usage_count + coalesce(t.uses, 0) as usage_count,
       c.rejected_count + coalesce(t.rejected, 0) as rejected_count, c.minimum_purchase, c.minimum_quantity,
       c.product_ids, c.collections, c.first_time_only, c.starts_at, c.expires_at,
       c.total_discount_amount + coalesce(t.discount, 0) as total_discount_amount,
       c.total_orders + coalesce(t.uses, 0) as total_orders, c.description, c.internal_notes, c.created_at, c.updated_at
  from public.coupons c
  left join lateral (
    select sum(x.uses)::integer as uses, sum(x.rejected)::integer as rejected, sum(x.discount) as discount
      from public.coupon_tallies x where x.user_id = c.user_id and x.coupon_id = c.id
  ) t on true;
revoke all on public.coupons_counted from anon, authenticated;
grant select on public.coupons_counted to authenticated;

/**
 * Redeem one use on a stripe that still has allowance: the stripe is locked (skipping those
 * other orders hold, unless p_wait) and one unit moves from its allowance to its uses. False
 * when no stripe has any.
 */
create or replace function private.coupon_stripe_take(p_user_id uuid, p_coupon_id uuid, p_amount numeric, p_wait boolean)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_stripe smallint;
begin
  if p_wait then
    -- A stripe another order holds is waited for and judged again once it commits.
    select t.stripe into v_stripe from public.coupon_tallies t
     where t.user_id = p_user_id and t.coupon_id = p_coupon_id and t.allowance > 0
     order by t.stripe limit 1
       for update;
  else
    -- Each connection starts at its own stripe, so concurrent orders rarely try the same one.
    select t.stripe into v_stripe from public.coupon_tallies t
     where t.user_id = p_user_id and t.coupon_id = p_coupon_id and t.allowance > 0
     order by (t.stripe + pg_catalog.pg_backend_pid()) % 8 limit 1
       for update skip locked;
  end if;
  if v_stripe is null then
    return false;
  end if;
  update public.coupon_tallies t
     set allowance = t.allowance - 1, uses = t.uses + 1, discount = t.discount + p_amount
   where t.user_id = p_user_id and t.coupon_id = p_coupon_id and t.stripe = v_stripe;
  return true;
end
$$;
revoke execute on function private.coupon_stripe_take(uuid, uuid, numeric, boolean) from public, anon, authenticated;

/**
 * Redeem one use of a coupon whose row the caller holds locked (p_coupon, read under the lock).
 * What is free is the limit less the row's uses and every stripe's uses and allowance (read as
 * committed: a redemption in flight on a stripe leaves that sum as it is, a cancellation only
 * lowers it, and grants need this lock). With 64 or more free, or no limit, a stripe no one holds
 * is given a share (a sixteenth of what is free, at most 1,000) and the use is taken from it;
 * with less, the use is counted on the row; with none, a stripe still holding allowance is
 * waited for. False when the code is used up (and its row is marked depleted).
 */
create or replace function private.coupon_redeem_locked(p_coupon public.coupons, p_amount numeric)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_stripes integer;
  v_held integer;
  v_allowance integer;
  v_free integer;
  v_stripe smallint;
begin
  select count(*), coalesce(sum(t.uses + t.allowance), 0), coalesce(sum(t.allowance), 0)
    into v_stripes, v_held, v_allowance
    from public.coupon_tallies t where t.user_id = p_coupon.user_id and t.coupon_id = p_coupon.id;
  v_free := p_coupon.usage_limit - p_coupon.usage_count - v_held;

  if v_free is null or v_free >= 64 then
    if v_stripes < 8 then
      insert into public.coupon_tallies (user_id, coupon_id, stripe)
      select p_coupon.user_id, p_coupon.id, s from generate_series(0, 7) s
      on conflict do nothing;
    end if;
    select t.stripe into v_stripe from public.coupon_tallies t
     where t.user_id = p_coupon.user_id and t.coupon_id = p_coupon.id
     order by t.allowance, t.stripe limit 1
       for update skip locked;
    if v_stripe is not null then
      update public.coupon_tallies t
         set allowance = t.allowance + coalesce(least(v_free / 16, 1000), 1000) - 1,
             uses = t.uses + 1, discount = t.discount + p_amount
       where t.user_id = p_coupon.user_id and t.coupon_id = p_coupon.id and t.stripe = v_stripe;
      return true;
    end if;
  end if;

  if v_free is null or v_free >= 1 then
    update public.coupons c
       set usage_count = c.usage_count + 1,
           total_orders = c.total_orders + 1,
           total_discount_amount = c.total_discount_amount + p_amount,
           status = case when v_free = 1 and v_allowance = 0 then 'depleted' else c.status end
     where c.user_id = p_coupon.user_id and c.id = p_coupon.id;
    return true;
  end if;

  if private.coupon_stripe_take(p_coupon.user_id, p_coupon.id, p_amount, true) then
    return true;
  end if;
  update public.coupons c set status = 'depleted'
   where c.user_id = p_coupon.user_id and c.id = p_coupon.id and c.status = 'active';
  return false;
end
$$;
revoke execute on function private.coupon_redeem_locked(public.coupons, numeric) from public, anon, authenticated;

/** A rejected use is counted on a stripe no one holds, or on the coupon's row when it has none. */
create or replace function private.coupon_count_rejection(p_user_id uuid, p_coupon_id uuid)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_stripe smallint;
begin
  select t.stripe into v_stripe from public.coupon_tallies t
   where t.user_id = p_user_id and t.coupon_id = p_coupon_id
   order by (t.stripe + pg_catalog.pg_backend_pid()) % 8 limit 1
     for update skip locked;
  if v_stripe is not null then
    update public.coupon_tallies t set rejected = t.rejected + 1
     where t.user_id = p_user_id and t.coupon_id = p_coupon_id and t.stripe = v_stripe;
  else
    update public.coupons c set rejected_count = c.rejected_count + 1 where c.user_id = p_user_id and c.id = p_coupon_id;
  end if;
end
$$;
revoke execute on function private.coupon_count_rejection(uuid, uuid) from public, anon, authenticated;

/**
 * Trigger: a coupon's limit or status changes. Every stripe's allowance is taken back (waiting
 * for the redemptions in flight that hold one), so what is free is judged again under the
 * coupon's row lock from the next use on; and a limit below the uses so far is refused.
 * Definer: a merchant's edit (as authenticated) may not write stripes itself.
 */
create or replace function private.coupons_reclaim_allowance()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_used integer;
begin
  update public.coupon_tallies t set allowance = 0
   where t.user_id = new.user_id and t.coupon_id = new.id and t.allowance > 0;
  if new.usage_limit is not null then
    select new.usage_count + coalesce(sum(t.uses), 0) into v_used
      from public.coupon_tallies t where t.user_id = new.user_id and t.coupon_id = new.id;
    if v_used > new.usage_limit then
      raise exception 'usageLimit: This coupon has already been used % times', v_used using errcode = 'HH409';
    end if;
  end if;
  return new;
end
$$;
revoke execute on function private.coupons_reclaim_allowance() from public, anon, authenticated;
create trigger coupons_reclaim_allowance
  before update of usage_limit, status on public.coupons
  for each row
  when (old.usage_limit is distinct from new.usage_limit or old.status is distinct from new.status)
  execute function private.coupons_reclaim_allowance();

/**
 * The one rule set, as before (20261124000300_coupons.sql), with the uses counted on stripes
 * included in the limit a checkout is told about. The order handler judges a code with its
 * limit left out: the stripes' allowance and the coupon's row lock hold that.
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
  elsif p_coupon.status = 'depleted' or (p_coupon.usage_limit is not null and p_coupon.usage_count + coalesce((
          select sum(t.uses) from public.coupon_tallies t where t.user_id = p_coupon.user_id and t.coupon_id = p_coupon.id
        ), 0) >= p_coupon.usage_limit) then
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

/**
 * Order handler: the order's discount codes are redeemed. Each code is judged by
 * coupon_evaluate, as of when the order was placed, against the cart before discounts (what
 * checkout validated), its limit left out, and a use row is kept either way. An accepted use
 * is counted on a stripe with allowance if one is free; otherwise the coupon's row is locked
 * (FOR NO KEY UPDATE, which the use's foreign key check does not wait for; codes in code
 * order, so two orders cannot deadlock), the code judged again on the locked row, and
 * coupon_redeem_locked decides: a new share for a stripe, a use on the row, or used up. A
 * per-customer limit or first-order rule is judged holding the customer's row. Codes the
 * merchant does not manage here are ignored.
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
  v_unlimited public.coupons;
  v_check record;
  v_amount numeric;
  v_locked boolean;
  v_customer_held boolean := false;
  v_accepted integer := 0;
  v_rejected integer := 0;
begin
  select * into v_order from public.orders o where o.user_id = p_user_id and o.id = p_order_id;
  for r in
    select d.code, d.amount from public.order_discount_codes d
     where d.user_id = p_user_id and d.order_id = p_order_id
     order by d.code
  loop
    select * into v_coupon from public.coupons c where c.user_id = p_user_id and c.code = r.code;
    continue when not found;
    -- The order's products matter only to a code limited to some products or collections.
    if v_products is null and (cardinality(v_coupon.product_ids) > 0 or cardinality(v_coupon.collections) > 0) then
      select coalesce(array_agg(l.product_id) filter (where l.product_id is not null), '{}') into v_products
        from public.order_lines l where l.user_id = p_user_id and l.order_id = p_order_id;
    end if;
    -- This customer's other orders wait here, so their uses are counted one after another.
    if not v_customer_held and (v_coupon.per_customer_limit is not null or v_coupon.first_time_only) then
      perform 1 from public.customers c where c.user_id = p_user_id and c.id = v_order.customer_id for no key update;
      v_customer_held := true;
    end if;

    -- A use already kept for this order and code (a handler run again) is not counted twice.
    continue when exists (select 1 from public.coupon_uses u
                           where u.user_id = p_user_id and u.coupon_id = v_coupon.id and u.order_id = p_order_id);
    v_locked := false;
    loop
      v_unlimited := v_coupon;
      v_unlimited.usage_limit := null;
      select * into v_check
        from public.coupon_evaluate(v_unlimited, v_order.email, v_order.subtotal, greatest(v_order.item_count, 1), v_products,
                                    v_order.ordered_at, v_order.shop_order_id);
      v_amount := case when v_check.valid then coalesce(r.amount, v_check.discount) else coalesce(r.amount, 0) end;
      exit when not v_check.valid;
      if v_locked then
        if not private.coupon_redeem_locked(v_coupon, v_amount) then
          select false as valid, 'depleted'::text as reason, 'This code has been used up'::text as message,
                 0::numeric as discount, false as free_shipping into v_check;
          v_amount := coalesce(r.amount, 0);
        end if;
        exit;
      end if;
      exit when private.coupon_stripe_take(p_user_id, v_coupon.id, v_amount, false);
      -- No stripe with allowance free: judged again holding the coupon's row (paused meanwhile,
      -- used up: the locked row says).
      select * into v_coupon from public.coupons c where c.user_id = p_user_id and c.id = v_coupon.id for no key update;
      v_locked := true;
    end loop;

    -- One use row either way: accepted uses count toward the limits, rejected ones are kept.
    insert into public.coupon_uses (user_id, coupon_id, order_id, customer_id, customer_email, shop_order_id, status,
                                    reason, discount_amount, order_total, used_at)
    values (p_user_id, v_coupon.id, p_order_id, v_order.customer_id, v_order.email, v_order.shop_order_id,
            case when v_check.valid then 'accepted' else 'rejected' end, v_check.reason, v_amount, v_order.subtotal,
            v_order.ordered_at);
    if v_check.valid then
      v_accepted := v_accepted + 1;
    else
      perform private.coupon_count_rejection(p_user_id, v_coupon.id);
      v_rejected := v_rejected + 1;
    end if;
  end loop;
  return jsonb_build_object('accepted', v_accepted, 'rejected', v_rejected);
end
$$;

/**
 * Cancel handler: the order's accepted uses become cancelled and stop counting: usage and
 * totals go back down, on the coupon's row while it holds uses and otherwise on a stripe, and
 * a coupon depleted by them is active again. Coupons are locked in code order, as redemption
 * locks them.
 */
create or replace function private.coupons_on_cancel(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  r record;
  v_stripe smallint;
  v_released integer := 0;
begin
  for r in
    select u.id, u.coupon_id, u.discount_amount, c.usage_count from public.coupon_uses u
      join public.coupons c on c.user_id = u.user_id and c.id = u.coupon_id
     where u.user_id = p_user_id and u.order_id = p_order_id and u.status = 'accepted'
     order by c.code
       for no key update of c, u
  loop
    update public.coupon_uses u set status = 'cancelled', reason = 'order_cancelled'
     where u.user_id = p_user_id and u.id = r.id;
    if r.usage_count > 0 then
      update public.coupons c
         set usage_count = c.usage_count - 1,
             total_orders = c.total_orders - 1,
             total_discount_amount = greatest(c.total_discount_amount - r.discount_amount, 0),
             status = case when c.status = 'depleted' then 'active' else c.status end
       where c.user_id = p_user_id and c.id = r.coupon_id;
    else
      select t.stripe into v_stripe from public.coupon_tallies t
       where t.user_id = p_user_id and t.coupon_id = r.coupon_id
       order by t.uses desc, t.stripe limit 1
         for update;
      update public.coupon_tallies t set uses = t.uses - 1, discount = t.discount - r.discount_amount
       where t.user_id = p_user_id and t.coupon_id = r.coupon_id and t.stripe = v_stripe;
      update public.coupons c set status = 'active'
       where c.user_id = p_user_id and c.id = r.coupon_id and c.status = 'depleted';
    end if;
    v_released := v_released + 1;
  end loop;
  return jsonb_build_object('released', v_released);
end
$$;
