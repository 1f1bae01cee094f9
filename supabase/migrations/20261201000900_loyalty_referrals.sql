-- Loyalty, part 2: the other ways to earn (signing up, a birthday, a review, a bonus from the
-- merchant), referrals with a reward for both sides, and the timed work (expiry, birthdays,
-- unused reward codes).
--
-- A referral is a row from the moment a friend claims a member's link (pending, with the
-- friend's coupon) or an order carries the member's code. The friend's first order converts
-- it: the referrer earns a share of that order in points, taken back in proportion when the
-- order is refunded and in full when it is cancelled. Every refusal is a row with its reason
-- (S29, S30): self-referral, a friend who had already bought, a friend already referred.

alter table public.loyalty_programs
  add column friend_reward_type text not null default 'percentage' check (friend_reward_type in ('percentage', 'fixed_amount')),
  add column friend_reward_value numeric(10, 2) not null default 10 check (friend_reward_value > 0),
  add column friend_minimum_purchase numeric(10, 2) check (friend_minimum_purchase >= 0),
  add constraint loyalty_programs_friend_percentage check (friend_reward_type <> 'percentage' or friend_reward_value <= 100);

-- A birthday's month and day as one number (1231), for the daily award's index.
alter table public.loyalty_members
  add column birthday_md smallint generated always as ((extract(month from birthday) * 100 + extract(day from birthday))::smallint) stored;
create index loyalty_members_birthday_idx on public.loyalty_members (birthday_md) where birthday is not null;

create table public.referrals (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  referrer_id uuid not null,
  code text not null,
  friend_email text not null check (friend_email = public.normalize_email(friend_email)),
  friend_customer_id uuid,
  status text not null default 'pending' check (status in ('pending', 'converted', 'rejected', 'reversed')),
  rejection_reason text check (rejection_reason in ('self_referral', 'existing_customer', 'already_referred')),
  -- The friend's order that converted it (or was refused), its total, and the points the
  -- referrer was given for it (what is left after refunds).
  order_id uuid,
  order_revenue numeric(12, 2),
  points_given integer not null default 0 check (points_given >= 0),
  friend_coupon_id uuid,
  friend_code text,
  created_at timestamptz not null default now(),
  converted_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (user_id, id),
  foreign key (user_id, referrer_id) references public.loyalty_members (user_id, customer_id) on delete cascade,
  foreign key (user_id, friend_customer_id) references public.customers (user_id, id) on delete set null (friend_customer_id),
  foreign key (user_id, order_id) references public.orders (user_id, id) on delete set null (order_id),
  foreign key (user_id, friend_coupon_id) references public.coupons (user_id, id) on delete set null (friend_coupon_id),
  check ((status = 'rejected') = (rejection_reason is not null))
);
-- Once per friend: one referral that stands (pending, converted or reversed) per email.
create unique index referrals_friend_idx on public.referrals (user_id, friend_email) where status <> 'rejected';
-- A refused order is recorded once, however often it is delivered.
create unique index referrals_order_idx on public.referrals (user_id, order_id) where order_id is not null;
create index referrals_referrer_idx on public.referrals (user_id, referrer_id, status);
create index referrals_status_idx on public.referrals (user_id, status, created_at desc);
create index referrals_coupon_idx on public.referrals (user_id, friend_coupon_id) where friend_coupon_id is not null;
create trigger referrals_updated_at before update on public.referrals
  for each row execute function public.update_updated_at_column();

alter table public.referrals enable row level security;
create policy referrals_owner on public.referrals for select to authenticated using (user_id = (select auth.uid()));
revoke all on public.referrals from anon, authenticated;
grant select on public.referrals to authenticated;

/** A bonus from the merchant: earned points (they count towards tiers), with the reason and the merchant as author. */
create or replace function private.loyalty_bonus(p_user_id uuid, p_customer_id uuid, p_points integer, p_reason text,
                                                 p_author uuid, p_now timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$
begin
  if p_points <= 0 or p_points > 10000000 then
    raise exception 'A bonus is 1 to 10,000,000 points' using errcode = 'HH422';
  end if;
  if length(btrim(coalesce(p_reason, ''))) = 0 then
    raise exception 'A bonus needs a reason' using errcode = 'HH422';
  end if;
  if not exists (select 1 from public.loyalty_programs p where p.user_id = p_user_id and p.enabled) then
    raise exception 'The loyalty program is switched off' using errcode = 'HH409';
  end if;
  return private.loyalty_earn(p_user_id, p_customer_id, 'earn_bonus', p_points, null, btrim(p_reason), p_now, p_author);
end
$$;

/**
 * A product review reported by the merchant's backend: the program's review points, once per
 * review id. Returns the points credited (0 for a replay, or when reviews earn nothing).
 */
create or replace function private.loyalty_review(p_user_id uuid, p_email text, p_review_id text, p_now timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_points integer;
  v_customer uuid;
begin
  select p.review_points into v_points from public.loyalty_programs p where p.user_id = p_user_id and p.enabled;
  select c.id into v_customer from public.customers c where c.user_id = p_user_id and c.email = public.normalize_email(p_email);
  if v_customer is null then
    raise exception 'No customer with that email' using errcode = 'HH404';
  end if;
  if v_points is null then
    return 0;
  end if;
  return private.loyalty_earn(p_user_id, v_customer, 'earn_review', v_points, 'review:' || p_review_id, 'Product review', p_now);
end
$$;

/** Trigger: a customer who leaves an email (becomes a lead) earns the program's signup points, once. */
create or replace function private.loyalty_on_lead()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_points integer;
begin
  select p.signup_points into v_points from public.loyalty_programs p where p.user_id = new.user_id and p.enabled;
  if v_points is not null then
    perform private.loyalty_earn(new.user_id, new.id, 'earn_signup', v_points, 'signup', 'Signed up', new.became_lead_at);
  end if;
  return null;
end
$$;
revoke execute on function private.loyalty_on_lead() from public, anon, authenticated;
create trigger customers_loyalty_lead_insert after insert on public.customers
  for each row when (new.became_lead_at is not null) execute function private.loyalty_on_lead();
create trigger customers_loyalty_lead_update after update of became_lead_at on public.customers
  for each row when (old.became_lead_at is null and new.became_lead_at is not null) execute function private.loyalty_on_lead();

/**
 * Cron: birthday points for members whose birthday is today in their store's time zone, once a
 * year (the source is the year, so two runs at once award once); 29 February counts on
 * 28 February in other years. Returns the members awarded.
 */
create or replace function private.loyalty_birthdays(p_now timestamptz default now(), p_limit integer default 5000)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  r record;
  v_awarded integer := 0;
  v_candidates smallint[];
begin
  -- Today somewhere on Earth is yesterday, today or tomorrow in UTC.
  select array_agg(distinct (extract(month from d) * 100 + extract(day from d))::smallint) into v_candidates
    from (select (p_now at time zone 'UTC')::date + k as d from generate_series(-1, 1) k) x;
  v_candidates := v_candidates || array[229::smallint];
  for r in
    select m.user_id, m.customer_id, p.birthday_points, x.local_day
      from public.loyalty_members m
      join public.loyalty_programs p on p.user_id = m.user_id and p.enabled and p.birthday_points is not null
      left join public.merchant_settings s on s.user_id = m.user_id
      cross join lateral (select (p_now at time zone coalesce(s.time_zone, 'UTC'))::date as local_day) x
     where m.birthday is not null and m.birthday_md = any (v_candidates)
       and (m.birthday_md = extract(month from x.local_day) * 100 + extract(day from x.local_day)
            or (m.birthday_md = 229 and extract(month from x.local_day) = 2 and extract(day from x.local_day) = 28
                and extract(day from (date_trunc('year', x.local_day) + interval '1 month 28 days')) <> 29))
       and not exists (select 1 from public.points_transactions t
                        where t.user_id = m.user_id and t.customer_id = m.customer_id and t.type = 'earn_birthday'
                          and t.source = 'birthday:' || extract(year from x.local_day))
     limit p_limit
  loop
    if private.loyalty_earn(r.user_id, r.customer_id, 'earn_birthday', r.birthday_points,
                            'birthday:' || extract(year from r.local_day), 'Happy birthday', p_now) > 0 then
      v_awarded := v_awarded + 1;
    end if;
  end loop;
  return v_awarded;
end
$$;

/** Cron: a reward's coupon that reached its end unused is expired (its points are not returned). */
create or replace function private.loyalty_expire_codes(p_now timestamptz default now(), p_limit integer default 5000)
returns integer
language sql
volatile
set search_path = ''
as $$
  with due as (
    select rr.user_id, rr.id from public.reward_redemptions rr
     where rr.status = 'issued' and rr.expires_at <= p_now
     limit p_limit
     for update skip locked
  ), done as (
    update public.reward_redemptions rr set status = 'expired'
      from due where rr.user_id = due.user_id and rr.id = due.id
    returning 1
  )
  select count(*)::integer from done
$$;
create index reward_redemptions_expiry_idx on public.reward_redemptions (expires_at) where status = 'issued';

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
  if exists (select 1 from public.customers c where c.user_id = p_user_id and c.id = v_referrer.customer_id and c.email = v_email) then
    raise exception 'You cannot refer yourself' using errcode = 'HH422';
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
    'minimumPurchase', v_program.friend_minimum_purchase, 'description', 'Referral: a friend''s first order'),
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
 * Order handler: the friend's order converts a referral. The referral is the one the friend
 * claimed (by email, or by the claim's coupon used in the order), or else one made now from a
 * member's code among the order's discount codes or in a `referral_code` note attribute. A friend's first standing order converts it: the referrer
 * earns referral_percent of the order in points (once: the source is the referral) and, without
 * an earlier claim, the friend gets the reward coupon for a next order. Refused orders are rows
 * with their reason.
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
  -- A referral the friend claimed: by the friend's email, or by the claim's coupon used in this order.
  select r.* into v_referral from public.referrals r
   where r.user_id = p_user_id and r.status = 'pending'
     and (r.friend_email = v_order.email
          or r.friend_coupon_id in (select u.coupon_id from public.coupon_uses u
                                     where u.user_id = p_user_id and u.order_id = p_order_id and u.status = 'accepted'))
   order by (r.friend_email = v_order.email) desc
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
  end if;
  perform pg_advisory_xact_lock(hashtextextended('referral/' || p_user_id::text || '/' || v_order.email, 0));

  if v_referral.id is null then
    if v_referrer.customer_id = v_order.customer_id then
      v_reason := 'self_referral';
    elsif exists (select 1 from public.referrals r where r.user_id = p_user_id and r.friend_email = v_order.email and r.status <> 'rejected') then
      v_reason := 'already_referred';
    elsif exists (select 1 from public.orders o where o.user_id = p_user_id and o.customer_id = v_order.customer_id
                    and o.id <> p_order_id and o.cancelled_at is null and o.ordered_at <= v_order.ordered_at) then
      v_reason := 'existing_customer';
    end if;
    if v_reason is not null then
      insert into public.referrals (user_id, referrer_id, code, friend_email, friend_customer_id, status, rejection_reason,
                                    order_id, order_revenue, created_at)
      values (p_user_id, v_referrer.customer_id, v_code, v_order.email, v_order.customer_id, 'rejected', v_reason,
              p_order_id, v_order.total, p_now)
      on conflict (user_id, order_id) where order_id is not null do nothing;
      return jsonb_build_object('referral', 'rejected', 'reason', v_reason);
    end if;
    insert into public.referrals (user_id, referrer_id, code, friend_email, friend_customer_id, created_at)
    values (p_user_id, v_referrer.customer_id, v_code, v_order.email, v_order.customer_id, p_now)
    returning * into v_referral;
    -- The friend's reward, for a next order.
    select * into v_coupon from private.issue_coupon(p_user_id, 'referral', 'FRIEND', jsonb_build_object(
      'discountType', v_program.friend_reward_type, 'discountValue', v_program.friend_reward_value,
      'minimumPurchase', v_program.friend_minimum_purchase, 'description', 'Referral: thank you for your first order'),
      p_now + interval '90 days', p_now);
    update public.referrals r set friend_coupon_id = v_coupon.id, friend_code = v_coupon.code
     where r.user_id = p_user_id and r.id = v_referral.id;
  elsif exists (select 1 from public.orders o where o.user_id = p_user_id and o.customer_id = v_order.customer_id
                  and o.id <> p_order_id and o.cancelled_at is null and o.ordered_at <= v_order.ordered_at) then
    -- The claim's coupon used by a friend who had ordered since claiming it: not a new customer.
    update public.referrals r set status = 'rejected', rejection_reason = 'existing_customer', order_id = p_order_id,
                                  order_revenue = v_order.total
     where r.user_id = p_user_id and r.id = v_referral.id;
    return jsonb_build_object('referral', 'rejected', 'reason', 'existing_customer');
  end if;

  v_points := private.loyalty_earn(p_user_id, v_referral.referrer_id, 'earn_referral',
                                   floor(v_order.total * v_program.referral_percent / 100 * v_program.points_per_unit)::integer,
                                   'referral:' || v_referral.id, 'Referred ' || v_order.email, p_now, null, p_order_id);
  update public.referrals r
     set status = 'converted', converted_at = p_now, order_id = p_order_id, order_revenue = v_order.total,
         friend_customer_id = v_order.customer_id, points_given = v_points
   where r.user_id = p_user_id and r.id = v_referral.id;
  return jsonb_build_object('referral', 'converted', 'points', v_points);
end
$$;

/** The converted referral an order made, if any. */
create or replace function private.referral_of_order(p_user_id uuid, p_order_id uuid)
returns public.referrals
language sql
stable
set search_path = ''
as $$ select r.* from public.referrals r where r.user_id = p_user_id and r.order_id = p_order_id and r.status in ('converted', 'reversed') $$;

/**
 * Refund handler: the referrer loses the same share of the referral points as the share of the
 * friend's order refunded so far (never below zero; the shortfall is kept).
 */
create or replace function private.referrals_on_refund(p_user_id uuid, p_refund_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v record;
  v_referral public.referrals;
  v_earned integer;
  v_taken integer;
  v_target integer;
begin
  select o.id as order_id, o.total, o.refunded_total, o.cancelled_at into v
    from public.order_refunds r join public.orders o on o.user_id = r.user_id and o.id = r.order_id
   where r.user_id = p_user_id and r.id = p_refund_id;
  v_referral := private.referral_of_order(p_user_id, v.order_id);
  if v_referral.id is null or v.cancelled_at is not null or v.total = 0 then
    return jsonb_build_object('points', 0);
  end if;
  perform private.loyalty_member(p_user_id, v_referral.referrer_id);
  select * into v_earned, v_taken from private.loyalty_order_points(p_user_id, v_referral.referrer_id, v.order_id);
  v_target := least(round(v_earned * least(v.refunded_total / v.total, 1))::integer, v_earned) - v_taken;
  if v_target <= 0 then
    return jsonb_build_object('points', 0);
  end if;
  perform private.loyalty_post(p_user_id, v_referral.referrer_id, 'clawback', -v_target, 'referral-refund:' || p_refund_id,
                               'Refund of a referred order', p_now, null, true, v.order_id);
  update public.referrals r set points_given = greatest(r.points_given - v_target, 0) where r.user_id = p_user_id and r.id = v_referral.id;
  return jsonb_build_object('points', -v_target);
end
$$;

/** Cancel handler: the referral is reversed and the referrer loses what is left of its points. */
create or replace function private.referrals_on_cancel(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_referral public.referrals;
  v_earned integer;
  v_taken integer;
begin
  v_referral := private.referral_of_order(p_user_id, p_order_id);
  if v_referral.id is null or v_referral.status = 'reversed' then
    return jsonb_build_object('points', 0);
  end if;
  perform private.loyalty_member(p_user_id, v_referral.referrer_id);
  select * into v_earned, v_taken from private.loyalty_order_points(p_user_id, v_referral.referrer_id, p_order_id);
  if v_earned - v_taken > 0 then
    perform private.loyalty_post(p_user_id, v_referral.referrer_id, 'clawback', -(v_earned - v_taken), 'referral-cancel:' || p_order_id,
                                 'Cancellation of a referred order', p_now, null, true, p_order_id);
  end if;
  update public.referrals r set status = 'reversed', points_given = 0 where r.user_id = p_user_id and r.id = v_referral.id;
  return jsonb_build_object('points', -greatest(v_earned - v_taken, 0));
end
$$;

select private.register_order_handler('order', 'referrals', 310, 'private.referrals_on_order(uuid,uuid,timestamptz)');
select private.register_order_handler('refund', 'referrals', 310, 'private.referrals_on_refund(uuid,uuid,timestamptz)');
select private.register_order_handler('cancel', 'referrals', 310, 'private.referrals_on_cancel(uuid,uuid,timestamptz)');

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
