-- Coupons, issued by other modules: a loyalty reward, a referral's friend reward or a win-back
-- incentive is a single-use coupon that only this module creates, with a code from a
-- cryptographic source, so every rule that holds for a coupon (limits, redemption in the order
-- pipeline, expiry) holds for it too.

/**
 * A code of p_length characters from 32 symbols without look-alikes (no 0, O, I or L): 5 bits
 * of a random byte each, from gen_random_uuid (the server's strong random source), skipping
 * the version and variant bytes. 10 characters carry 50 bits, 12 carry 60.
 */
create or replace function private.random_code(p_length integer)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_alphabet constant text := '123456789ABCDEFGHJKMNPQRSTUVWXYZ';
  v_bytes bytea := '';
  v_code text := '';
  v_uuid bytea;
begin
  if p_length < 1 or p_length > 40 then
    raise exception 'A code has 1 to 40 characters';
  end if;
  while length(v_bytes) < p_length loop
    v_uuid := uuid_send(gen_random_uuid());
    v_bytes := v_bytes || substring(v_uuid from 1 for 6) || substring(v_uuid from 10 for 7);
  end loop;
  for i in 0 .. p_length - 1 loop
    v_code := v_code || substr(v_alphabet, 1 + (get_byte(v_bytes, i) % 32), 1);
  end loop;
  return v_code;
end
$$;

/**
 * Issue one single-use coupon for another module (p_source: loyalty, referral, winback):
 * code PREFIX-XXXXXXXXXX, usable once by anyone it is given to, valid from now until
 * p_expires_at. p_terms: {discountType, discountValue?, minimumPurchase?, productIds?,
 * description?}. Returns the coupon's id and code.
 */
create or replace function private.issue_coupon(p_user_id uuid, p_source text, p_prefix text, p_terms jsonb,
                                                 p_expires_at timestamptz default null, p_now timestamptz default now())
returns table (id uuid, code text)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_code text;
  v_id uuid;
begin
  if p_source not in ('loyalty', 'referral', 'winback') then
    raise exception 'Coupons issued for other modules come from loyalty, referral or winback';
  end if;
  if p_prefix !~ '^[A-Z0-9]{2,12}$' then
    raise exception 'A coupon prefix is 2 to 12 letters or digits';
  end if;
  -- 50 random bits: a collision is retried rather than trusted never to happen.
  for attempt in 1 .. 5 loop
    v_code := p_prefix || '-' || private.random_code(10);
    insert into public.coupons as c (user_id, code, source, discount_type, discount_value, usage_limit, per_customer_limit,
                                     minimum_purchase, product_ids, description, starts_at, expires_at)
    values (p_user_id, v_code, p_source, p_terms ->> 'discountType', (p_terms ->> 'discountValue')::numeric, 1, 1,
            (p_terms ->> 'minimumPurchase')::numeric,
            coalesce(array(select jsonb_array_elements_text(p_terms -> 'productIds')), '{}'),
            left(p_terms ->> 'description', 500), p_now, p_expires_at)
    on conflict on constraint coupons_user_id_code_key do nothing
    returning c.id into v_id;
    if v_id is not null then
      return query select v_id, v_code;
      return;
    end if;
  end loop;
  raise exception 'Could not find a free coupon code';
end
$$;
revoke execute on function private.random_code(integer) from public;
revoke execute on function private.issue_coupon(uuid, text, text, jsonb, timestamptz, timestamptz) from public;
