-- Loyalty, part 1: the program, tiers, members, the points ledger, rewards and redemptions.
--
-- The ledger is held by the database. Every change of a balance is one row of
-- points_transactions, written by private.loyalty_post alone, under the member's row lock:
-- rows are numbered per member (seq) and chained (balance_before = the previous
-- balance_after), the balance can never go below zero (CHECK), and a trigger refuses any
-- UPDATE or DELETE of a posted row. Every earn names its source (order, refund, review,
-- birthday year, signup), unique per member, so a replay credits nothing.
--
-- Earned points are lots (points_lots): spending, clawbacks and expiry take from the lots
-- that expire first, so expiry only ever takes points that are still there (S26).
-- Orders reach the program through the order pipeline (handlers at 300, after coupons, so a
-- reward's coupon used in an order is marked used). Redemption is one function: eligibility,
-- inventory, balance, the coupon from the coupon module and the ledger row commit together (S3).

create table public.loyalty_programs (
  user_id uuid primary key references auth.users (id) on delete cascade,
  enabled boolean not null default true,
  -- Points per unit of the store's currency spent (1 = one point per dollar).
  points_per_unit numeric(8, 2) not null default 1 check (points_per_unit > 0 and points_per_unit <= 1000),
  -- What a point is worth in money: the liability the merchant carries.
  point_value numeric(10, 4) not null default 0.01 check (point_value >= 0 and point_value <= 1000),
  -- Earned points expire this many months after they were earned; null: never.
  expiry_months integer check (expiry_months between 1 and 120),
  -- What a tier's threshold measures: lifetime points earned, lifetime spend, or orders.
  tier_basis text not null default 'points' check (tier_basis in ('points', 'spend', 'orders')),
  -- Ways to earn beyond purchases; null switches a way off.
  signup_points integer check (signup_points between 1 and 1000000),
  birthday_points integer check (birthday_points between 1 and 1000000),
  review_points integer check (review_points between 1 and 1000000),
  -- Referrals: the referrer earns this share of the friend's first order, in points.
  referral_percent numeric(5, 2) not null default 10 check (referral_percent between 0 and 100),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger loyalty_programs_updated_at before update on public.loyalty_programs
  for each row execute function public.update_updated_at_column();

create table public.loyalty_tiers (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 60),
  description text check (length(description) <= 500),
  -- Tiers are ranked by tier_order; a reward open to a tier is open to every tier above it (S25).
  tier_order integer not null check (tier_order between 0 and 100),
  -- Reached when the program's basis (points earned, spend or orders) is at least this.
  threshold numeric(12, 2) not null default 0 check (threshold >= 0),
  points_multiplier numeric(4, 2) not null default 1 check (points_multiplier between 0.1 and 10),
  perks text[] not null default '{}' check (cardinality(perks) <= 10),
  badge_color text check (badge_color ~ '^#[0-9a-f]{6}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, id),
  unique (user_id, tier_order),
  unique (user_id, name)
);
create trigger loyalty_tiers_updated_at before update on public.loyalty_tiers
  for each row execute function public.update_updated_at_column();

create table public.loyalty_members (
  user_id uuid not null,
  customer_id uuid not null,
  points_balance integer not null default 0 check (points_balance >= 0),
  -- Lifetime figures, each the sum of the member's rows of its kinds (tests hold them to it).
  points_earned integer not null default 0,
  points_redeemed integer not null default 0 check (points_redeemed >= 0),
  points_expired integer not null default 0 check (points_expired >= 0),
  -- The last row of the member's ledger.
  last_seq integer not null default 0 check (last_seq >= 0),
  tier_id uuid,
  tier_achieved_at timestamptz,
  next_tier_id uuid,
  -- How much of the program's basis (points, money or orders) is left to the next tier.
  to_next_tier numeric(12, 2),
  referral_code text not null check (referral_code ~ '^[A-Z0-9]{4,16}$'),
  birthday date,
  joined_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, customer_id),
  unique (user_id, referral_code),
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade,
  foreign key (user_id, tier_id) references public.loyalty_tiers (user_id, id) on delete set null (tier_id),
  foreign key (user_id, next_tier_id) references public.loyalty_tiers (user_id, id) on delete set null (next_tier_id)
);
create index loyalty_members_balance_idx on public.loyalty_members (user_id, points_balance desc, customer_id);
create index loyalty_members_tier_idx on public.loyalty_members (user_id, tier_id);
create trigger loyalty_members_updated_at before update on public.loyalty_members
  for each row execute function public.update_updated_at_column();

create table public.points_transactions (
  user_id uuid not null,
  customer_id uuid not null,
  seq integer not null check (seq > 0),
  type text not null check (type in ('earn_purchase', 'earn_referral', 'earn_review', 'earn_birthday', 'earn_signup',
                                     'earn_bonus', 'clawback', 'redeem', 'redeem_return', 'expire', 'adjustment')),
  points integer not null,
  balance_before integer not null check (balance_before >= 0),
  balance_after integer not null check (balance_after >= 0),
  -- What the row is for, unique per member and kind: order:<id>, refund:<id>, cancel:<id>,
  -- review:<id>, birthday:<year>, signup, referral:<id>, redemption:<id>.
  source text check (length(source) between 1 and 200),
  -- The order a purchase or a clawback row is about.
  order_id uuid,
  -- A clawback that found fewer points than the order had earned records what it could not take.
  shortfall integer not null default 0 check (shortfall >= 0),
  description text check (length(description) <= 500),
  -- The merchant who made a manual adjustment or bonus (null: the system).
  author_id uuid,
  expires_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (user_id, customer_id, seq),
  unique (user_id, customer_id, type, source),
  check (balance_after = balance_before + points),
  check (points <> 0 or shortfall > 0),
  check (case when type like 'earn\_%' or type = 'redeem_return' then points > 0
              when type in ('redeem', 'expire', 'clawback') then points <= 0
              else true end),
  foreign key (user_id, customer_id) references public.loyalty_members (user_id, customer_id) on delete cascade
);
create index points_transactions_recent_idx on public.points_transactions (user_id, created_at desc);
create index points_transactions_order_idx on public.points_transactions (user_id, customer_id, order_id) where order_id is not null;

/**
 * Trigger: the ledger is a chain. A new row follows the member's last row (seq and balance);
 * a posted row is never changed, and deleted only with its member (an erasure).
 */
create or replace function private.points_transactions_guard()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    if new.seq = 1 then
      if new.balance_before <> 0 then
        raise exception 'The first row of a ledger starts from 0 points' using errcode = 'HH409';
      end if;
    elsif not exists (select 1 from public.points_transactions p
                       where p.user_id = new.user_id and p.customer_id = new.customer_id
                         and p.seq = new.seq - 1 and p.balance_after = new.balance_before) then
      raise exception 'A ledger row must follow the previous one (seq %, balance %)', new.seq, new.balance_before using errcode = 'HH409';
    end if;
    return new;
  end if;
  if tg_op = 'DELETE' and not exists (select 1 from public.loyalty_members m
                                        where m.user_id = old.user_id and m.customer_id = old.customer_id) then
    return old;
  end if;
  raise exception 'Points transactions are append-only' using errcode = 'HH409';
end
$$;
create trigger points_transactions_guard before insert or update or delete on public.points_transactions
  for each row execute function private.points_transactions_guard();

-- Points that are still there, lot by lot (one lot per positive row).
create table public.points_lots (
  user_id uuid not null,
  customer_id uuid not null,
  seq integer not null,
  points integer not null check (points > 0),
  remaining integer not null check (remaining >= 0 and remaining <= points),
  expires_at timestamptz,
  primary key (user_id, customer_id, seq),
  foreign key (user_id, customer_id, seq) references public.points_transactions (user_id, customer_id, seq) on delete cascade
);
create index points_lots_open_idx on public.points_lots (user_id, customer_id, expires_at nulls last, seq) where remaining > 0;
create index points_lots_expiry_idx on public.points_lots (expires_at) where remaining > 0 and expires_at is not null;

create table public.loyalty_tier_changes (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  customer_id uuid not null,
  from_tier_id uuid,
  to_tier_id uuid,
  changed_at timestamptz not null default now(),
  primary key (user_id, id),
  foreign key (user_id, customer_id) references public.loyalty_members (user_id, customer_id) on delete cascade
);
create index loyalty_tier_changes_member_idx on public.loyalty_tier_changes (user_id, customer_id, changed_at desc);

create table public.loyalty_rewards (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (length(btrim(name)) between 1 and 80),
  description text check (length(description) <= 500),
  points_cost integer not null check (points_cost between 1 and 10000000),
  reward_type text not null check (reward_type in ('percentage_discount', 'fixed_discount', 'free_shipping', 'free_product')),
  reward_value numeric(10, 2),
  reward_product_id text check (length(reward_product_id) between 1 and 64),
  minimum_purchase numeric(10, 2) check (minimum_purchase >= 0),
  -- Open to this tier and every tier above it (by tier order); null: every member.
  min_tier_id uuid,
  min_orders integer check (min_orders between 1 and 100000),
  redemption_limit integer check (redemption_limit > 0),
  total_available integer check (total_available > 0),
  total_redeemed integer not null default 0 check (total_redeemed >= 0),
  -- How long the coupon a redemption issues stays valid.
  code_valid_days integer not null default 90 check (code_valid_days between 1 and 3650),
  is_active boolean not null default true,
  starts_at timestamptz,
  ends_at timestamptz,
  -- A deleted reward is hidden and closed, and keeps its redemptions (S31).
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, id),
  -- A tier that a reward requires cannot be deleted from under it.
  foreign key (user_id, min_tier_id) references public.loyalty_tiers (user_id, id),
  check (total_available is null or total_redeemed <= total_available),
  check (ends_at is null or starts_at is null or ends_at > starts_at),
  check (case reward_type
           when 'percentage_discount' then reward_value > 0 and reward_value <= 100
           when 'fixed_discount' then reward_value > 0
           when 'free_shipping' then reward_value is null
           when 'free_product' then reward_product_id is not null
         end)
);
create index loyalty_rewards_list_idx on public.loyalty_rewards (user_id, points_cost, id) where deleted_at is null;
create trigger loyalty_rewards_updated_at before update on public.loyalty_rewards
  for each row execute function public.update_updated_at_column();

create table public.reward_redemptions (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  customer_id uuid not null,
  reward_id uuid not null,
  -- The ledger row that paid for it.
  seq integer not null,
  points_spent integer not null check (points_spent > 0),
  coupon_id uuid not null,
  code text not null,
  status text not null default 'issued' check (status in ('issued', 'used', 'expired', 'cancelled')),
  expires_at timestamptz,
  used_at timestamptz,
  used_order_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, id),
  unique (user_id, coupon_id),
  foreign key (user_id, customer_id) references public.loyalty_members (user_id, customer_id) on delete cascade,
  foreign key (user_id, reward_id) references public.loyalty_rewards (user_id, id),
  foreign key (user_id, customer_id, seq) references public.points_transactions (user_id, customer_id, seq),
  foreign key (user_id, coupon_id) references public.coupons (user_id, id)
);
create index reward_redemptions_member_idx on public.reward_redemptions (user_id, customer_id, reward_id);
create index reward_redemptions_recent_idx on public.reward_redemptions (user_id, created_at desc);
create index reward_redemptions_order_idx on public.reward_redemptions (user_id, used_order_id) where used_order_id is not null;
create trigger reward_redemptions_updated_at before update on public.reward_redemptions
  for each row execute function public.update_updated_at_column();

-- Read-only for the API roles, row by row their own: the server writes every row through the
-- functions below (a merchant's edits to the program, tiers and rewards go through the routes).
alter table public.loyalty_programs enable row level security;
alter table public.loyalty_tiers enable row level security;
alter table public.loyalty_members enable row level security;
alter table public.points_transactions enable row level security;
alter table public.points_lots enable row level security;
alter table public.loyalty_tier_changes enable row level security;
alter table public.loyalty_rewards enable row level security;
alter table public.reward_redemptions enable row level security;
create policy loyalty_programs_owner on public.loyalty_programs for select to authenticated using (user_id = (select auth.uid()));
create policy loyalty_tiers_owner on public.loyalty_tiers for select to authenticated using (user_id = (select auth.uid()));
create policy loyalty_members_owner on public.loyalty_members for select to authenticated using (user_id = (select auth.uid()));
create policy points_transactions_owner on public.points_transactions for select to authenticated using (user_id = (select auth.uid()));
create policy points_lots_owner on public.points_lots for select to authenticated using (user_id = (select auth.uid()));
create policy loyalty_tier_changes_owner on public.loyalty_tier_changes for select to authenticated using (user_id = (select auth.uid()));
create policy loyalty_rewards_owner on public.loyalty_rewards for select to authenticated using (user_id = (select auth.uid()));
create policy reward_redemptions_owner on public.reward_redemptions for select to authenticated using (user_id = (select auth.uid()));
revoke all on public.loyalty_programs, public.loyalty_tiers, public.loyalty_members, public.points_transactions,
  public.points_lots, public.loyalty_tier_changes, public.loyalty_rewards, public.reward_redemptions from anon, authenticated;
grant select on public.loyalty_programs, public.loyalty_tiers, public.loyalty_members, public.points_transactions,
  public.points_lots, public.loyalty_tier_changes, public.loyalty_rewards, public.reward_redemptions to authenticated;

/**
 * Set up (or switch on) the program with its defaults and, the first time, three tiers (S27):
 * Bronze from the start, Silver at 500 and Gold at 1,500 points earned.
 */
create or replace function private.loyalty_setup(p_user_id uuid)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  insert into public.loyalty_programs (user_id) values (p_user_id)
  on conflict (user_id) do update set enabled = true;
  if not exists (select 1 from public.loyalty_tiers t where t.user_id = p_user_id) then
    insert into public.loyalty_tiers (user_id, name, description, tier_order, threshold, points_multiplier, perks, badge_color)
    values (p_user_id, 'Bronze', 'Every member', 0, 0, 1, '{}', '#b45309'),
           (p_user_id, 'Silver', '500 points earned', 1, 500, 1.25, '{"Early access to sales"}', '#64748b'),
           (p_user_id, 'Gold', '1,500 points earned', 2, 1500, 1.5, '{"Early access to sales","Free shipping on every order"}', '#ca8a04');
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
  select * into v_member from public.loyalty_members m
   where m.user_id = p_user_id and m.customer_id = p_customer_id
   for update;
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
   for update;
  return v_member;
end
$$;

/**
 * Recompute the member's tier from the program's basis: the highest tier whose threshold is
 * met, the next one above it and how far it is (S27). A change is logged. Caller holds the row.
 */
create or replace function private.loyalty_refresh_tier(p_user_id uuid, p_customer_id uuid, p_now timestamptz)
returns uuid
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_measure numeric;
  v_basis text;
  v_tier public.loyalty_tiers;
  v_next public.loyalty_tiers;
  v_current uuid;
begin
  select p.tier_basis into v_basis from public.loyalty_programs p where p.user_id = p_user_id;
  select case coalesce(v_basis, 'points') when 'points' then m.points_earned::numeric
                                          when 'spend' then c.lifetime_value
                                          else c.total_orders::numeric end,
         m.tier_id
    into v_measure, v_current
    from public.loyalty_members m
    join public.customers c on c.user_id = m.user_id and c.id = m.customer_id
   where m.user_id = p_user_id and m.customer_id = p_customer_id;
  select * into v_tier from public.loyalty_tiers t
   where t.user_id = p_user_id and t.threshold <= v_measure order by t.tier_order desc limit 1;
  select * into v_next from public.loyalty_tiers t
   where t.user_id = p_user_id and t.tier_order > coalesce(v_tier.tier_order, -1) order by t.tier_order limit 1;
  update public.loyalty_members m
     set tier_id = v_tier.id,
         tier_achieved_at = case when v_tier.id is distinct from v_current then p_now else m.tier_achieved_at end,
         next_tier_id = v_next.id,
         to_next_tier = case when v_next.id is null then null else greatest(v_next.threshold - v_measure, 0) end
   where m.user_id = p_user_id and m.customer_id = p_customer_id
     and (m.tier_id is distinct from v_tier.id or m.next_tier_id is distinct from v_next.id
          or m.to_next_tier is distinct from case when v_next.id is null then null else greatest(v_next.threshold - v_measure, 0) end);
  if v_tier.id is distinct from v_current then
    insert into public.loyalty_tier_changes (user_id, customer_id, from_tier_id, to_tier_id, changed_at)
    values (p_user_id, p_customer_id, v_current, v_tier.id, p_now);
  end if;
  return v_tier.id;
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
    -- Take -v_points from the open lots, soonest to expire first.
    with open as (
      select l.seq, l.remaining,
             sum(l.remaining) over (order by l.expires_at nulls last, l.seq) - l.remaining as before_it
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
  v_points := floor(p_points * coalesce(v_multiplier, 1))::integer;
  if v_points <= 0 then
    return 0;
  end if;
  v_seq := private.loyalty_post(p_user_id, p_customer_id, p_type, v_points, p_source, p_description, p_now, p_author, false, p_order_id);
  return case when v_seq is null then 0 else v_points end;
end
$$;

/** A manual change by the merchant, positive or negative, with the reason and the merchant as author. */
create or replace function private.loyalty_adjust(p_user_id uuid, p_customer_id uuid, p_points integer, p_reason text,
                                                  p_author uuid, p_now timestamptz default now())
returns integer
language plpgsql
volatile
set search_path = ''
as $$
begin
  if p_points = 0 or abs(p_points) > 10000000 then
    raise exception 'An adjustment is a non-zero number of points up to 10,000,000' using errcode = 'HH422';
  end if;
  if length(btrim(coalesce(p_reason, ''))) = 0 then
    raise exception 'An adjustment needs a reason' using errcode = 'HH422';
  end if;
  return private.loyalty_post(p_user_id, p_customer_id, 'adjustment', p_points, null, btrim(p_reason), p_now, p_author);
end
$$;

/**
 * Redeem a reward for a member, in one transaction (S3): the reward row is locked first
 * (inventory, counts), then the member's (balance). Eligibility by tier order, not tier id
 * (S25), orders placed, the per-member limit and the date window; then the coupon from the
 * coupon module, the ledger row and the redemption. Refusals raise HH404 / HH409 / HH422 with
 * the reason. Returns {redemptionId, code, couponId, pointsSpent, balance, expiresAt}.
 */
create or replace function private.loyalty_redeem(p_user_id uuid, p_customer_id uuid, p_reward_id uuid, p_now timestamptz default now())
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
begin
  if not exists (select 1 from public.loyalty_programs p where p.user_id = p_user_id and p.enabled) then
    raise exception 'The loyalty program is switched off' using errcode = 'HH409';
  end if;
  select * into v_reward from public.loyalty_rewards r
   where r.user_id = p_user_id and r.id = p_reward_id and r.deleted_at is null
   for update;
  if not found then
    raise exception 'Reward not found' using errcode = 'HH404';
  end if;
  if not v_reward.is_active or (v_reward.starts_at is not null and p_now < v_reward.starts_at)
     or (v_reward.ends_at is not null and p_now >= v_reward.ends_at) then
    raise exception 'This reward is not available now' using errcode = 'HH422';
  end if;
  if v_reward.total_available is not null and v_reward.total_redeemed >= v_reward.total_available then
    raise exception 'This reward is sold out' using errcode = 'HH409';
  end if;
  v_member := private.loyalty_member(p_user_id, p_customer_id);
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
    'discountType', case v_reward.reward_type when 'percentage_discount' then 'percentage' when 'fixed_discount' then 'fixed_amount'
                                              when 'free_shipping' then 'free_shipping' else 'percentage' end,
    'discountValue', case v_reward.reward_type when 'free_shipping' then null when 'free_product' then 100 else v_reward.reward_value end,
    'minimumPurchase', v_reward.minimum_purchase,
    'productIds', case when v_reward.reward_type = 'free_product' then jsonb_build_array(v_reward.reward_product_id) else '[]'::jsonb end,
    'description', 'Loyalty reward: ' || v_reward.name), v_expires, p_now);
  v_seq := private.loyalty_post(p_user_id, p_customer_id, 'redeem', -v_reward.points_cost, 'redemption:' || v_id,
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
  for r in
    with due as (
      select distinct l.user_id, l.customer_id from public.points_lots l
       where l.remaining > 0 and l.expires_at <= p_now
       limit p_limit
    )
    select m.user_id, m.customer_id from public.loyalty_members m
     where (m.user_id, m.customer_id) in (select due.user_id, due.customer_id from due)
     order by m.user_id, m.customer_id
     for update of m skip locked
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
  v_points := private.loyalty_earn(p_user_id, v_order.customer_id, 'earn_purchase', floor(v_order.total * v_rate)::integer,
                                   'order:' || p_order_id, 'Order ' || v_order.shop_order_id, p_now, null, p_order_id);
  return jsonb_build_object('points', v_points);
end
$$;

/**
 * The points an order earned a member (its buyer's purchase points, or its referrer's referral
 * points), and what refunds and a cancellation have taken back of them so far.
 */
create or replace function private.loyalty_order_points(p_user_id uuid, p_customer_id uuid, p_order_id uuid)
returns table (earned integer, taken integer)
language sql
stable
set search_path = ''
as $$
  select coalesce(sum(t.points) filter (where t.type like 'earn\_%'), 0)::integer,
         coalesce(sum(-t.points + t.shortfall) filter (where t.type = 'clawback'), 0)::integer
    from public.points_transactions t
   where t.user_id = p_user_id and t.customer_id = p_customer_id and t.order_id = p_order_id
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
    return jsonb_build_object('points', 0);
  end if;
  v_seq := private.loyalty_post(p_user_id, v.customer_id, 'clawback', -v_target, 'refund:' || p_refund_id,
                                'Refund of order ' || v.shop_order_id, p_now, null, true, v.order_id);
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
    return jsonb_build_object('points', 0);
  end if;
  perform private.loyalty_post(p_user_id, v_order.customer_id, 'clawback', -v_left, 'cancel:' || p_order_id,
                               'Cancellation of order ' || v_order.shop_order_id, p_now, null, true, p_order_id);
  return jsonb_build_object('points', -v_left);
end
$$;

select private.register_order_handler('order', 'loyalty', 300, 'private.loyalty_on_order(uuid,uuid,timestamptz)');
select private.register_order_handler('refund', 'loyalty', 300, 'private.loyalty_on_refund(uuid,uuid,timestamptz)');
select private.register_order_handler('cancel', 'loyalty', 300, 'private.loyalty_on_cancel(uuid,uuid,timestamptz)');
