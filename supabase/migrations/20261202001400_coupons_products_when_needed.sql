-- Coupons: an order's product ids are read only for a code limited to some products or
-- collections (most codes are not); otherwise the handler is as it was
-- (20261124000300_coupons.sql).

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
    -- The order's products matter only to a code limited to some products or collections.
    if v_products is null and (cardinality(v_coupon.product_ids) > 0 or cardinality(v_coupon.collections) > 0) then
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
