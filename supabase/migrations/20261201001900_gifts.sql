-- Gifts: a shopper (or the merchant) sends someone a gift; the recipient is told through the
-- merchant's Klaviyo ("Gift Received", now or on the chosen day) and claims it on a public page
-- with the email it was sent to. A gift may carry a value: claiming it issues a single-use
-- coupon for that amount through the coupon module.
--
-- The claim code is the link's secret. It is made by the server when the link goes out (one per
-- send attempt, so a retried send whose first try did reach Klaviyo still has a working link)
-- from 80 random bits, and only its SHA-256 is stored: whoever reads the database cannot claim
-- a gift, and the merchant can only have a new link made, not read an old one.
--
-- Locks, always in this order, so no two paths deadlock: the customer and what follows from a
-- change to it (the order pipeline takes them first; so does a claim), then the gift's
-- messages, then the gift.

create table public.gifts (
  user_id uuid not null references auth.users (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  -- Made in the dashboard, or from a shop order's note attributes.
  origin text not null check (origin in ('dashboard', 'order')),
  order_id uuid,
  -- The shop's order id is text (S32).
  shop_order_id text check (length(shop_order_id) between 1 and 64),
  sender_customer_id uuid,
  sender_name text check (length(sender_name) between 1 and 120),
  sender_email text check (length(sender_email) <= 254 and sender_email = lower(btrim(sender_email))),
  recipient_email text not null
    check (length(recipient_email) <= 254 and recipient_email = lower(btrim(recipient_email)) and recipient_email ~ '^[^@\s]+@[^@\s]+$'),
  recipient_name text check (length(recipient_name) between 1 and 120),
  message text check (length(message) between 1 and 1000),
  -- What claiming it gives: a coupon for this amount in the store's currency (none: the gift
  -- is what the order sends).
  value numeric(12, 2) check (value > 0 and value <= 100000),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  status text not null default 'pending' check (status in ('pending', 'delivered', 'claimed', 'expired', 'cancelled')),
  -- When the recipient is to be told; null: at once.
  scheduled_delivery_at timestamptz,
  delivered_at timestamptz,
  -- How it reached the recipient: Klaviyo's 202, or a link the merchant took to pass on.
  delivered_via text check (delivered_via in ('klaviyo', 'link')),
  claimed_at timestamptz,
  claimed_by_customer_id uuid,
  coupon_id uuid,
  expires_at timestamptz not null,
  cancelled_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, id),
  -- One gift an order, however often the order is replayed.
  unique (user_id, order_id),
  foreign key (user_id, order_id) references public.orders (user_id, id) on delete set null (order_id),
  foreign key (user_id, sender_customer_id) references public.customers (user_id, id) on delete set null (sender_customer_id),
  foreign key (user_id, claimed_by_customer_id) references public.customers (user_id, id) on delete set null (claimed_by_customer_id),
  foreign key (user_id, coupon_id) references public.coupons (user_id, id) on delete set null (coupon_id),
  check ((delivered_at is not null) = (delivered_via is not null)),
  check (status not in ('delivered', 'claimed') or delivered_at is not null),
  check ((status = 'claimed') = (claimed_at is not null)),
  check ((status = 'cancelled') = (cancelled_at is not null)),
  check (expires_at > created_at)
);
-- The merchant's list, newest first, whole or by status (keyset on created_at, id).
create index gifts_list_idx on public.gifts (user_id, created_at desc, id desc);
create index gifts_status_idx on public.gifts (user_id, status, created_at desc, id desc);
-- The expiry cron, across merchants: only gifts that can still expire.
create index gifts_expiry_idx on public.gifts (expires_at) where status in ('pending', 'delivered');
-- A customer's gifts, sent and received (their page, an export or erasure, the foreign keys).
create index gifts_sender_idx on public.gifts (user_id, sender_customer_id) where sender_customer_id is not null;
create index gifts_claimer_idx on public.gifts (user_id, claimed_by_customer_id) where claimed_by_customer_id is not null;
create index gifts_recipient_idx on public.gifts (user_id, recipient_email);
create trigger gifts_updated_at before update on public.gifts
  for each row execute function public.update_updated_at_column();

alter table public.gifts enable row level security;
create policy gifts_owner on public.gifts for select to authenticated using (user_id = (select auth.uid()));
-- Read-only to the API roles: gifts are made, sent, claimed and cancelled by the functions below.
revoke all on public.gifts from anon, authenticated;
grant select on public.gifts to authenticated;

-- The SHA-256 of every claim code a gift's links carry. Never readable through the API; the
-- claim looks a code up by its hash alone (it does not know the merchant), which is why the
-- hash has an index of its own (80 random bits: a collision between two gifts is refused, never
-- resolved, see gift_by_code).
create table private.gift_codes (
  user_id uuid not null,
  code_hash bytea not null check (length(code_hash) = 32),
  gift_id uuid not null,
  -- The send it went out with; null for a link the merchant took.
  message_id uuid,
  created_at timestamptz not null default now(),
  primary key (user_id, code_hash),
  foreign key (user_id, gift_id) references public.gifts (user_id, id) on delete cascade
);
create index gift_codes_hash_idx on private.gift_codes (code_hash);
create index gift_codes_gift_idx on private.gift_codes (user_id, gift_id);

select private.register_coupon_source('gift');

/** The gift a code's hash names, or null (unknown, or the impossible collision of two gifts). */
create or replace function private.gift_by_code(p_code_hash bytea)
returns table (user_id uuid, gift_id uuid)
language sql
stable
set search_path = ''
as $$
  select min(k.user_id::text)::uuid, min(k.gift_id::text)::uuid
    from private.gift_codes k
   where k.code_hash = p_code_hash
  having count(*) = 1
$$;

/**
 * Make one gift and its "Gift Received" message, due when the gift is to be delivered.
 * p_gift: {origin, recipientEmail, recipientName?, senderName?, senderEmail?, senderCustomerId?,
 * message?, value?, scheduledDeliveryAt?, expiresInDays?, orderId?, shopOrderId?}. The caller
 * has checked the fields (zod for the dashboard, the order handler for orders); the table's
 * checks hold the rest. An order's gift that exists already is returned as it is.
 */
create or replace function private.create_gift(p_user_id uuid, p_gift jsonb, p_now timestamptz default now())
returns public.gifts
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_gift public.gifts;
  v_deliver_at timestamptz := (p_gift ->> 'scheduledDeliveryAt')::timestamptz;
  v_currency text;
begin
  if v_deliver_at <= p_now then
    v_deliver_at := null;
  end if;
  select s.currency into v_currency from public.merchant_settings s where s.user_id = p_user_id;
  insert into public.gifts as g (user_id, origin, order_id, shop_order_id, sender_customer_id, sender_name, sender_email,
                                 recipient_email, recipient_name, message, value, currency, scheduled_delivery_at, expires_at,
                                 created_at)
  values (p_user_id, p_gift ->> 'origin', (p_gift ->> 'orderId')::uuid, p_gift ->> 'shopOrderId',
          (p_gift ->> 'senderCustomerId')::uuid, nullif(p_gift ->> 'senderName', ''), public.normalize_email(p_gift ->> 'senderEmail'),
          public.normalize_email(p_gift ->> 'recipientEmail'), nullif(p_gift ->> 'recipientName', ''), nullif(p_gift ->> 'message', ''),
          (p_gift ->> 'value')::numeric, coalesce(v_currency, 'USD'), v_deliver_at,
          coalesce(v_deliver_at, p_now) + make_interval(days => coalesce((p_gift ->> 'expiresInDays')::integer, 90)), p_now)
  on conflict (user_id, order_id) do nothing
  returning * into v_gift;
  if v_gift.id is null then
    select * into v_gift from public.gifts g where g.user_id = p_user_id and g.order_id = (p_gift ->> 'orderId')::uuid;
    return v_gift;
  end if;
  perform private.gift_message(v_gift, coalesce(v_deliver_at, p_now));
  return v_gift;
end
$$;

/**
 * Who the gift is from, as the recipient is told: a shopper's first name (an order's gift
 * never shows more of its buyer), or the name the merchant wrote for a gift from the
 * dashboard, as written ("The Haven team").
 */
create or replace function private.gift_from(p_gift public.gifts)
returns text
language sql
immutable
set search_path = ''
as $$
  select case when p_gift.origin = 'dashboard' then p_gift.sender_name else substring(p_gift.sender_name from '^\S+') end
$$;

/** A "Gift Received" message for the gift, to its recipient, due at p_due (the outbox adds its job). */
create or replace function private.gift_message(p_gift public.gifts, p_due timestamptz)
returns uuid
language sql
volatile
set search_path = ''
as $$
  insert into public.klaviyo_messages (user_id, source, source_id, customer_id, profile, metric, properties, value, due_at)
  values (p_gift.user_id, 'gift', p_gift.id, null,
          jsonb_strip_nulls(jsonb_build_object('email', p_gift.recipient_email,
                                               'first_name', substring(p_gift.recipient_name from '^\S+'))),
          'Gift Received',
          jsonb_strip_nulls(jsonb_build_object(
            'gift_id', p_gift.id,
            -- Who it is from as the recipient is told (a buyer's first name; the merchant's own
            -- sender name for a dashboard gift): the event carries nothing more of the sender.
            'sender_name', coalesce(private.gift_from(p_gift), 'Someone'),
            'sender_first_name', coalesce(substring(private.gift_from(p_gift) from '^\S+'), 'Someone'),
            'recipient_name', p_gift.recipient_name,
            'message', p_gift.message,
            'gift_value', p_gift.value,
            'currency', p_gift.currency)),
          p_gift.value, p_due)
  returning id
$$;

/**
 * The outbox's prepare hook: a gift that is no longer waiting for its recipient (claimed,
 * cancelled, expired, or past its expiry) is not announced; otherwise the event carries the
 * store's name and the expiry as they are now. The server adds the claim link (a new code).
 */
create or replace function private.gift_prepare(p_user_id uuid, p_message_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_gift public.gifts;
  v_store text;
begin
  select g.* into v_gift from public.gifts g
    join public.klaviyo_messages m on m.user_id = g.user_id and m.source_id = g.id
   where m.user_id = p_user_id and m.id = p_message_id
     for update of g;
  if not found then
    return jsonb_build_object('cancel', 'The gift is gone');
  end if;
  if v_gift.status not in ('pending', 'delivered') then
    return jsonb_build_object('cancel', 'The gift is ' || v_gift.status);
  end if;
  if v_gift.expires_at <= p_now then
    return jsonb_build_object('cancel', 'The gift has expired');
  end if;
  select coalesce(s.store_name, split_part(s.shop_domain, '.', 1)) into v_store from public.merchant_settings s where s.user_id = p_user_id;
  return jsonb_build_object('properties', jsonb_strip_nulls(jsonb_build_object(
    'store_name', v_store, 'expires_at', v_gift.expires_at)));
end
$$;

/** The outbox's on_sent hook: Klaviyo's 202 is what makes a gift delivered (S34). */
create or replace function private.gift_on_sent(p_user_id uuid, p_message_id uuid, p_now timestamptz)
returns void
language sql
volatile
set search_path = ''
as $$
  update public.gifts g set status = case when g.status = 'pending' then 'delivered' else g.status end,
                            delivered_at = coalesce(g.delivered_at, p_now),
                            delivered_via = coalesce(g.delivered_via, 'klaviyo')
    from public.klaviyo_messages m
   where m.user_id = p_user_id and m.id = p_message_id and g.user_id = p_user_id and g.id = m.source_id
     and g.status in ('pending', 'delivered', 'claimed', 'expired')
$$;

select private.register_klaviyo_source('gift', 'private.gift_prepare(uuid,uuid,timestamptz)',
                                       'private.gift_on_sent(uuid,uuid,timestamptz)');

/**
 * Stop the gifts' messages that have not gone (pending or held): cancelled with the reason.
 * Takes the messages' locks; callers then lock the gifts (the order at the top).
 */
create or replace function private.gift_stop_messages(p_user_id uuid, p_gift_ids uuid[], p_reason text)
returns void
language sql
volatile
set search_path = ''
as $$
  with stopped as (
    select m.id from public.klaviyo_messages m
     where m.user_id = p_user_id and m.source = 'gift' and m.source_id = any (p_gift_ids) and m.status in ('pending', 'held')
     order by m.id
       for update
  )
  update public.klaviyo_messages m set status = 'cancelled', hold = null, reason = p_reason
    from stopped s where m.user_id = p_user_id and m.id = s.id
$$;

/**
 * Lock one of the merchant's gifts that can still be claimed, for an action on it; raises
 * HH404 when it is not the merchant's, HH409 ("This gift is claimed and <p_refused>") when it
 * is over (claimed, cancelled, expired, or past its date).
 */
create or replace function private.lock_open_gift(p_user_id uuid, p_gift_id uuid, p_refused text, p_now timestamptz)
returns public.gifts
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_gift public.gifts;
begin
  select * into v_gift from public.gifts g where g.user_id = p_user_id and g.id = p_gift_id for update;
  if not found then
    raise exception 'Gift not found' using errcode = 'HH404';
  end if;
  if v_gift.status not in ('pending', 'delivered') or v_gift.expires_at <= p_now then
    raise exception 'This gift is % and %', case when v_gift.status in ('pending', 'delivered') then 'expired' else v_gift.status end, p_refused
      using errcode = 'HH409';
  end if;
  return v_gift;
end
$$;

/**
 * The merchant cancels a gift that has not been claimed: its waiting messages stop and its
 * link stops working. Returns the gift, or raises HH404 (not the merchant's) or HH409.
 */
create or replace function private.cancel_gift(p_user_id uuid, p_gift_id uuid, p_now timestamptz default now())
returns public.gifts
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_gift public.gifts;
begin
  perform private.gift_stop_messages(p_user_id, array[p_gift_id], 'The gift was cancelled');
  perform private.lock_open_gift(p_user_id, p_gift_id, 'cannot be cancelled', p_now);
  update public.gifts g set status = 'cancelled', cancelled_at = p_now where g.user_id = p_user_id and g.id = p_gift_id
  returning * into v_gift;
  return v_gift;
end
$$;

/**
 * The merchant sends a gift's announcement again, now: only a gift still waiting to be claimed,
 * and by what its latest announcement needs: one scheduled for later is brought forward, a
 * failed one is retried, one held for want of a key stays held (with its reason) until a key is
 * saved, a sent or cancelled one is followed by a new one. Returns {action: 'sent'|'brought_forward'|'retried', messageId}.
 */
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
    if v_msg.due_at <= p_now or v_msg.lease_until > p_now then
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

/**
 * The merchant takes a claim link to pass on by hand (a card, a chat): the server made the
 * code and hands its hash here. A gift not yet announced counts as delivered from now (the link
 * is out), though a scheduled announcement still goes on its day.
 */
create or replace function private.gift_link(p_user_id uuid, p_gift_id uuid, p_code_hash bytea, p_now timestamptz default now())
returns public.gifts
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_gift public.gifts;
begin
  perform private.lock_open_gift(p_user_id, p_gift_id, 'has no link to give', p_now);
  insert into private.gift_codes (user_id, code_hash, gift_id) values (p_user_id, p_code_hash, p_gift_id);
  update public.gifts g set status = 'delivered', delivered_at = coalesce(g.delivered_at, p_now), delivered_via = coalesce(g.delivered_via, 'link')
   where g.user_id = p_user_id and g.id = p_gift_id
  returning * into v_gift;
  return v_gift;
end
$$;

/** What the claim page may show of a gift: never an email, no buyer's surname, nothing of a gift that is over. */
create or replace function private.gift_public(p_gift public.gifts, p_now timestamptz)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'storeName', coalesce(s.store_name, split_part(s.shop_domain, '.', 1)),
    'storeUrl', case when s.shop_domain is not null then 'https://' || s.shop_domain end,
    'status', case when p_gift.status in ('pending', 'delivered') and p_gift.expires_at <= p_now then 'expired'
                   when p_gift.status = 'pending' then 'on_its_way'
                   when p_gift.status = 'delivered' then 'ready'
                   else p_gift.status end,
    'expiresAt', p_gift.expires_at)
  || case when p_gift.status in ('pending', 'delivered') and p_gift.expires_at > p_now then jsonb_build_object(
       'from', private.gift_from(p_gift),
       'message', p_gift.message,
       'value', p_gift.value,
       'currency', p_gift.currency)
     else '{}'::jsonb end
    from public.merchant_settings s where s.user_id = p_gift.user_id
$$;

/** The public claim page's view of the gift a code's hash names; null when the code is not one. */
create or replace function private.gift_view(p_code_hash bytea, p_now timestamptz default now())
returns jsonb
language sql
stable
set search_path = ''
as $$
  select private.gift_public(g, p_now)
    from private.gift_by_code(p_code_hash) k
    join public.gifts g on g.user_id = k.user_id and g.id = k.gift_id
$$;

/**
 * Why the person with p_email may not claim this gift now, or null when they may: claimed
 * (by them: 'already_claimed', shown their coupon again; by someone else), cancelled, expired,
 * not yet due (S33), or another address than the one it was sent to.
 */
create or replace function private.gift_refusal(p_gift public.gifts, p_email text, p_now timestamptz)
returns text
language sql
stable
set search_path = ''
as $$
  select case
    when p_gift.id is null then 'not_found'
    when p_gift.status = 'claimed' and exists (
           select 1 from public.customers c
            where c.user_id = p_gift.user_id and c.id = p_gift.claimed_by_customer_id and c.email = p_email)
      then 'already_claimed'
    when p_gift.status = 'claimed' then 'claimed_by_other'
    when p_gift.status = 'cancelled' then 'cancelled'
    when p_gift.status = 'expired' or p_gift.expires_at <= p_now then 'expired'
    -- A pending gift with a code is being announced (the link is out, Klaviyo's 202 is not
    -- back yet); one due later has no code, so this only guards the scheduled day.
    when p_gift.status = 'pending' and p_gift.scheduled_delivery_at > p_now then 'not_delivered'
    when p_email is null or p_email <> p_gift.recipient_email then 'wrong_email'
  end
$$;

/**
 * Claim the gift a code's hash names, for the person with p_email, in one call scoped to the
 * gift's merchant (S33). Refused (see gift_refusal): an unknown code, a gift not yet due,
 * cancelled, expired or claimed by someone else, and an email that is not the one the gift was
 * sent to; the same person claiming again is answered with what they claimed. Otherwise the
 * recipient is found or made a customer (by normalised email, S14) with a lead-capture
 * touchpoint pointing at the gift, the gift's value becomes a single-use coupon, and the gift
 * is claimed.
 *
 * Locks: the customer and what their touchpoint moves (their stage, the merchant's Klaviyo
 * profile job) are taken before the gift, as an order's cancellation takes them before its
 * gift; the gift's lock then settles a race with another claim, a cancel or the expiry, and a
 * claim that lost it is refused with its touchpoint and any new customer undone.
 * Returns {outcome: 'claimed'|'already_claimed'|'not_found'|'not_delivered'|'cancelled'|
 * 'expired'|'claimed_by_other'|'wrong_email', gift?, coupon?}.
 */
create or replace function private.claim_gift(p_code_hash bytea, p_email text, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_user_id uuid;
  v_gift_id uuid;
  v_gift public.gifts;
  v_email text := public.normalize_email(p_email);
  v_customer_id uuid;
  v_coupon_id uuid;
  v_refused text;
begin
  select k.user_id, k.gift_id into v_user_id, v_gift_id from private.gift_by_code(p_code_hash) k;
  select * into v_gift from public.gifts g where g.user_id = v_user_id and g.id = v_gift_id;
  v_refused := private.gift_refusal(v_gift, v_email, p_now);
  if v_refused is null then
    begin
      perform private.record_touchpoint(v_user_id, jsonb_build_object(
        'email', v_email, 'type', 'lead_capture', 'channel', 'referral', 'occurredAt', p_now,
        'referenceId', v_gift.id, 'referenceType', 'gift',
        'metadata', jsonb_build_object('gift', true, 'origin', v_gift.origin)), p_now);
      select c.id into v_customer_id from public.customers c where c.user_id = v_user_id and c.email = v_email;
      select * into v_gift from public.gifts g where g.user_id = v_user_id and g.id = v_gift_id for update;
      v_refused := private.gift_refusal(v_gift, v_email, p_now);
      if v_refused is not null then
        raise exception using errcode = 'HG409', message = v_refused;
      end if;
      if v_gift.value is not null then
        select k.id into v_coupon_id from private.issue_coupon(v_user_id, 'gift', 'GIFTED', jsonb_build_object(
          'discountType', 'fixed_amount', 'discountValue', v_gift.value,
          'description', left('Gift from ' || coalesce(v_gift.sender_name, 'a friend') || ' to ' || v_email, 500)),
          p_now + interval '365 days', p_now) k;
      end if;
      update public.gifts g set status = 'claimed', claimed_at = p_now, claimed_by_customer_id = v_customer_id, coupon_id = v_coupon_id,
                                delivered_at = coalesce(g.delivered_at, p_now), delivered_via = coalesce(g.delivered_via, 'klaviyo')
       where g.user_id = v_user_id and g.id = v_gift.id
      returning * into v_gift;
      return jsonb_build_object('outcome', 'claimed', 'gift', private.gift_public(v_gift, p_now), 'coupon', private.gift_coupon(v_gift));
    exception when sqlstate 'HG409' then
      -- Lost the race: the gift as it is now, and nothing of this claim left behind.
      select * into v_gift from public.gifts g where g.user_id = v_user_id and g.id = v_gift_id;
    end;
  end if;
  if v_refused = 'not_found' then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  return jsonb_build_object('outcome', v_refused, 'gift', private.gift_public(v_gift, p_now))
      || case when v_refused = 'already_claimed' then jsonb_build_object('coupon', private.gift_coupon(v_gift)) else '{}'::jsonb end;
end
$$;

/** The coupon a claimed gift gave, as the recipient sees it; null for a gift without a value. */
create or replace function private.gift_coupon(p_gift public.gifts)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object('code', k.code, 'amount', k.discount_value, 'currency', p_gift.currency, 'expiresAt', k.expires_at)
    from public.coupons k where k.user_id = p_gift.user_id and k.id = p_gift.coupon_id
$$;

/**
 * Expire, across merchants, gifts past their expiry that were never claimed: at most p_limit a
 * call, oldest first (the next cron call takes the rest). Their waiting messages
 * stop first (the lock order at the top), gifts another transaction holds are left for the next
 * call. Returns how many expired.
 */
create or replace function private.expire_gifts(p_now timestamptz default now(), p_limit integer default 5000)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_due record;
  v_count integer := 0;
  v_n integer;
begin
  for v_due in
    select g.user_id, array_agg(g.id) as ids
      from (select g.user_id, g.id from public.gifts g
             where g.status in ('pending', 'delivered') and g.expires_at <= p_now
             order by g.expires_at limit p_limit) g
     group by g.user_id
  loop
    perform private.gift_stop_messages(v_due.user_id, v_due.ids, 'The gift expired');
    with due as (
      select g.id from public.gifts g
       where g.user_id = v_due.user_id and g.id = any (v_due.ids) and g.status in ('pending', 'delivered') and g.expires_at <= p_now
         for update skip locked
    )
    update public.gifts g set status = 'expired' from due where g.user_id = v_due.user_id and g.id = due.id;
    get diagnostics v_n = row_count;
    v_count := v_count + v_n;
  end loop;
  return v_count;
end
$$;

/**
 * Order handler: an order whose note attributes name a gift's recipient
 * (gift_recipient_email, gift_recipient_name, gift_message, gift_delivery_date) makes one gift
 * from its customer. A delivery date (YYYY-MM-DD, 9:00 in the store's time zone, or a full
 * timestamp) in the past, unreadable or more than a year out is read as "now" or capped; an
 * address that is not one makes no gift (the order itself still applies).
 */
create or replace function private.gifts_on_order(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_email text;
  v_raw text;
  v_at timestamptz;
  v_customer public.customers;
  v_gift public.gifts;
begin
  select * into v_order from public.orders o where o.user_id = p_user_id and o.id = p_order_id;
  v_email := public.normalize_email(v_order.note_attributes ->> 'gift_recipient_email');
  if v_email is null then
    return null;
  end if;
  -- The rule the claim page's email field holds (zod's), so every recipient can claim.
  if length(v_email) > 254 or v_email !~ '^(?!\.)(?!.*\.\.)[a-z0-9_''+.-]*[a-z0-9_+-]@([a-z0-9][a-z0-9-]*\.)+[a-z]{2,}$' then
    return jsonb_build_object('skipped', 'The gift recipient''s email is not an email address');
  end if;
  v_raw := btrim(v_order.note_attributes ->> 'gift_delivery_date');
  if v_raw ~ '^\d{4}-\d{2}-\d{2}$' then
    begin
      v_at := (v_raw::date + time '09:00') at time zone private.merchant_time_zone(p_user_id);
    exception when others then
      v_at := null;
    end;
  elsif v_raw ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}' then
    begin
      -- A time without an offset is the store's local time.
      v_at := case when v_raw ~ '(Z|[+-]\d{2}(:?\d{2})?)$' then v_raw::timestamptz
                   else v_raw::timestamp at time zone private.merchant_time_zone(p_user_id) end;
    exception when others then
      v_at := null;
    end;
  end if;
  if v_at > p_now + interval '365 days' then
    v_at := p_now + interval '365 days';
  end if;
  select * into v_customer from public.customers c where c.user_id = p_user_id and c.id = v_order.customer_id;
  v_gift := private.create_gift(p_user_id, jsonb_build_object(
    'origin', 'order', 'orderId', v_order.id, 'shopOrderId', v_order.shop_order_id,
    'recipientEmail', v_email,
    'recipientName', left(nullif(btrim(v_order.note_attributes ->> 'gift_recipient_name'), ''), 120),
    'message', left(nullif(btrim(v_order.note_attributes ->> 'gift_message'), ''), 1000),
    'senderCustomerId', v_customer.id, 'senderEmail', case when length(v_order.email) <= 254 then v_order.email end,
    'senderName', left(nullif(btrim(concat_ws(' ', v_customer.first_name, v_customer.last_name)), ''), 120),
    'scheduledDeliveryAt', v_at), p_now);
  return jsonb_build_object('giftId', v_gift.id, 'status', v_gift.status);
end
$$;

/** Cancel handler: an order cancelled before its gift was claimed cancels the gift (and what it had waiting to go). */
create or replace function private.gifts_on_cancel(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_gift_id uuid;
begin
  select g.id into v_gift_id from public.gifts g
   where g.user_id = p_user_id and g.order_id = p_order_id and g.status in ('pending', 'delivered');
  if v_gift_id is null then
    return null;
  end if;
  perform private.gift_stop_messages(p_user_id, array[v_gift_id], 'The order was cancelled');
  update public.gifts g set status = 'cancelled', cancelled_at = p_now
   where g.user_id = p_user_id and g.id = v_gift_id and g.status in ('pending', 'delivered');
  return jsonb_build_object('giftId', v_gift_id, 'cancelled', found);
end
$$;

select private.register_order_handler('order', 'gifts', 400, 'private.gifts_on_order(uuid,uuid,timestamptz)');
select private.register_order_handler('cancel', 'gifts', 400, 'private.gifts_on_cancel(uuid,uuid,timestamptz)');

revoke execute on function private.gift_by_code(bytea), private.gift_from(public.gifts), private.create_gift(uuid, jsonb, timestamptz),
  private.gift_message(public.gifts, timestamptz), private.gift_prepare(uuid, uuid, timestamptz),
  private.gift_on_sent(uuid, uuid, timestamptz), private.gift_stop_messages(uuid, uuid[], text),
  private.lock_open_gift(uuid, uuid, text, timestamptz),
  private.cancel_gift(uuid, uuid, timestamptz), private.resend_gift(uuid, uuid, timestamptz),
  private.gift_link(uuid, uuid, bytea, timestamptz), private.gift_public(public.gifts, timestamptz),
  private.gift_view(bytea, timestamptz), private.gift_refusal(public.gifts, text, timestamptz), private.claim_gift(bytea, text, timestamptz), private.gift_coupon(public.gifts),
  private.expire_gifts(timestamptz, integer), private.gifts_on_order(uuid, uuid, timestamptz),
  private.gifts_on_cancel(uuid, uuid, timestamptz)
  from public;
