-- Gifts: a gift the shopper sent (as the order's customer, by the email given, or on an order
-- to redact) loses the sender's name, email and message; one they were sent loses their address
-- (the placeholder takes its place), their name and the message written to them. The gift
-- keeps its value, dates and status for the merchant's figures. One still waiting to be claimed
-- is cancelled: it can no longer be announced as from someone, or to someone, who is erased.
-- Its announcements keep whether they went but no longer what they said.
create or replace function private.gifts_shopper_erase(p_user_id uuid, p_customer_id uuid, p_email text, p_orders uuid[],
                                                       p_placeholder text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_ids uuid[]; v_gifts integer; v_messages integer;
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

  -- The messages' locks first, then the gifts' (the order every gift action takes).
  perform private.gift_stop_messages(p_user_id, v_ids, 'The shopper''s data was erased');
  with said as (
    select m.id from public.klaviyo_messages m
     where m.user_id = p_user_id and m.source = 'gift' and m.source_id = any (v_ids) and m.properties <> '{}'::jsonb
     order by m.id
       for update
  ), scrubbed as (
    update public.klaviyo_messages m set properties = '{}'::jsonb from said s where m.user_id = p_user_id and m.id = s.id
    returning 1
  )
  select count(*) into v_messages from scrubbed;

  with erased as (
    update public.gifts g
       set sender_name = case when x.sent then null else g.sender_name end,
           sender_email = case when x.sent then null else g.sender_email end,
           recipient_email = case when x.received then p_placeholder else g.recipient_email end,
           recipient_name = case when x.received then null else g.recipient_name end,
           message = null,
           status = case when g.status in ('pending', 'delivered') then 'cancelled' else g.status end,
           cancelled_at = case when g.status in ('pending', 'delivered') then p_now else g.cancelled_at end
      from (select g2.id,
                   g2.sender_customer_id is not distinct from p_customer_id and p_customer_id is not null
                     or g2.sender_email = p_email or g2.order_id = any (p_orders) as sent,
                   g2.recipient_email = p_email
                     or g2.claimed_by_customer_id is not distinct from p_customer_id and p_customer_id is not null as received
              from public.gifts g2 where g2.user_id = p_user_id and g2.id = any (v_ids)) x
     where g.user_id = p_user_id and g.id = x.id
       and (x.sent and (g.sender_name is not null or g.sender_email is not null)
            or x.received and (g.recipient_email <> p_placeholder or g.recipient_name is not null)
            or g.message is not null or g.status in ('pending', 'delivered'))
    returning 1
  )
  select count(*) into v_gifts from erased;
  return jsonb_build_object('gifts', v_gifts, 'klaviyo_messages', v_messages);
end
$$;
select private.register_shopper_erase('gifts', 600, 'private.gifts_shopper_erase(uuid,uuid,text,uuid[],text,timestamptz)');
revoke execute on function private.gifts_shopper_erase(uuid, uuid, text, uuid[], text, timestamptz) from public;
