-- Coupons: a shopper's uses of codes keep their amounts, status and order (the coupon's figures
-- and its limits), and carry the shopper's placeholder instead of their email, so a
-- per-customer limit still counts their uses together.
create or replace function private.coupons_shopper_erase(p_user_id uuid, p_customer_id uuid, p_email text, p_orders uuid[],
                                                         p_placeholder text, p_now timestamptz)
returns jsonb
language sql
volatile
set search_path = ''
as $$
  with taken as (
    select u.id from public.coupon_uses u where u.user_id = p_user_id and u.customer_id = p_customer_id
    union
    select u.id from public.coupon_uses u where u.user_id = p_user_id and u.customer_email = p_email
    union
    select u.id from public.coupon_uses u where u.user_id = p_user_id and u.order_id = any (p_orders)
  ), erased as (
    update public.coupon_uses u set customer_email = p_placeholder
      from taken t
     where u.user_id = p_user_id and u.id = t.id and u.customer_email <> p_placeholder
    returning 1
  )
  select jsonb_build_object('coupon_uses', (select count(*) from erased))
$$;
select private.register_shopper_erase('coupons', 200, 'private.coupons_shopper_erase(uuid,uuid,text,uuid[],text,timestamptz)');
revoke execute on function private.coupons_shopper_erase(uuid, uuid, text, uuid[], text, timestamptz) from public;
