-- Gifts: a gift the shopper sent (as the order's customer, by the email given, or on an order
-- to redact) loses the sender's name, email and message, and stays the recipient's to claim
-- (its announcement, if still to go, says it is from someone, as a gift without a sender's name
-- does); one they were sent loses their address (the placeholder takes its place), their name
-- and the message written to them, and if not yet claimed is cancelled: it can no longer reach
-- them. Gifts keep their value, dates and status for the merchant's figures. Announcements keep
-- whether they went but no longer what they said, and the coupon a claim made no longer names
-- sender or recipient.
create or replace function private.gifts_shopper_erase(p_user_id uuid, p_customer_id uuid, p_email text, p_orders uuid[],
                                                       p_placeholder text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_ids uuid[]; v_received uuid[]; v_gifts integer; v_messages integer;
begin
  select coalesce(array_agg(g.id order by g.id), '{}') into v_ids from (
    select g.id from public.gifts g where g.user_id = p_user_id and g.sender_customer_id = p_customer_id
    union
    select g.id from public.gifts g where g.user_id = p_user_id and g.sender_email = p_email
    union
    select g.id from public.gifts g where g.user_id = p_user_id and g.order_id = any (p_orders)
    union
    select g.id from public.gifts g where g.user_id = p_user_id and g.recipient_email = p_email
    union
    select g.id from public.gifts g where g.user_id = p_user_id and g.claimed_by_customer_id = p_customer_id
  ) g;
  if cardinality(v_ids) = 0 then
    return jsonb_build_object('gifts', 0, 'klaviyo_messages', 0);
  end if;

  -- Who each gift names the shopper as.
  select coalesce(array_agg(x.id order by x.id) filter (where x.received), '{}') into v_received from (
    select g.id, g.recipient_email = p_email or g.claimed_by_customer_id is not distinct from p_customer_id and p_customer_id is not null
             as received
      from public.gifts g where g.user_id = p_user_id and g.id = any (v_ids)) x;

  -- The messages' locks first, then the gifts' (the order every gift action takes): those
  -- still to go to an erased recipient stop; what every announcement said goes.
  perform private.gift_stop_messages(p_user_id, v_received, 'The shopper''s data was erased');
  with said as (
    select m.id from public.klaviyo_messages m
     where m.user_id = p_user_id and m.source = 'gift' and m.source_id = any (v_ids) and m.properties <> '{}'::jsonb
       and (m.source_id = any (v_received) or m.status not in ('pending', 'held'))
     order by m.id
       for update
  ), scrubbed as (
    update public.klaviyo_messages m set properties = '{}'::jsonb from said s where m.user_id = p_user_id and m.id = s.id
    returning 1
  )
  select count(*) into v_messages from scrubbed;
  -- A sent gift's announcement still to go says only what the gift is, from someone.
  update public.klaviyo_messages m
     set properties = m.properties - array['message', 'sender_name', 'sender_first_name']
                      || jsonb_build_object('sender_name', 'Someone', 'sender_first_name', 'Someone')
   where m.user_id = p_user_id and m.source = 'gift' and m.source_id = any (v_ids) and not (m.source_id = any (v_received))
     and m.status in ('pending', 'held') and (m.properties ? 'message' or m.properties ->> 'sender_name' <> 'Someone');

  with erased as (
    update public.gifts g
       set sender_name = case when x.sent then null else g.sender_name end,
           sender_email = case when x.sent then null else g.sender_email end,
           recipient_email = case when x.received then p_placeholder else g.recipient_email end,
           recipient_name = case when x.received then null else g.recipient_name end,
           message = null,
           status = case when x.received and g.status in ('pending', 'delivered') then 'cancelled' else g.status end,
           cancelled_at = case when x.received and g.status in ('pending', 'delivered') then p_now else g.cancelled_at end
      from (select g2.id,
                   g2.sender_customer_id is not distinct from p_customer_id and p_customer_id is not null
                     or g2.sender_email = p_email or g2.order_id = any (p_orders) as sent,
                   g2.id = any (v_received) as received
              from public.gifts g2 where g2.user_id = p_user_id and g2.id = any (v_ids)) x
     where g.user_id = p_user_id and g.id = x.id
       and (x.sent and (g.sender_name is not null or g.sender_email is not null)
            or x.received and (g.recipient_email <> p_placeholder or g.recipient_name is not null
                               or g.status in ('pending', 'delivered'))
            or g.message is not null)
    returning 1
  )
  select count(*) into v_gifts from erased;

  -- The coupon a claim made said 'Gift from <sender> to <recipient>'.
  update public.coupons k set description = 'A gift'
    from public.gifts g
   where g.user_id = p_user_id and g.id = any (v_ids) and g.coupon_id is not null
     and k.user_id = g.user_id and k.id = g.coupon_id and k.description is distinct from 'A gift';
  return jsonb_build_object('gifts', v_gifts, 'klaviyo_messages', v_messages);
end
$$;
select private.register_shopper_erase('gifts', 600, 'private.gifts_shopper_erase(uuid,uuid,text,uuid[],text,timestamptz)');
revoke execute on function private.gifts_shopper_erase(uuid, uuid, text, uuid[], text, timestamptz) from public;
