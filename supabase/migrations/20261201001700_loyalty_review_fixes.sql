-- What the loyalty review (stop 16, "Loyalty, after an outside review" and "A retried
-- redemption spends once") changed in migrations 0700, 0800 and 0900 after they had landed:
-- those three files are back as they landed, and the changes are here, as a migration should
-- have carried them. Each function below replaces the landed one whole; the table changes are
-- written to apply to a database migrated with the landed files.
--   coupons:   issue_coupon takes firstTimeOnly (a referral's friend coupon is for a first order).
--   loyalty:   the merchant's program lock behind every member lock (no deadlock with a change of
--              tiers); a clawback takes its own order's lot first; earnings capped at 10,000,000 a
--              row; a free product is its price off; a retried redemption spends once (requestId);
--              tiers by spend or orders follow the order, refund and cancel handlers; list indexes.
--   referrals: sign-up points only from the merchant's backend (not a storefront lead); self-
--              referral by +tags and rings refused; a claim converts only by its coupon; a refused
--              claim's coupon withdrawn; at most 100 pending claims a member.
-- A local database migrated with the edited files reports drift on them: `npm run db:reset`.

-- ---- Coupons -------------------------------------------------------------------------------
/**
 * Issue one single-use coupon for another module (p_source: loyalty, referral, winback):
 * code PREFIX-XXXXXXXXXX, usable once by anyone it is given to, valid from now until
 * p_expires_at. p_terms: {discountType, discountValue?, minimumPurchase?, productIds?,
 * firstTimeOnly?, description?}. Returns the coupon's id and code.
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
revoke execute on function private.random_code(integer) from public;
revoke execute on function private.issue_coupon(uuid, text, text, jsonb, timestamptz, timestamptz) from public;

-- ---- Loyalty -------------------------------------------------------------------------------
create index if not exists loyalty_members_earned_idx on public.loyalty_members (user_id, points_earned desc, customer_id);
create index if not exists loyalty_members_joined_idx on public.loyalty_members (user_id, joined_at desc, customer_id);

-- A reward's terms: a CHECK that comes out null passes, so a missing value must come out false;
-- a free product carries its price (the code takes up to that much off). Rewards saved under the
-- landed rule are not re-checked (NOT VALID); every new or changed one is.
do $$
declare
  v_name text;
begin
  select c.conname into v_name from pg_catalog.pg_constraint c
   where c.conrelid = 'public.loyalty_rewards'::regclass and c.contype = 'c'
     and pg_catalog.pg_get_constraintdef(c.oid) like '%free_product%';
  if v_name is not null then
    execute format('alter table public.loyalty_rewards drop constraint %I', v_name);
  end if;
end
$$;
alter table public.loyalty_rewards add constraint loyalty_rewards_terms_check check (coalesce(case reward_type
           when 'percentage_discount' then reward_value > 0 and reward_value <= 100
           when 'fixed_discount' then reward_value > 0
           when 'free_shipping' then reward_value is null
           when 'free_product' then reward_product_id is not null and reward_value > 0
         end, false)) not valid;

-- The redemption takes the caller's request id now: the old signature goes, not kept as an overload.
drop function if exists private.loyalty_redeem(uuid, uuid, uuid, timestamptz);

/** The merchant's program lock: shared by every writer of a member, exclusive for a change of every member's tier. */
create or replace function private.lock_loyalty(p_user_id uuid, p_exclusive boolean default false)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if p_exclusive then
    perform pg_advisory_xact_lock(hashtextextended('loyalty/' || p_user_id::text, 0));
  else
    perform pg_advisory_xact_lock_shared(hashtextextended('loyalty/' || p_user_id::text, 0));
  end if;
end
$$;

/** The member row of a customer, created on first use with a referral code of its own; locked. */
create or replace function private.loyalty_member(p_user_id uuid, p_customer_id uuid)
returns public.loyalty_members
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_member public.loyalty_members;
begin
  -- Every member lock is taken behind the merchant's program lock (shared), which a change of
  -- tiers takes exclusive before it moves every member: the two can never wait on each other.
  perform private.lock_loyalty(p_user_id);
  -- No key update: rows that reference the member (redemptions, referrals) can still be added.
  select * into v_member from public.loyalty_members m
   where m.user_id = p_user_id and m.customer_id = p_customer_id
   for no key update;
  if found then
    return v_member;
  end if;
  if not exists (select 1 from public.customers c where c.user_id = p_user_id and c.id = p_customer_id) then
    raise exception 'Customer not found' using errcode = 'HH404';
  end if;
  for attempt in 1 .. 5 loop
    begin
      insert into public.loyalty_members (user_id, customer_id, referral_code)
      values (p_user_id, p_customer_id, private.random_code(8))
      on conflict (user_id, customer_id) do nothing;
      exit;
    exception when unique_violation then
      -- The referral code was taken (1 in 2^40 per member): draw again.
      null;
    end;
  end loop;
  select * into v_member from public.loyalty_members m
   where m.user_id = p_user_id and m.customer_id = p_customer_id
   for no key update;
  return v_member;
end
$$;

/**
 * The one writer of the ledger. Under the member's row lock: a row of p_points (positive or
 * negative) after the member's last row, the balance and lifetime figures moved with it, and
 * the lots: a positive row is a new lot, a negative one takes from the lots that expire first.
 * Idempotent on (type, source): a row already posted for that source returns null. A
 * negative row larger than the balance raises HH409 unless p_partial, which takes what there
 * is and records the rest as the row's shortfall (clawbacks). Returns the row's seq.
 */
create or replace function private.loyalty_post(
  p_user_id uuid,
  p_customer_id uuid,
  p_type text,
  p_points integer,
  p_source text,
  p_description text default null,
  p_now timestamptz default now(),
  p_author uuid default null,
  p_partial boolean default false,
  p_order_id uuid default null
)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_member public.loyalty_members;
  v_points integer := p_points;
  v_shortfall integer := 0;
  v_seq integer;
  v_expires timestamptz;
  v_months integer;
  v_own_lot integer;
begin
  v_member := private.loyalty_member(p_user_id, p_customer_id);
  if p_source is not null and exists (
    select 1 from public.points_transactions t
     where t.user_id = p_user_id and t.customer_id = p_customer_id and t.type = p_type and t.source = p_source
  ) then
    return null;
  end if;
  if v_member.points_balance + v_points < 0 then
    if not p_partial then
      raise exception 'Not enough points: the balance is %, this needs %', v_member.points_balance, -v_points using errcode = 'HH409';
    end if;
    v_shortfall := -(v_member.points_balance + v_points);
    v_points := -v_member.points_balance;
  end if;
  if v_points = 0 and v_shortfall = 0 then
    return null;
  end if;
  if v_points > 0 then
    select p.expiry_months into v_months from public.loyalty_programs p where p.user_id = p_user_id;
    v_expires := case when v_months is not null then p_now + make_interval(months => v_months) end;
  end if;
  v_seq := v_member.last_seq + 1;
  insert into public.points_transactions (user_id, customer_id, seq, type, points, balance_before, balance_after, source,
                                          order_id, shortfall, description, author_id, expires_at, created_at)
  values (p_user_id, p_customer_id, v_seq, p_type, v_points, v_member.points_balance, v_member.points_balance + v_points,
          p_source, p_order_id, v_shortfall, left(p_description, 500), p_author, v_expires, p_now);
  if v_points > 0 then
    insert into public.points_lots (user_id, customer_id, seq, points, remaining, expires_at)
    values (p_user_id, p_customer_id, v_seq, v_points, v_points, v_expires);
  elsif v_points < 0 then
    -- A clawback takes the points its order earned first (so a refund cannot trade expiring
    -- points for fresh ones); everything else, and the rest, the open lots soonest to expire first.
    if p_order_id is not null then
      select t.seq into v_own_lot from public.points_transactions t
       where t.user_id = p_user_id and t.customer_id = p_customer_id and t.order_id = p_order_id and t.points > 0
       order by t.seq limit 1;
    end if;
    with open as (
      select l.seq, l.remaining,
             sum(l.remaining) over (order by (l.seq = v_own_lot) desc nulls last, l.expires_at nulls last, l.seq) - l.remaining as before_it
        from public.points_lots l
       where l.user_id = p_user_id and l.customer_id = p_customer_id and l.remaining > 0
    )
    update public.points_lots l
       set remaining = l.remaining - least(o.remaining, -v_points - o.before_it)
      from open o
     where l.user_id = p_user_id and l.customer_id = p_customer_id and l.seq = o.seq and o.before_it < -v_points;
  end if;
  update public.loyalty_members m
     set points_balance = m.points_balance + v_points,
         last_seq = v_seq,
         points_earned = m.points_earned + case when p_type like 'earn\_%' or p_type = 'clawback' then v_points else 0 end,
         points_redeemed = m.points_redeemed + case p_type when 'redeem' then -v_points when 'redeem_return' then -v_points else 0 end,
         points_expired = m.points_expired + case when p_type = 'expire' then -v_points else 0 end
   where m.user_id = p_user_id and m.customer_id = p_customer_id;
  perform private.loyalty_refresh_tier(p_user_id, p_customer_id, p_now);
  return v_seq;
end
$$;

/**
 * Earn points (S28: returns what was credited). Purchases are multiplied by the member's tier;
 * other kinds are credited as given. Nothing when the program is off or the source was
 * already credited.
 */
create or replace function private.loyalty_earn(p_user_id uuid, p_customer_id uuid, p_type text, p_points integer,
                                                p_source text, p_description text default null, p_now timestamptz default now(),
                                                p_author uuid default null, p_order_id uuid default null)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_multiplier numeric := 1;
  v_points integer;
  v_seq integer;
begin
  if p_type not like 'earn\_%' then
    raise exception 'Not a way to earn: %', p_type;
  end if;
  if not exists (select 1 from public.loyalty_programs p where p.user_id = p_user_id and p.enabled) or p_points <= 0 then
    return 0;
  end if;
  if p_type = 'earn_purchase' then
    perform private.loyalty_member(p_user_id, p_customer_id);
    select coalesce(t.points_multiplier, 1) into v_multiplier
      from public.loyalty_members m
      left join public.loyalty_tiers t on t.user_id = m.user_id and t.id = m.tier_id
     where m.user_id = p_user_id and m.customer_id = p_customer_id;
  end if;
  -- In numeric, and at most 10,000,000 a row: no order total or multiplier can overflow a balance.
  v_points := least(floor(p_points::numeric * coalesce(v_multiplier, 1)), 10000000)::integer;
  if v_points <= 0 then
    return 0;
  end if;
  v_seq := private.loyalty_post(p_user_id, p_customer_id, p_type, v_points, p_source, p_description, p_now, p_author, false, p_order_id);
  return case when v_seq is null then 0 else v_points end;
end
$$;

/**
 * Redeem a reward for a member, in one transaction (S3): the reward row is locked first
 * (inventory, counts), then the member's (balance). Eligibility by tier order, not tier id
 * (S25), orders placed, the per-member limit and the date window; then the coupon from the
 * coupon module, the ledger row and the redemption. Refusals raise HH404 / HH409 / HH422 with
 * the reason. With p_request_id (the caller's id for this request), a retry of a redemption
 * that went through returns that redemption instead of spending again. Returns
 * {redemptionId, code, couponId, pointsSpent, balance, expiresAt}.
 */
create or replace function private.loyalty_redeem(p_user_id uuid, p_customer_id uuid, p_reward_id uuid, p_now timestamptz default now(),
                                                  p_request_id text default null)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_reward public.loyalty_rewards;
  v_member public.loyalty_members;
  v_need_order integer;
  v_have_order integer;
  v_orders integer;
  v_used integer;
  v_coupon record;
  v_seq integer;
  v_id uuid := gen_random_uuid();
  v_expires timestamptz;
  v_replay jsonb;
begin
  if not exists (select 1 from public.loyalty_programs p where p.user_id = p_user_id and p.enabled) then
    raise exception 'The loyalty program is switched off' using errcode = 'HH409';
  end if;
  select * into v_reward from public.loyalty_rewards r
   where r.user_id = p_user_id and r.id = p_reward_id and r.deleted_at is null
   for no key update;
  if not found then
    raise exception 'Reward not found' using errcode = 'HH404';
  end if;
  v_member := private.loyalty_member(p_user_id, p_customer_id);
  -- A retry of a request that went through (the member's row is held, so this is the only one).
  if p_request_id is not null then
    select jsonb_build_object('redemptionId', rr.id, 'code', rr.code, 'couponId', rr.coupon_id, 'pointsSpent', rr.points_spent,
                              'balance', v_member.points_balance, 'expiresAt', rr.expires_at)
      into v_replay
      from public.points_transactions t
      join public.reward_redemptions rr on rr.user_id = t.user_id and rr.customer_id = t.customer_id and rr.seq = t.seq
     where t.user_id = p_user_id and t.customer_id = p_customer_id and t.type = 'redeem' and t.source = 'request:' || p_request_id;
    if v_replay is not null then
      return v_replay;
    end if;
  end if;
  if not v_reward.is_active or (v_reward.starts_at is not null and p_now < v_reward.starts_at)
     or (v_reward.ends_at is not null and p_now >= v_reward.ends_at) then
    raise exception 'This reward is not available now' using errcode = 'HH422';
  end if;
  if v_reward.total_available is not null and v_reward.total_redeemed >= v_reward.total_available then
    raise exception 'This reward is sold out' using errcode = 'HH409';
  end if;
  if v_reward.min_tier_id is not null then
    select t.tier_order into v_need_order from public.loyalty_tiers t where t.user_id = p_user_id and t.id = v_reward.min_tier_id;
    select t.tier_order into v_have_order from public.loyalty_tiers t where t.user_id = p_user_id and t.id = v_member.tier_id;
    if v_have_order is null or v_have_order < v_need_order then
      raise exception 'This reward is for % members and above', (select t.name from public.loyalty_tiers t where t.user_id = p_user_id and t.id = v_reward.min_tier_id)
        using errcode = 'HH422';
    end if;
  end if;
  if v_reward.min_orders is not null then
    select c.total_orders into v_orders from public.customers c where c.user_id = p_user_id and c.id = p_customer_id;
    if v_orders < v_reward.min_orders then
      raise exception 'This reward needs % orders first (the member has %)', v_reward.min_orders, v_orders using errcode = 'HH422';
    end if;
  end if;
  if v_reward.redemption_limit is not null then
    select count(*) into v_used from public.reward_redemptions rr
     where rr.user_id = p_user_id and rr.customer_id = p_customer_id and rr.reward_id = p_reward_id and rr.status <> 'cancelled';
    if v_used >= v_reward.redemption_limit then
      raise exception 'This member has already redeemed this reward % time(s), the limit', v_used using errcode = 'HH422';
    end if;
  end if;
  if v_member.points_balance < v_reward.points_cost then
    raise exception 'Not enough points: the balance is %, this reward costs %', v_member.points_balance, v_reward.points_cost
      using errcode = 'HH409';
  end if;

  v_expires := p_now + make_interval(days => v_reward.code_valid_days);
  select * into v_coupon from private.issue_coupon(p_user_id, 'loyalty', 'REWARD', jsonb_build_object(
    -- A free product is its price off an order that has the product (never a share of the whole cart).
    'discountType', case v_reward.reward_type when 'percentage_discount' then 'percentage' when 'free_shipping' then 'free_shipping'
                                              else 'fixed_amount' end,
    'discountValue', case v_reward.reward_type when 'free_shipping' then null else v_reward.reward_value end,
    'minimumPurchase', v_reward.minimum_purchase,
    'productIds', case when v_reward.reward_type = 'free_product' then jsonb_build_array(v_reward.reward_product_id) else '[]'::jsonb end,
    'description', 'Loyalty reward: ' || v_reward.name), v_expires, p_now);
  v_seq := private.loyalty_post(p_user_id, p_customer_id, 'redeem', -v_reward.points_cost,
                                case when p_request_id is null then 'redemption:' || v_id else 'request:' || p_request_id end,
                                v_reward.name, p_now);
  insert into public.reward_redemptions (id, user_id, customer_id, reward_id, seq, points_spent, coupon_id, code, expires_at, created_at)
  values (v_id, p_user_id, p_customer_id, p_reward_id, v_seq, v_reward.points_cost, v_coupon.id, v_coupon.code, v_expires, p_now);
  update public.loyalty_rewards r set total_redeemed = r.total_redeemed + 1 where r.user_id = p_user_id and r.id = p_reward_id;
  return jsonb_build_object('redemptionId', v_id, 'code', v_coupon.code, 'couponId', v_coupon.id, 'pointsSpent', v_reward.points_cost,
                            'balance', v_member.points_balance - v_reward.points_cost, 'expiresAt', v_expires);
end
$$;

/**
 * Cron: expire the lots past their date, one 'expire' row per member for what those lots still
 * hold (spent points are gone from the lots already, S26). Members another transaction holds
 * are left for the next run. Returns {members, points}.
 */
create or replace function private.loyalty_expire(p_now timestamptz default now(), p_limit integer default 5000)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  r record;
  v_members integer := 0;
  v_points integer := 0;
  v_due integer;
begin
  -- The program locks of the merchants concerned, before any member's row (as loyalty_member does).
  perform private.lock_loyalty(x.user_id)
     from (select distinct l.user_id from public.points_lots l where l.remaining > 0 and l.expires_at <= p_now) x;
  for r in
    with due as (
      select distinct l.user_id, l.customer_id from public.points_lots l
       where l.remaining > 0 and l.expires_at <= p_now
       limit p_limit
    )
    select m.user_id, m.customer_id from public.loyalty_members m
     where (m.user_id, m.customer_id) in (select due.user_id, due.customer_id from due)
     order by m.user_id, m.customer_id
     for no key update of m skip locked
  loop
    select coalesce(sum(l.remaining), 0)::integer into v_due from public.points_lots l
     where l.user_id = r.user_id and l.customer_id = r.customer_id and l.remaining > 0 and l.expires_at <= p_now;
    if v_due > 0 then
      -- The expiring lots are the first to be taken (they expire soonest), so exactly they go.
      perform private.loyalty_post(r.user_id, r.customer_id, 'expire', -v_due, null, 'Points expired', p_now);
      v_members := v_members + 1;
      v_points := v_points + v_due;
    end if;
  end loop;
  return jsonb_build_object('members', v_members, 'points', v_points);
end
$$;

/**
 * A tier reached by spend or orders moves with the customer's figures (the journey handler's),
 * whether or not points were posted: refreshed from the order, refund and cancel handlers.
 */
create or replace function private.loyalty_touch_tier(p_user_id uuid, p_customer_id uuid, p_now timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if p_customer_id is not null
     and exists (select 1 from public.loyalty_programs p where p.user_id = p_user_id and p.tier_basis <> 'points')
     and exists (select 1 from public.loyalty_members m where m.user_id = p_user_id and m.customer_id = p_customer_id) then
    perform private.loyalty_member(p_user_id, p_customer_id);
    perform private.loyalty_refresh_tier(p_user_id, p_customer_id, p_now);
  end if;
end
$$;

/** Order handler: purchase points for the order's total (tier multiplier applied), once per order (S5). */
create or replace function private.loyalty_on_order(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_rate numeric;
  v_points integer;
begin
  -- A reward's coupon used in this order (the coupons handler ran before) is used now.
  update public.reward_redemptions rr
     set status = 'used', used_at = p_now, used_order_id = p_order_id
    from public.coupon_uses u
   where u.user_id = p_user_id and u.order_id = p_order_id and u.status = 'accepted'
     and rr.user_id = p_user_id and rr.coupon_id = u.coupon_id and rr.status = 'issued';
  select p.points_per_unit into v_rate from public.loyalty_programs p where p.user_id = p_user_id and p.enabled;
  if v_rate is null then
    return jsonb_build_object('points', 0);
  end if;
  select * into v_order from public.orders o where o.user_id = p_user_id and o.id = p_order_id;
  if v_order.customer_id is null or v_order.cancelled_at is not null then
    return jsonb_build_object('points', 0);
  end if;
  v_points := private.loyalty_earn(p_user_id, v_order.customer_id, 'earn_purchase', least(floor(v_order.total * v_rate), 10000000)::integer,
                                   'order:' || p_order_id, 'Order ' || v_order.shop_order_id, p_now, null, p_order_id);
  perform private.loyalty_touch_tier(p_user_id, v_order.customer_id, p_now);
  return jsonb_build_object('points', v_points);
end
$$;

/**
 * Refund handler: the points the order earned are taken back in proportion to what has been
 * refunded of it (rounded so that a full refund takes exactly all of them), never below zero:
 * what the balance cannot cover is the row's shortfall.
 */
create or replace function private.loyalty_on_refund(p_user_id uuid, p_refund_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v record;
  v_points record;
  v_target integer;
  v_seq integer;
begin
  select r.amount, o.id as order_id, o.shop_order_id, o.customer_id, o.total, o.refunded_total, o.cancelled_at into v
    from public.order_refunds r
    join public.orders o on o.user_id = r.user_id and o.id = r.order_id
   where r.user_id = p_user_id and r.id = p_refund_id;
  if v.customer_id is null or v.cancelled_at is not null or v.total = 0
     or not exists (select 1 from public.loyalty_members m where m.user_id = p_user_id and m.customer_id = v.customer_id) then
    return jsonb_build_object('points', 0);
  end if;
  perform private.loyalty_member(p_user_id, v.customer_id);
  select * into v_points from private.loyalty_order_points(p_user_id, v.customer_id, v.order_id);
  v_target := least(round(v_points.earned * least(v.refunded_total / v.total, 1))::integer, v_points.earned) - v_points.taken;
  if v_target <= 0 then
    perform private.loyalty_touch_tier(p_user_id, v.customer_id, p_now);
    return jsonb_build_object('points', 0);
  end if;
  v_seq := private.loyalty_post(p_user_id, v.customer_id, 'clawback', -v_target, 'refund:' || p_refund_id,
                                'Refund of order ' || v.shop_order_id, p_now, null, true, v.order_id);
  perform private.loyalty_touch_tier(p_user_id, v.customer_id, p_now);
  return jsonb_build_object('points', -v_target);
end
$$;

/** Cancel handler: whatever the order's points still count is taken back (never below zero). */
create or replace function private.loyalty_on_cancel(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_points record;
  v_left integer;
begin
  select * into v_order from public.orders o where o.user_id = p_user_id and o.id = p_order_id;
  -- A reward's coupon this order used is released by the coupons handler: the reward can be used again.
  update public.reward_redemptions rr set status = 'issued', used_at = null, used_order_id = null
   where rr.user_id = p_user_id and rr.used_order_id = p_order_id and rr.status = 'used';
  if v_order.customer_id is null
     or not exists (select 1 from public.loyalty_members m where m.user_id = p_user_id and m.customer_id = v_order.customer_id) then
    return jsonb_build_object('points', 0);
  end if;
  perform private.loyalty_member(p_user_id, v_order.customer_id);
  select * into v_points from private.loyalty_order_points(p_user_id, v_order.customer_id, p_order_id);
  v_left := v_points.earned - v_points.taken;
  if v_left <= 0 then
    perform private.loyalty_touch_tier(p_user_id, v_order.customer_id, p_now);
    return jsonb_build_object('points', 0);
  end if;
  perform private.loyalty_post(p_user_id, v_order.customer_id, 'clawback', -v_left, 'cancel:' || p_order_id,
                               'Cancellation of order ' || v_order.shop_order_id, p_now, null, true, p_order_id);
  perform private.loyalty_touch_tier(p_user_id, v_order.customer_id, p_now);
  return jsonb_build_object('points', -v_left);
end
$$;

-- ---- Referrals -----------------------------------------------------------------------------
-- Sign-up points come from the merchant's backend (private.loyalty_signup), no longer from a
-- lead captured by the public storefront tracking.
drop trigger if exists customers_loyalty_lead_insert on public.customers;
drop trigger if exists customers_loyalty_lead_update on public.customers;
drop function if exists private.loyalty_on_lead();

/** An email without its +tag: a+1@x.com and a@x.com are one person to a referral's checks. */
create or replace function private.email_person(p_email text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$ select split_part(split_part(p_email, '@', 1), '+', 1) || '@' || split_part(p_email, '@', 2) $$;

/**
 * Signing up: the program's signup points, once per customer, when the merchant's backend
 * reports that the shopper created an account (the storefront's tracking is public, so a lead
 * captured there cannot mint points). Returns the points credited (0 for a replay or when
 * signing up earns nothing).
 */
create or replace function private.loyalty_signup(p_user_id uuid, p_email text, p_now timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_points integer;
  v_customer uuid;
  v_email text := public.normalize_email(p_email);
begin
  if v_email is null then
    raise exception 'A valid email is needed' using errcode = 'HH422';
  end if;
  select p.signup_points into v_points from public.loyalty_programs p where p.user_id = p_user_id and p.enabled;
  if v_points is null then
    return 0;
  end if;
  insert into public.customers (user_id, email, created_at) values (p_user_id, v_email, p_now)
  on conflict (user_id, email) do nothing;
  select c.id into v_customer from public.customers c where c.user_id = p_user_id and c.email = v_email;
  return private.loyalty_earn(p_user_id, v_customer, 'earn_signup', v_points, 'signup', 'Created an account', p_now);
end
$$;

/**
 * A friend claims a member's referral link from the storefront: a pending referral, and the
 * friend's reward (a single-use coupon from the coupon module) at once. Refused for the
 * member's own email, a friend who has already ordered, or one already referred; a second
 * claim of the same pending referral returns the same coupon. Returns {referralId, code, status}.
 */
create or replace function private.referral_claim(p_user_id uuid, p_code text, p_email text, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_email text := public.normalize_email(p_email);
  v_referrer public.loyalty_members;
  v_program public.loyalty_programs;
  v_existing public.referrals;
  v_coupon record;
  v_id uuid;
begin
  select * into v_program from public.loyalty_programs p where p.user_id = p_user_id and p.enabled;
  if not found then
    raise exception 'The loyalty program is switched off' using errcode = 'HH409';
  end if;
  if v_email is null then
    raise exception 'A valid email is needed' using errcode = 'HH422';
  end if;
  select * into v_referrer from public.loyalty_members m where m.user_id = p_user_id and m.referral_code = upper(btrim(p_code));
  if not found then
    raise exception 'Referral code not found' using errcode = 'HH404';
  end if;
  -- One claim at a time per friend: the same email claiming twice at once gets one referral.
  perform pg_advisory_xact_lock(hashtextextended('referral/' || p_user_id::text || '/' || v_email, 0));
  if exists (select 1 from public.customers c where c.user_id = p_user_id and c.id = v_referrer.customer_id
               and private.email_person(c.email) = private.email_person(v_email)) then
    raise exception 'You cannot refer yourself' using errcode = 'HH422';
  end if;
  -- A member cannot open an unbounded number of claims (each one is a coupon).
  if (select count(*) from public.referrals r where r.user_id = p_user_id and r.referrer_id = v_referrer.customer_id and r.status = 'pending') >= 100 then
    raise exception 'This member has 100 referrals waiting for a first order; no more for now' using errcode = 'HH429';
  end if;
  select * into v_existing from public.referrals r where r.user_id = p_user_id and r.friend_email = v_email and r.status <> 'rejected';
  if found then
    if v_existing.status = 'pending' and v_existing.referrer_id = v_referrer.customer_id then
      return jsonb_build_object('referralId', v_existing.id, 'code', v_existing.friend_code, 'status', 'pending');
    end if;
    raise exception 'This email has already been referred' using errcode = 'HH409';
  end if;
  if exists (select 1 from public.orders o where o.user_id = p_user_id and o.email = v_email and o.cancelled_at is null) then
    raise exception 'Referrals are for new customers; this email has already ordered' using errcode = 'HH422';
  end if;
  select * into v_coupon from private.issue_coupon(p_user_id, 'referral', 'FRIEND', jsonb_build_object(
    'discountType', v_program.friend_reward_type, 'discountValue', v_program.friend_reward_value,
    'minimumPurchase', v_program.friend_minimum_purchase, 'firstTimeOnly', true, 'description', 'Referral: a friend''s first order'),
    p_now + interval '90 days', p_now);
  insert into public.referrals (user_id, referrer_id, code, friend_email, friend_customer_id, friend_coupon_id, friend_code, created_at)
  values (p_user_id, v_referrer.customer_id, v_referrer.referral_code, v_email,
          (select c.id from public.customers c where c.user_id = p_user_id and c.email = v_email),
          v_coupon.id, v_coupon.code, p_now)
  returning id into v_id;
  return jsonb_build_object('referralId', v_id, 'code', v_coupon.code, 'status', 'pending');
end
$$;

/**
 * Order handler: the friend's order converts a referral. The referral is the friend's claim
 * whose coupon this order used, or else one made from a member's code among the order's
 * discount codes or in a `referral_code` note attribute (a pending claim of the same member for
 * this email is that referral). Only a friend's first standing order converts: the referrer
 * earns referral_percent of the order in points (once: the source is the referral) and,
 * without an earlier claim, the friend gets the reward coupon for a next order. Refusals are
 * rows with their reason: the member's own order (the same customer or email, +tags aside, or
 * a friend who referred the member), a customer who had ordered before, a friend already
 * referred. A refused claim's unused coupon is withdrawn.
 */
create or replace function private.referrals_on_order(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_program public.loyalty_programs;
  v_referral public.referrals;
  v_referrer public.loyalty_members;
  v_referrer_email text;
  v_code text;
  v_reason text;
  v_points integer;
  v_coupon record;
begin
  select * into v_program from public.loyalty_programs p where p.user_id = p_user_id and p.enabled;
  if not found then
    return jsonb_build_object('referral', null);
  end if;
  select * into v_order from public.orders o where o.user_id = p_user_id and o.id = p_order_id;
  if v_order.customer_id is null or v_order.cancelled_at is not null then
    return jsonb_build_object('referral', null);
  end if;
  -- The claim whose (single-use) coupon this order used.
  select r.* into v_referral from public.referrals r
   where r.user_id = p_user_id and r.status = 'pending'
     and r.friend_coupon_id in (select u.coupon_id from public.coupon_uses u
                                 where u.user_id = p_user_id and u.order_id = p_order_id and u.status = 'accepted')
   limit 1;
  if v_referral.id is null then
    -- Or a member's code, as a discount code or a note attribute.
    select m.* into v_referrer from public.loyalty_members m
     where m.user_id = p_user_id
       and m.referral_code in (select d.code from public.order_discount_codes d where d.user_id = p_user_id and d.order_id = p_order_id
                               union all
                               select upper(btrim(v_order.note_attributes ->> 'referral_code')))
     limit 1;
    if v_referrer.customer_id is null then
      return jsonb_build_object('referral', null);
    end if;
    v_code := v_referrer.referral_code;
  else
    select m.* into v_referrer from public.loyalty_members m where m.user_id = p_user_id and m.customer_id = v_referral.referrer_id;
    v_code := v_referral.code;
  end if;
  perform pg_advisory_xact_lock(hashtextextended('referral/' || p_user_id::text || '/' || v_order.email, 0));
  select c.email into v_referrer_email from public.customers c where c.user_id = p_user_id and c.id = v_referrer.customer_id;
  if v_referral.id is null then
    -- A pending claim of this member for this email is the referral the code completes.
    select r.* into v_referral from public.referrals r
     where r.user_id = p_user_id and r.friend_email = v_order.email and r.status = 'pending' and r.referrer_id = v_referrer.customer_id;
  end if;
  if v_referral.id is not null then
    -- Held from here: two orders cannot both convert it.
    select r.* into v_referral from public.referrals r where r.user_id = p_user_id and r.id = v_referral.id for update;
    if v_referral.status <> 'pending' then
      v_referral := null;
    end if;
  end if;

  if v_referrer.customer_id = v_order.customer_id
     or private.email_person(v_referrer_email) = private.email_person(v_order.email)
     or exists (select 1 from public.referrals r where r.user_id = p_user_id and r.status <> 'rejected'
                  and r.referrer_id = v_order.customer_id and r.friend_customer_id = v_referrer.customer_id) then
    v_reason := 'self_referral';
  elsif v_referral.id is null and exists (select 1 from public.referrals r where r.user_id = p_user_id and r.friend_email = v_order.email
                                            and r.status <> 'rejected') then
    v_reason := 'already_referred';
  elsif exists (select 1 from public.orders o where o.user_id = p_user_id and o.customer_id = v_order.customer_id
                  and o.id <> p_order_id and o.cancelled_at is null and o.ordered_at <= v_order.ordered_at) then
    v_reason := 'existing_customer';
  end if;
  if v_reason is not null then
    if v_referral.id is not null then
      update public.referrals r set status = 'rejected', rejection_reason = v_reason, order_id = p_order_id, order_revenue = v_order.total
       where r.user_id = p_user_id and r.id = v_referral.id;
    else
      insert into public.referrals (user_id, referrer_id, code, friend_email, friend_customer_id, status, rejection_reason,
                                    order_id, order_revenue, created_at)
      values (p_user_id, v_referrer.customer_id, v_code, v_order.email, v_order.customer_id, 'rejected', v_reason,
              p_order_id, v_order.total, p_now)
      on conflict (user_id, order_id) where order_id is not null do nothing;
    end if;
    return jsonb_build_object('referral', 'rejected', 'reason', v_reason);
  end if;

  if v_referral.id is null then
    insert into public.referrals (user_id, referrer_id, code, friend_email, friend_customer_id, created_at)
    values (p_user_id, v_referrer.customer_id, v_code, v_order.email, v_order.customer_id, p_now)
    returning * into v_referral;
  end if;
  if v_referral.friend_coupon_id is null then
    -- The friend's reward, for a next order.
    select * into v_coupon from private.issue_coupon(p_user_id, 'referral', 'FRIEND', jsonb_build_object(
      'discountType', v_program.friend_reward_type, 'discountValue', v_program.friend_reward_value,
      'minimumPurchase', v_program.friend_minimum_purchase, 'description', 'Referral: thank you for your first order'),
      p_now + interval '90 days', p_now);
    update public.referrals r set friend_coupon_id = v_coupon.id, friend_code = v_coupon.code
     where r.user_id = p_user_id and r.id = v_referral.id;
  end if;
  v_points := private.loyalty_earn(p_user_id, v_referral.referrer_id, 'earn_referral',
                                   least(floor(v_order.total * v_program.referral_percent / 100 * v_program.points_per_unit), 10000000)::integer,
                                   'referral:' || v_referral.id, 'Referred ' || v_order.email, p_now, null, p_order_id);
  update public.referrals r
     set status = 'converted', converted_at = p_now, order_id = p_order_id, order_revenue = v_order.total,
         friend_customer_id = v_order.customer_id, points_given = v_points
   where r.user_id = p_user_id and r.id = v_referral.id;
  return jsonb_build_object('referral', 'converted', 'points', v_points);
end
$$;

/** Trigger: a claim refused or reversed gives up its unused coupon (a code nobody should spend now). */
create or replace function private.referrals_withdraw_coupon()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.coupons c set status = 'archived'
   where c.user_id = new.user_id and c.id = new.friend_coupon_id and c.usage_count = 0 and c.status <> 'archived';
  return null;
end
$$;
revoke execute on function private.referrals_withdraw_coupon() from public, anon, authenticated;

/**
 * Every member's tier recomputed at once (set-based), after the merchant changes the tiers or
 * the program's basis; changes are logged as they are one by one. Returns the members moved.
 */
create or replace function private.loyalty_refresh_tiers(p_user_id uuid, p_now timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_basis text;
  v_moved integer;
begin
  -- No member is written while every member moves (each writer holds the lock shared).
  perform private.lock_loyalty(p_user_id, true);
  select p.tier_basis into v_basis from public.loyalty_programs p where p.user_id = p_user_id;
  with measure as (
    select m.customer_id, m.tier_id as old_tier,
           case coalesce(v_basis, 'points') when 'points' then m.points_earned::numeric
                                            when 'spend' then c.lifetime_value
                                            else c.total_orders::numeric end as v
      from public.loyalty_members m
      join public.customers c on c.user_id = m.user_id and c.id = m.customer_id
     where m.user_id = p_user_id
  ), tiers as (
    select t.id, t.tier_order, t.threshold from public.loyalty_tiers t where t.user_id = p_user_id
  ), decided as (
    select me.customer_id, me.old_tier, me.v, t.id as tier_id, n.id as next_id, n.threshold as next_threshold
      from measure me
      left join lateral (select x.id, x.tier_order from tiers x where x.threshold <= me.v order by x.tier_order desc limit 1) t on true
      left join lateral (select x.id, x.threshold from tiers x where x.tier_order > coalesce(t.tier_order, -1) order by x.tier_order limit 1) n on true
  ), moved as (
    update public.loyalty_members m
       set tier_id = d.tier_id,
           tier_achieved_at = case when d.tier_id is distinct from m.tier_id then p_now else m.tier_achieved_at end,
           next_tier_id = d.next_id,
           to_next_tier = case when d.next_id is null then null else greatest(d.next_threshold - d.v, 0) end
      from decided d
     where m.user_id = p_user_id and m.customer_id = d.customer_id
       and (m.tier_id is distinct from d.tier_id or m.next_tier_id is distinct from d.next_id
            or m.to_next_tier is distinct from case when d.next_id is null then null else greatest(d.next_threshold - d.v, 0) end)
    returning m.customer_id, d.old_tier, d.tier_id
  ), logged as (
    insert into public.loyalty_tier_changes (user_id, customer_id, from_tier_id, to_tier_id, changed_at)
    select p_user_id, mv.customer_id, mv.old_tier, mv.tier_id, p_now from moved mv where mv.old_tier is distinct from mv.tier_id
    returning 1
  )
  select count(*)::integer into v_moved from logged;
  return v_moved;
end
$$;

create trigger referrals_withdraw_coupon after update of status on public.referrals
  for each row when (new.status in ('rejected', 'reversed') and new.friend_coupon_id is not null)
  execute function private.referrals_withdraw_coupon();
