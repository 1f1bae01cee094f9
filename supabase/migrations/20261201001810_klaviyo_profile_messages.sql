-- Messages to someone who is not (yet) one of the merchant's customers: a gift's recipient is
-- told of the gift before they have ever been to the store, and becomes a customer only by
-- claiming it. Such a message carries its profile (email, names) itself; a message about a
-- customer still reads the customer's profile when it is sent. One of the two is always there.

alter table public.klaviyo_messages alter column customer_id drop not null;
alter table public.klaviyo_messages add column profile jsonb
  check (profile is null or (jsonb_typeof(profile) = 'object' and jsonb_typeof(profile -> 'email') = 'string'));
alter table public.klaviyo_messages add constraint klaviyo_messages_addressee check (customer_id is not null or profile is not null);

/**
 * Claim one message for sending. Under its row lock: a message that is no longer pending is
 * skipped; one claimed by another runner within its lease is refused (the job retries later);
 * a merchant without a Klaviyo key keeps it held with that reason (never marked sent). The
 * source's prepare hook may hold it, cancel it or add properties. Otherwise the attempt is
 * counted and the message returned with what the request needs: the key's ciphertext (the
 * server decrypts it), the profile (the message's own, else read from the customer now), and
 * the event's attributes.
 * Returns {action: 'send'|'skip'|'busy'|'hold'|'cancel', ...}.
 */
create or replace function private.klaviyo_claim(p_user_id uuid, p_id uuid, p_now timestamptz default now(), p_lease interval default interval '2 minutes')
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_msg public.klaviyo_messages;
  v_key text;
  v_prepare regprocedure;
  v_prep jsonb := '{}'::jsonb;
  v_customer public.customers;
begin
  select * into v_msg from public.klaviyo_messages m where m.user_id = p_user_id and m.id = p_id for update;
  if not found or v_msg.status <> 'pending' then
    return jsonb_build_object('action', 'skip', 'status', v_msg.status);
  end if;
  if v_msg.lease_until > p_now then
    return jsonb_build_object('action', 'busy', 'leaseUntil', v_msg.lease_until);
  end if;
  select c.ciphertext into v_key from public.merchant_credentials c where c.user_id = p_user_id and c.provider = 'klaviyo';
  if v_key is null then
    update public.klaviyo_messages set status = 'held', hold = 'no_key', reason = 'No Klaviyo API key: add one in Settings, Integrations'
     where user_id = p_user_id and id = p_id;
    return jsonb_build_object('action', 'hold', 'hold', 'no_key');
  end if;
  select s.prepare into v_prepare from private.klaviyo_sources s where s.source = v_msg.source;
  if v_prepare is not null then
    execute format('select %s($1, $2, $3)', v_prepare::oid::regproc::text) into v_prep using p_user_id, p_id, p_now;
    v_prep := coalesce(v_prep, '{}'::jsonb);
    if v_prep ? 'hold' then
      update public.klaviyo_messages set status = 'held', hold = v_prep ->> 'hold', reason = v_prep ->> 'reason'
       where user_id = p_user_id and id = p_id;
      return jsonb_build_object('action', 'hold', 'hold', v_prep ->> 'hold');
    end if;
    if v_prep ? 'cancel' then
      update public.klaviyo_messages set status = 'cancelled', reason = v_prep ->> 'cancel'
       where user_id = p_user_id and id = p_id;
      return jsonb_build_object('action', 'cancel', 'reason', v_prep ->> 'cancel');
    end if;
  end if;
  select * into v_customer from public.customers c where c.user_id = p_user_id and c.id = v_msg.customer_id;
  update public.klaviyo_messages
     set attempts = attempts + 1, last_attempt_at = p_now, lease_until = p_now + p_lease,
         properties = properties || coalesce(v_prep -> 'properties', '{}'::jsonb)
   where user_id = p_user_id and id = p_id
  returning * into v_msg;
  return jsonb_build_object(
    'action', 'send',
    'source', v_msg.source,
    'keyCiphertext', v_key,
    'attempts', v_msg.attempts,
    'event', jsonb_strip_nulls(jsonb_build_object(
      'uniqueId', v_msg.id,
      'metric', v_msg.metric,
      'properties', v_msg.properties,
      'value', v_msg.value,
      'time', coalesce(v_msg.occurred_at, p_now),
      'profile', coalesce(v_msg.profile, jsonb_strip_nulls(jsonb_build_object(
        'email', v_customer.email, 'first_name', v_customer.first_name, 'last_name', v_customer.last_name,
        'external_id', v_customer.id))))));
end
$$;
