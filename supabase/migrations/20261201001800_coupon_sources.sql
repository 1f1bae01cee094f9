-- Where coupons come from, as a registry instead of a list written into the coupons table and
-- into issue_coupon: a module that issues coupons (loyalty, referrals, win-back, gifts)
-- registers its source from its own migration, and neither the table nor the function is
-- edited again for it. A coupon's source is a foreign key into the registry, so a row can only
-- name a source that exists (the merchant's own 'manual' and 'bulk' included).

create table private.coupon_sources (
  source text primary key check (source ~ '^[a-z][a-z0-9_]{0,30}$'),
  -- Whether issue_coupon may issue for it (a module's); the merchant's own sources are not.
  issued boolean not null
);
insert into private.coupon_sources (source, issued) values
  ('manual', false), ('bulk', false), ('loyalty', true), ('referral', true), ('winback', true);

alter table public.coupons drop constraint coupons_source_check;
alter table public.coupons add constraint coupons_source_fkey foreign key (source) references private.coupon_sources (source);

/** Register a module's coupon source (idempotent). */
create or replace function private.register_coupon_source(p_source text)
returns void
language sql
volatile
set search_path = ''
as $$
  insert into private.coupon_sources (source, issued) values (p_source, true)
  on conflict (source) do update set issued = true
$$;
revoke execute on function private.register_coupon_source(text) from public;

/**
 * Issue one single-use coupon for another module (p_source: a registered source):
 * code PREFIX-XXXXXXXXXX, usable once by anyone it is given to, valid from now until
 * p_expires_at. p_terms: {discountType, discountValue?, minimumPurchase?, productIds?,
 * firstTimeOnly?, description?}. Returns the coupon's id and code. As in migration 0700, but
 * the sources are the registry's.
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
  if not exists (select 1 from private.coupon_sources s where s.source = p_source and s.issued) then
    raise exception 'Coupons issued for other modules come from a registered source, not %', p_source;
  end if;
  if p_prefix !~ '^[A-Z0-9]{2,12}$' then
    raise exception 'A coupon prefix is 2 to 12 letters or digits';
  end if;
  -- 50 random bits: a collision is retried rather than trusted never to happen.
  for attempt in 1 .. 5 loop
    v_code := p_prefix || '-' || private.random_code(10);
    insert into public.coupons as c (user_id, code, source, discount_type, discount_value, usage_limit, per_customer_limit,
                                     minimum_purchase, product_ids, first_time_only, description, starts_at, expires_at)
    values (p_user_id, v_code, p_source, p_terms ->> 'discountType', (p_terms ->> 'discountValue')::numeric, 1, 1,
            (p_terms ->> 'minimumPurchase')::numeric,
            coalesce(array(select jsonb_array_elements_text(p_terms -> 'productIds')), '{}'),
            coalesce((p_terms ->> 'firstTimeOnly')::boolean, false), left(p_terms ->> 'description', 500), p_now, p_expires_at)
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
revoke execute on function private.issue_coupon(uuid, text, text, jsonb, timestamptz, timestamptz) from public;
