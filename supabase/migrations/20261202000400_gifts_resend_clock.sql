-- Gifts: two resends pressed at once. The second could find the announcement the first had
-- just made, due at the first transaction's start, which can be later than the second's own
-- start (they begin in any order), and "bring it forward" instead of saying it is being sent.
-- The due time is compared with the clock too.

create or replace function private.resend_gift(p_user_id uuid, p_gift_id uuid, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_gift public.gifts;
  v_msg public.klaviyo_messages;
begin
  select * into v_msg from public.klaviyo_messages m
   where m.user_id = p_user_id and m.source = 'gift' and m.source_id = p_gift_id
   order by m.created_at desc, m.id desc limit 1
     for update;
  v_gift := private.lock_open_gift(p_user_id, p_gift_id, 'cannot be sent again', p_now);
  -- A resend at the same moment that got here first added a newer one (its snapshot is this
  -- statement's, after the gift's lock): that one goes; this one does not add another.
  if exists (select 1 from public.klaviyo_messages m
              where m.user_id = p_user_id and m.source = 'gift' and m.source_id = p_gift_id and m.id <> v_msg.id
                and (m.created_at, m.id) > (v_msg.created_at, v_msg.id)) then
    raise exception 'The announcement is being sent now' using errcode = 'HH409';
  end if;
  if v_msg.status = 'held' then
    raise exception 'The announcement is held: %', coalesce(v_msg.reason, 'see Settings, Integrations') using errcode = 'HH409';
  end if;
  if v_msg.status = 'pending' then
    -- Due by the clock, not only by the transaction's start: a resend pressed at the same moment
    -- may have made this message after this transaction began.
    if v_msg.due_at <= greatest(p_now, clock_timestamp()) or v_msg.lease_until > p_now then
      raise exception 'The announcement is being sent now' using errcode = 'HH409';
    end if;
    update public.klaviyo_messages m set due_at = p_now where m.user_id = p_user_id and m.id = v_msg.id;
    update public.gifts g set scheduled_delivery_at = null where g.user_id = p_user_id and g.id = p_gift_id;
    return jsonb_build_object('action', 'brought_forward', 'messageId', v_msg.id);
  end if;
  if v_msg.status = 'failed' then
    perform private.klaviyo_retry(p_user_id, array[v_msg.id], p_now);
    return jsonb_build_object('action', 'retried', 'messageId', v_msg.id);
  end if;
  return jsonb_build_object('action', 'sent', 'messageId', private.gift_message(v_gift, p_now));
end
$$;
revoke execute on function private.resend_gift(uuid, uuid, timestamptz) from public, anon, authenticated;
