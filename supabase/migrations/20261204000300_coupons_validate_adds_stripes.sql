-- Coupons: the checkout adds a code's stripe uses in validate_coupon, and the one rule set is
-- the original again.
--
-- 20261203000100_coupon_stripes.sql rewrote coupon_evaluate, the rule set every path shares,
-- to add the uses counted on stripes. Only the checkout needs them (the order handler judges a
-- code with its limit left out; the stripes' allowance and the coupon's row lock hold that), so
-- validate_coupon adds them to the row it passes, and coupon_evaluate is restored here word for
-- word from 20261124000300_coupons.sql: one definition of the rules, not two.

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

/**
 * Validate a code for a cart (checkout before the order exists), as before
 * (20261124000300_coupons.sql), with the uses counted on the code's stripes added to its row's,
 * so the one rule set (coupon_evaluate) judges its limit on every use. Unknown codes are
 * `not_found`. The order handler judges a code with its limit left out: the stripes' allowance
 * and the coupon's row lock hold that.
 */
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
  v_coupon.usage_count := v_coupon.usage_count + coalesce((
    select sum(t.uses) from public.coupon_tallies t where t.user_id = p_user_id and t.coupon_id = v_coupon.id
  ), 0);
  return query select * from public.coupon_evaluate(v_coupon, p_email, p_cart_total, p_quantity, p_product_ids, p_now);
end
$$;
