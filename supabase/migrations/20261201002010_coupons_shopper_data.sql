-- Coupons: a shopper's uses of codes (by their customer record or the email of the order; each
-- way by its own index, a union rather than an OR a generic plan could read the merchant with).
create index coupon_uses_email_idx on public.coupon_uses (user_id, customer_email);

create or replace function private.coupons_shopper_export(p_user_id uuid, p_customer_id uuid, p_email text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'coupon_uses', (select coalesce(jsonb_agg(to_jsonb(u) || jsonb_build_object('code', k.code) order by u.used_at, u.id), '[]')
                      from (select u.* from public.coupon_uses u where u.user_id = p_user_id and u.customer_id = p_customer_id
                            union
                            select u.* from public.coupon_uses u where u.user_id = p_user_id and u.customer_email = p_email) u
                      join public.coupons k on k.user_id = u.user_id and k.id = u.coupon_id))
$$;
select private.register_shopper_export('coupons', 'private.coupons_shopper_export(uuid,uuid,text)');
revoke execute on function private.coupons_shopper_export(uuid, uuid, text) from public;
