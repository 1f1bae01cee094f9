-- Gifts a shopper sent (as the order's customer, or by the email given) and received (by the
-- address it was sent to, or the record that claimed it). A received gift carries who it was
-- from as the recipient was told it (gift_from), never the sender's email or record: the
-- export is the recipient's data, not the sender's. A sent gift keeps the recipient's address
-- and name (the sender gave them) but not the recipient's record or the coupon it became.
create index gifts_sender_email_idx on public.gifts (user_id, sender_email) where sender_email is not null;

create or replace function private.gifts_shopper_export(p_user_id uuid, p_customer_id uuid, p_email text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'gifts', (select coalesce(jsonb_agg(case when x.received
                                             then to_jsonb(g) - array['sender_email', 'sender_customer_id', 'sender_name']
                                                  || jsonb_build_object('role', 'recipient', 'from', private.gift_from(g))
                                             else to_jsonb(g) - array['claimed_by_customer_id', 'coupon_id'] || jsonb_build_object('role', 'sender') end
                                        order by g.created_at, g.id), '[]')
                from (select g.* from public.gifts g where g.user_id = p_user_id and g.sender_customer_id = p_customer_id
                      union
                      select g.* from public.gifts g where g.user_id = p_user_id and g.sender_email = p_email
                      union
                      select g.* from public.gifts g where g.user_id = p_user_id and g.recipient_email = p_email
                      union
                      select g.* from public.gifts g where g.user_id = p_user_id and g.claimed_by_customer_id = p_customer_id) g
                cross join lateral (select g.recipient_email = p_email or g.claimed_by_customer_id is not distinct from p_customer_id
                                           and p_customer_id is not null as received) x))
$$;
select private.register_shopper_export('gifts', 'private.gifts_shopper_export(uuid,uuid,text)');
revoke execute on function private.gifts_shopper_export(uuid, uuid, text) from public;
