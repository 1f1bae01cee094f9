-- Win-back campaigns (seed 18.1-18.2, defects S1, S7, S21-S23). A campaign targets customers
-- who are at risk or churned, holds back a fixed share of them as a control group that is never
-- contacted, and sends the rest one "Win-back Offer" event each through the Klaviyo outbox at
-- the moment they became at risk (or churned) plus the campaign's delay. An order inside the
-- attribution window after that moment is a recovery, for both groups alike, so the lift of
-- the campaign is the difference of the two recovery rates.
--
-- How customers get in: activation enrols everyone eligible then (one set-based statement);
-- afterwards the stage changes the journey queues for the consumer 'winback' enrol those who
-- become eligible, so nothing scans all customers. Holdout is decided by a hash of campaign and
-- customer: the same customer always lands in the same group of a campaign.
--
-- Counters (targeted, sent, opened, clicked, recovered, revenue) change only in SQL, in the
-- transaction of the change they count (S1): each change appends a row of deltas, which the
-- rollups cron folds into the campaign, and readers add what is not folded yet. A send, an
-- open or an order therefore never waits on the campaign's row, and the only locks taken in
-- the hot paths are the message's and the recipient's, always in that order (the outbox
-- locks the message, its hooks the recipient); a change of the campaign itself (activate,
-- pause, complete) takes the campaign's row with FOR NO KEY UPDATE, which the deltas' and
-- recipients' foreign keys do not wait for, then messages, then recipients. No cycle.

create table public.winback_campaigns (
  user_id uuid not null references auth.users (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 120),
  description text check (length(description) <= 2000),
  target_stages text[] not null default '{at_risk,churned}'
    check (cardinality(target_stages) between 1 and 2 and target_stages <@ '{at_risk,churned}'::text[]),
  -- Days since the last order (or since they joined, without one) before the offer goes.
  min_days_inactive integer not null default 0 check (min_days_inactive between 0 and 3650),
  max_days_inactive integer check (max_days_inactive between 1 and 3650),
  min_lifetime_value numeric(12, 2) not null default 0 check (min_lifetime_value >= 0),
  -- The merchant's collection slugs; empty means every customer.
  target_collections text[] not null default '{}' check (cardinality(target_collections) <= 100),
  incentive_type text not null default 'none'
    check (incentive_type in ('none', 'percentage_discount', 'fixed_discount', 'free_shipping', 'points')),
  incentive_value numeric(12, 2),
  -- How long an issued coupon stays valid after the offer goes.
  coupon_days integer not null default 30 check (coupon_days between 1 and 365),
  send_delay_days integer not null default 0 check (send_delay_days between 0 and 365),
  holdout_percent integer not null default 10 check (holdout_percent between 0 and 50),
  attribution_days integer not null default 30 check (attribution_days between 1 and 365),
  status text not null default 'draft' check (status in ('draft', 'active', 'paused', 'completed')),
  -- The audience is being enrolled in batches after activation (a large one takes a while).
  enrolling boolean not null default false,
  starts_at timestamptz,
  ends_at timestamptz,
  activated_at timestamptz,
  completed_at timestamptz,
  customers_targeted integer not null default 0 check (customers_targeted >= 0),
  control_count integer not null default 0 check (control_count >= 0),
  emails_sent integer not null default 0 check (emails_sent >= 0),
  emails_opened integer not null default 0 check (emails_opened >= 0),
  emails_clicked integer not null default 0 check (emails_clicked >= 0),
  customers_recovered integer not null default 0 check (customers_recovered >= 0),
  revenue_recovered numeric(14, 2) not null default 0 check (revenue_recovered >= 0),
  control_recovered integer not null default 0 check (control_recovered >= 0),
  control_revenue numeric(14, 2) not null default 0 check (control_revenue >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, id),
  check (max_days_inactive is null or max_days_inactive >= min_days_inactive),
  check (ends_at is null or starts_at is null or ends_at > starts_at),
  check (case incentive_type
           when 'none' then incentive_value is null
           when 'free_shipping' then incentive_value is null
           when 'percentage_discount' then incentive_value > 0 and incentive_value <= 100
           when 'fixed_discount' then incentive_value > 0 and incentive_value <= 100000
           when 'points' then incentive_value >= 1 and incentive_value <= 1000000 and incentive_value = trunc(incentive_value)
         end)
);
create index winback_campaigns_list_idx on public.winback_campaigns (user_id, created_at desc, id);
-- The campaigns a stage change can enrol into, and those the cron ends.
create index winback_campaigns_running_idx on public.winback_campaigns (user_id) where status in ('active', 'paused');
create index winback_campaigns_ending_idx on public.winback_campaigns (ends_at) where status in ('active', 'paused');
create trigger winback_campaigns_updated_at before update on public.winback_campaigns
  for each row execute function public.update_updated_at_column();

create table public.winback_recipients (
  user_id uuid not null,
  id uuid not null default gen_random_uuid(),
  campaign_id uuid not null,
  customer_id uuid not null,
  arm text not null check (arm in ('treatment', 'control')),
  -- pending: waiting for its send; control: held back, never contacted; sent, opened, clicked,
  -- recovered: how far it went; cancelled: ordered before the offer's moment (either group: the
  -- one exclusion from the comparison); unsubscribed: unsubscribed before it went; expired: it
  -- did not go (the campaign ended first, or the customer had left the target stages).
  status text not null check (status in ('pending', 'control', 'sent', 'opened', 'clicked', 'recovered', 'cancelled',
                                          'unsubscribed', 'expired')),
  -- When the customer entered the stage that made them eligible.
  eligible_at timestamptz not null,
  -- When the offer goes (for the control group: would have gone); the attribution window opens here.
  send_at timestamptz not null,
  enrolled_at timestamptz not null,
  message_id uuid,
  -- Unguessable: the email's links and open pixel carry it back (/api/track/winback/<token>).
  tracking_token text not null default replace(gen_random_uuid()::text, '-', '') check (tracking_token ~ '^[0-9a-f]{32}$'),
  coupon_id uuid,
  coupon_code text,
  points_awarded integer not null default 0 check (points_awarded >= 0),
  sent_at timestamptz,
  opened_at timestamptz,
  clicked_at timestamptz,
  recovered_at timestamptz,
  recovery_order_id uuid,
  recovery_value numeric(12, 2) not null default 0 check (recovery_value >= 0),
  ended_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, id),
  unique (user_id, campaign_id, customer_id),
  unique (user_id, message_id),
  unique (user_id, tracking_token),
  foreign key (user_id, campaign_id) references public.winback_campaigns (user_id, id) on delete cascade,
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade,
  foreign key (user_id, recovery_order_id) references public.orders (user_id, id) on delete set null (recovery_order_id),
  -- Each treatment recipient has its message; the control group has none and is never sent.
  check ((arm = 'treatment') = (message_id is not null)),
  check (arm = 'treatment' or (status in ('control', 'cancelled', 'expired') and sent_at is null and coupon_id is null
                               and points_awarded = 0)),
  check (status <> 'control' or arm = 'control'),
  check (status <> 'recovered' or recovered_at is not null)
);
-- The recipients table of a campaign, by status; and its results.
create index winback_recipients_campaign_idx on public.winback_recipients (user_id, campaign_id, status, id);
-- A customer's enrolments: recovery on their orders, exclusion from a second campaign.
create index winback_recipients_customer_idx on public.winback_recipients (user_id, customer_id);
create index winback_recipients_order_idx on public.winback_recipients (user_id, recovery_order_id) where recovery_order_id is not null;
-- The recipients table unfiltered (by id), and recoveries by day.
create index winback_recipients_page_idx on public.winback_recipients (user_id, campaign_id, id);
create index winback_recipients_recovered_idx on public.winback_recipients (user_id, campaign_id, recovered_at) where recovered_at is not null;
-- A tracked link or open arrives with the token alone (unique per merchant, and 122 random
-- bits across merchants: not a global unique key, which a schema distributed by user_id
-- could not keep).
create index winback_recipients_token_idx on public.winback_recipients (tracking_token);
create trigger winback_recipients_updated_at before update on public.winback_recipients
  for each row execute function public.update_updated_at_column();

-- Changes of a campaign's counters not yet folded into it (see the top of this file).
create table public.winback_campaign_deltas (
  user_id uuid not null,
  id bigint generated always as identity,
  campaign_id uuid not null,
  targeted integer not null default 0,
  control integer not null default 0,
  sent integer not null default 0,
  opened integer not null default 0,
  clicked integer not null default 0,
  recovered integer not null default 0,
  revenue numeric(14, 2) not null default 0,
  control_recovered integer not null default 0,
  control_revenue numeric(14, 2) not null default 0,
  primary key (user_id, id),
  foreign key (user_id, campaign_id) references public.winback_campaigns (user_id, id) on delete cascade
);
create index winback_campaign_deltas_campaign_idx on public.winback_campaign_deltas (user_id, campaign_id);

alter table public.winback_campaigns enable row level security;
alter table public.winback_recipients enable row level security;
alter table public.winback_campaign_deltas enable row level security;
create policy winback_campaign_deltas_owner on public.winback_campaign_deltas for select to authenticated using (user_id = (select auth.uid()));
create policy winback_campaigns_owner on public.winback_campaigns for select to authenticated using (user_id = (select auth.uid()));
create policy winback_recipients_owner on public.winback_recipients for select to authenticated using (user_id = (select auth.uid()));
revoke all on public.winback_campaigns, public.winback_recipients, public.winback_campaign_deltas from anon, authenticated;
-- Campaigns and recipients are written through the server's functions (ownership, status and
-- counters are checked there); the API roles read their own.
grant select on public.winback_campaigns, public.winback_recipients, public.winback_campaign_deltas to authenticated;

/** Count a change of a campaign's figures (appended; folded by private.compact_winback). */
create or replace function private.winback_count(p_user_id uuid, p_campaign_id uuid, p_targeted integer default 0,
  p_control integer default 0, p_sent integer default 0, p_opened integer default 0, p_clicked integer default 0,
  p_recovered integer default 0, p_revenue numeric default 0, p_control_recovered integer default 0,
  p_control_revenue numeric default 0)
returns void
language sql
volatile
set search_path = ''
as $$
  insert into public.winback_campaign_deltas (user_id, campaign_id, targeted, control, sent, opened, clicked, recovered, revenue,
                                              control_recovered, control_revenue)
  values (p_user_id, p_campaign_id, p_targeted, p_control, p_sent, p_opened, p_clicked, p_recovered, p_revenue,
          p_control_recovered, p_control_revenue)
$$;

/** Fold up to p_limit deltas into their campaigns (the rollups cron); returns how many. */
create or replace function private.compact_winback(p_limit integer default 100000)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_n integer;
begin
  -- One folder at a time, in id order: a change and its reversal (a recovery, then its
  -- cancellation) fold in the order they were made, so no total is ever seen below zero.
  perform pg_advisory_xact_lock(hashtextextended('compact_winback', 0));
  with taken as (
    select d.user_id, d.id from public.winback_campaign_deltas d order by d.user_id, d.id limit p_limit
  ), gone as (
    delete from public.winback_campaign_deltas d using taken t where d.user_id = t.user_id and d.id = t.id
    returning d.*
  ), sums as (
    select g.user_id, g.campaign_id, count(*) as n, sum(g.targeted) as targeted, sum(g.control) as control, sum(g.sent) as sent,
           sum(g.opened) as opened, sum(g.clicked) as clicked, sum(g.recovered) as recovered, sum(g.revenue) as revenue,
           sum(g.control_recovered) as control_recovered, sum(g.control_revenue) as control_revenue
      from gone g group by 1, 2
  ), folded as (
    update public.winback_campaigns w
       set customers_targeted = w.customers_targeted + s.targeted, control_count = w.control_count + s.control,
           emails_sent = w.emails_sent + s.sent, emails_opened = w.emails_opened + s.opened, emails_clicked = w.emails_clicked + s.clicked,
           customers_recovered = w.customers_recovered + s.recovered, revenue_recovered = w.revenue_recovered + s.revenue,
           control_recovered = w.control_recovered + s.control_recovered, control_revenue = w.control_revenue + s.control_revenue
      from sums s where w.user_id = s.user_id and w.id = s.campaign_id
    returning s.n
  )
  select coalesce(sum(n), 0)::int into v_n from folded;
  return v_n;
end
$$;

/** A merchant's campaigns with their figures up to now (folded totals plus pending deltas). */
create or replace function private.winback_campaign_figures(p_user_id uuid, p_campaign_ids uuid[] default null)
returns table (campaign_id uuid, targeted integer, control integer, sent integer, opened integer, clicked integer,
               recovered integer, revenue numeric, control_recovered integer, control_revenue numeric)
language sql
stable
set search_path = ''
as $$
  select w.id,
         w.customers_targeted + coalesce(d.targeted, 0), w.control_count + coalesce(d.control, 0),
         w.emails_sent + coalesce(d.sent, 0), w.emails_opened + coalesce(d.opened, 0), w.emails_clicked + coalesce(d.clicked, 0),
         w.customers_recovered + coalesce(d.recovered, 0), w.revenue_recovered + coalesce(d.revenue, 0),
         w.control_recovered + coalesce(d.control_recovered, 0), w.control_revenue + coalesce(d.control_revenue, 0)
    from public.winback_campaigns w
    left join lateral (
      select sum(x.targeted)::int as targeted, sum(x.control)::int as control, sum(x.sent)::int as sent, sum(x.opened)::int as opened,
             sum(x.clicked)::int as clicked, sum(x.recovered)::int as recovered, sum(x.revenue) as revenue,
             sum(x.control_recovered)::int as control_recovered, sum(x.control_revenue) as control_revenue
        from public.winback_campaign_deltas x where x.user_id = w.user_id and x.campaign_id = w.id
    ) d on true
   where w.user_id = p_user_id and (p_campaign_ids is null or w.id = any (p_campaign_ids))
$$;

/** A campaign of the merchant, locked for a change; 404 for anyone else's id (S7). */
create or replace function private.winback_campaign_for_update(p_user_id uuid, p_campaign_id uuid)
returns public.winback_campaigns
language plpgsql
volatile
set search_path = ''
as $$
declare
  v public.winback_campaigns;
begin
  select * into v from public.winback_campaigns w where w.user_id = p_user_id and w.id = p_campaign_id for no key update;
  if not found then
    raise exception 'Campaign not found' using errcode = 'HH404';
  end if;
  return v;
end
$$;

/**
 * Who a campaign (as a row: stored, or the form's unsaved one) would enrol now, among
 * p_customers (null: all of the campaign owner's customers): in a target stage, subscribed to
 * email, at or above the lifetime value, in a target collection, not inactive for longer than
 * the maximum, not in this campaign already and not waiting in another running campaign. Only
 * ever the campaign's own merchant's customers (S7). send_at is when they entered the stage
 * plus the delay, and no earlier than the minimum inactivity (days since the last order, or
 * since they joined) and the campaign's start; one whose send would fall after the end is left out.
 */
create or replace function private.winback_candidates_of(p_w public.winback_campaigns, p_customers uuid[], p_now timestamptz)
returns table (customer_id uuid, eligible_at timestamptz, send_at timestamptz, arm text)
language sql
stable
set search_path = ''
as $$
  select c.id, e.eligible_at, s.send_at,
         case when p_w.holdout_percent > 0
                and (hashtextextended(p_w.id::text || '/' || c.id::text, 0) & 2147483647) % 100 < p_w.holdout_percent
              then 'control' else 'treatment' end
    from (
      -- All of the merchant's customers, or just those named (a batch, a stage change): two
      -- branches, one skipped at run time, so a named list is found by the primary key instead of
      -- being looked for in every customer (an OR with "is null" would keep one plan for both).
      select x.* from public.customers x where p_customers is null and x.user_id = p_w.user_id
      union all
      select x.* from unnest(p_customers) n(id) join public.customers x on x.user_id = p_w.user_id and x.id = n.id
    ) c
   cross join lateral (
     select coalesce(case c.stage when 'at_risk' then c.became_at_risk_at when 'churned' then c.became_churned_at end,
                     c.stage_changed_at, c.created_at) as eligible_at
   ) e
   cross join lateral (
     select greatest(e.eligible_at + make_interval(days => p_w.send_delay_days),
                     coalesce(c.last_purchase_at, c.created_at) + make_interval(days => p_w.min_days_inactive),
                     coalesce(p_w.starts_at, '-infinity'::timestamptz)) as send_at
   ) s
   where c.stage = any (p_w.target_stages)
     and c.email_subscribed
     and c.lifetime_value >= p_w.min_lifetime_value
     and (cardinality(p_w.target_collections) = 0 or c.primary_collection = any (p_w.target_collections))
     and (p_w.max_days_inactive is null or coalesce(c.last_purchase_at, c.created_at) > p_now - make_interval(days => p_w.max_days_inactive))
     and (p_w.ends_at is null or s.send_at < p_w.ends_at)
     -- Not in this campaign already, and not inside another campaign's window (waiting for its
     -- moment, or within its attribution days): one order is credited to one campaign, and no
     -- control customer is sent another campaign's offer while it is being measured.
     and not exists (
       select 1 from public.winback_recipients r
         join public.winback_campaigns o on o.user_id = r.user_id and o.id = r.campaign_id
        where r.user_id = c.user_id and r.customer_id = c.id
          and (r.campaign_id = p_w.id
               or (r.status <> 'cancelled' and r.send_at + make_interval(days => o.attribution_days) > p_now))
     )
$$;

/** The candidates of the merchant's stored campaign; another merchant's campaign id finds nothing (S7). */
create or replace function private.winback_candidates(p_user_id uuid, p_campaign_id uuid, p_customers uuid[], p_now timestamptz)
returns table (customer_id uuid, eligible_at timestamptz, send_at timestamptz, arm text)
language sql
stable
set search_path = ''
as $$
  select k.* from public.winback_campaigns w
   cross join lateral private.winback_candidates_of(w, p_customers, p_now) k
   where w.user_id = p_user_id and w.id = p_campaign_id
$$;

/**
 * The audience a campaign would have now: how many, how many held back, how many would be sent
 * at once (their moment has passed) and how many later; for the form's live preview.
 */
create or replace function private.winback_audience(p_w public.winback_campaigns, p_now timestamptz)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'eligible', count(*)::int,
    'treatment', (count(*) filter (where k.arm = 'treatment'))::int,
    'control', (count(*) filter (where k.arm = 'control'))::int,
    'dueNow', (count(*) filter (where k.arm = 'treatment' and k.send_at <= p_now))::int,
    'later', (count(*) filter (where k.arm = 'treatment' and k.send_at > p_now))::int)
    from private.winback_candidates_of(p_w, null, p_now) k
$$;

/** The audience of the merchant's stored campaign (zeros for anyone else's id). */
create or replace function private.winback_preview(p_user_id uuid, p_campaign_id uuid, p_now timestamptz default now())
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(
    (select private.winback_audience(w, p_now) from public.winback_campaigns w where w.user_id = p_user_id and w.id = p_campaign_id),
    jsonb_build_object('eligible', 0, 'treatment', 0, 'control', 0, 'dueNow', 0, 'later', 0))
$$;

/**
 * The audience of a campaign not saved yet (the form's fields, as the create schema has checked
 * them), for p_user_id only; p_campaign_id keeps the holdout split of the campaign being edited.
 */
create or replace function private.winback_preview_draft(p_user_id uuid, p_fields jsonb, p_campaign_id uuid default null,
                                                         p_now timestamptz default now())
returns jsonb
language sql
stable
set search_path = ''
as $$
  select private.winback_audience(
    jsonb_populate_record(
      coalesce(
        (select w from public.winback_campaigns w where w.user_id = p_user_id and w.id = p_campaign_id),
        jsonb_populate_record(null::public.winback_campaigns, jsonb_build_object(
          'id', '00000000-0000-0000-0000-000000000000'::uuid, 'name', 'preview', 'status', 'draft',
          'target_stages', '["at_risk", "churned"]'::jsonb, 'min_days_inactive', 0, 'min_lifetime_value', 0,
          'target_collections', '[]'::jsonb, 'send_delay_days', 0, 'holdout_percent', 10, 'attribution_days', 30))),
      (p_fields - 'user_id' - 'id' - 'status') || jsonb_build_object('user_id', p_user_id)),
    p_now)
$$;

/**
 * Enrol the campaign's candidates among p_customers (null: all of the merchant's): recipients
 * in one statement, one outbox message per treatment recipient, and the campaign's counts
 * accumulated (S23: a second enrolment adds, never overwrites). The caller holds the
 * campaign's row lock, so two enrolments of one campaign cannot both insert; the unique key
 * (campaign, customer) makes a repeat a no-op. Offers whose moment has passed are spread from
 * p_spread_from at 50 a second, p_spread_offset of them already placed by earlier batches.
 * Returns {treatment, control}.
 */
create or replace function private.winback_enrol(p_user_id uuid, p_campaign_id uuid, p_customers uuid[], p_now timestamptz,
                                                 p_spread_from timestamptz default null, p_spread_offset integer default 0)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_treatment integer;
  v_control integer;
begin
  with k as (
    select * from private.winback_candidates(p_user_id, p_campaign_id, p_customers, p_now)
  ), enrolled as (
    insert into public.winback_recipients (user_id, campaign_id, customer_id, arm, status, eligible_at, send_at, enrolled_at, message_id)
    select p_user_id, p_campaign_id, k.customer_id, k.arm, case k.arm when 'control' then 'control' else 'pending' end,
           k.eligible_at, k.send_at, p_now, case k.arm when 'treatment' then gen_random_uuid() end
      from k
    on conflict (user_id, campaign_id, customer_id) do nothing
    returning id, customer_id, arm, send_at, message_id
  ), messages as (
    -- Offers whose moment has passed (a whole audience at activation) come due one after the
    -- other at the merchant's sustainable rate, 50 a second (under Klaviyo's steady 3,500 a
    -- minute), rather than all at once: the runner sends them as they fall due instead of
    -- claiming and deferring each one every minute while a backlog drains.
    insert into public.klaviyo_messages (user_id, id, source, source_id, customer_id, metric, due_at)
    select p_user_id, e.message_id, 'winback', e.id, e.customer_id, 'Win-back Offer',
           greatest(e.send_at, coalesce(p_spread_from, p_now)
                               + make_interval(secs => (p_spread_offset + row_number() over (order by e.send_at, e.id) - 1) / 50.0))
      from enrolled e where e.arm = 'treatment'
    returning 1
  )
  select (count(*) filter (where e.arm = 'treatment'))::int, (count(*) filter (where e.arm = 'control'))::int
    into v_treatment, v_control
    from enrolled e;
  if v_treatment + v_control > 0 then
    perform private.winback_count(p_user_id, p_campaign_id, p_targeted => v_treatment, p_control => v_control);
  end if;
  return jsonb_build_object('treatment', v_treatment, 'control', v_control);
end
$$;

/**
 * The next p_size of the merchant's customers by id after p_after: a batch of a large
 * enrolment. Each batch looks at that many customers, whoever is eligible among them, so every
 * batch costs the same however the audience is spread.
 */
create or replace function private.winback_slice(p_user_id uuid, p_after uuid, p_size integer)
returns uuid[]
language sql
stable
set search_path = ''
as $$
  select coalesce(array_agg(x.id order by x.id), '{}') from (
    select c.id from public.customers c
     where c.user_id = p_user_id and (p_after is null or c.id > p_after)
     order by c.id limit p_size) x
$$;

/**
 * Draft -> active: enrol everyone eligible now, idempotently (an active campaign is left as it
 * is and enrols nothing more). Checks ownership (404) and status (409), and refuses a campaign
 * whose end has passed (422).
 */
create or replace function private.winback_activate(p_user_id uuid, p_campaign_id uuid, p_now timestamptz default now(),
                                                    p_batch integer default 5000)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v public.winback_campaigns := private.winback_campaign_for_update(p_user_id, p_campaign_id);
  v_enrolled jsonb;
  v_slice uuid[];
begin
  if v.status = 'active' then
    return jsonb_build_object('status', 'active', 'enrolled', jsonb_build_object('treatment', 0, 'control', 0), 'enrolling', v.enrolling);
  end if;
  if v.status <> 'draft' then
    raise exception 'Only a draft campaign can be activated (this one is %)', v.status using errcode = 'HH409';
  end if;
  if v.ends_at is not null and v.ends_at <= p_now then
    raise exception 'The campaign''s end date has passed' using errcode = 'HH422';
  end if;
  update public.winback_campaigns
     set status = 'active', activated_at = p_now, starts_at = coalesce(starts_at, p_now)
   where user_id = p_user_id and id = p_campaign_id;
  -- The first batch now; a larger audience goes on in a job, a batch per transaction, so an
  -- activation never holds the campaign (or a request) for the whole audience.
  v_slice := private.winback_slice(p_user_id, null, p_batch);
  v_enrolled := private.winback_enrol(p_user_id, p_campaign_id, v_slice, p_now, p_now, 0);
  if cardinality(v_slice) >= p_batch then
    update public.winback_campaigns set enrolling = true where user_id = p_user_id and id = p_campaign_id;
    perform graphile_worker.add_job('winback_enrol', json_build_object('u', p_user_id, 'c', p_campaign_id, 'after', v_slice[cardinality(v_slice)],
                                    'offset', (v_enrolled ->> 'treatment')::int, 'batch', p_batch),
                                    job_key => 'winback-enrol:' || p_campaign_id::text, max_attempts => 10);
  end if;
  perform public.log_activity(p_user_id, 'winback.campaign_activated', 'winback_campaign', p_campaign_id::text, v_enrolled);
  return jsonb_build_object('status', 'active', 'enrolled', v_enrolled, 'enrolling', cardinality(v_slice) >= p_batch);
end
$$;

/**
 * The next batch of an activation's audience (the 'winback_enrol' job, one batch a run): the
 * next p_batch customers by id after p_after. Stops at the last customer, or when the campaign
 * has been completed meanwhile. Returns {done, after, offset} for the job's next run.
 */
create or replace function private.winback_enrol_next(p_user_id uuid, p_campaign_id uuid, p_after uuid, p_offset integer,
                                                      p_batch integer default 5000, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v public.winback_campaigns := private.winback_campaign_for_update(p_user_id, p_campaign_id);
  v_enrolled jsonb;
  v_slice uuid[];
begin
  if not v.enrolling or v.status not in ('active', 'paused') then
    update public.winback_campaigns set enrolling = false where user_id = p_user_id and id = p_campaign_id;
    return jsonb_build_object('done', true);
  end if;
  v_slice := private.winback_slice(p_user_id, p_after, p_batch);
  v_enrolled := private.winback_enrol(p_user_id, p_campaign_id, v_slice, p_now, v.activated_at, p_offset);
  if cardinality(v_slice) < p_batch then
    update public.winback_campaigns set enrolling = false where user_id = p_user_id and id = p_campaign_id;
    return jsonb_build_object('done', true);
  end if;
  return jsonb_build_object('done', false, 'after', v_slice[cardinality(v_slice)], 'offset', p_offset + (v_enrolled ->> 'treatment')::int);
end
$$;

/** Active -> paused: nothing more is sent (messages due meanwhile are held) until resumed (S21). */
create or replace function private.winback_pause(p_user_id uuid, p_campaign_id uuid, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v public.winback_campaigns := private.winback_campaign_for_update(p_user_id, p_campaign_id);
begin
  if v.status = 'paused' then
    return jsonb_build_object('status', 'paused');
  end if;
  if v.status <> 'active' then
    raise exception 'Only an active campaign can be paused (this one is %)', v.status using errcode = 'HH409';
  end if;
  update public.winback_campaigns set status = 'paused' where user_id = p_user_id and id = p_campaign_id;
  perform public.log_activity(p_user_id, 'winback.campaign_paused', 'winback_campaign', p_campaign_id::text);
  return jsonb_build_object('status', 'paused');
end
$$;

/** Paused -> active: held messages go again (those whose moment passed, now). */
create or replace function private.winback_resume(p_user_id uuid, p_campaign_id uuid, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v public.winback_campaigns := private.winback_campaign_for_update(p_user_id, p_campaign_id);
  v_released integer;
begin
  if v.status = 'active' then
    return jsonb_build_object('status', 'active', 'released', 0);
  end if;
  if v.status <> 'paused' then
    raise exception 'Only a paused campaign can be resumed (this one is %)', v.status using errcode = 'HH409';
  end if;
  if v.ends_at is not null and v.ends_at <= p_now then
    raise exception 'The campaign''s end date has passed' using errcode = 'HH422';
  end if;
  update public.winback_campaigns set status = 'active' where user_id = p_user_id and id = p_campaign_id;
  with released as (
    update public.klaviyo_messages m
       set status = 'pending', hold = null, reason = null, due_at = greatest(m.due_at, p_now)
      from public.winback_recipients r
     where r.user_id = p_user_id and r.campaign_id = p_campaign_id and r.status = 'pending'
       and m.user_id = r.user_id and m.id = r.message_id and m.status = 'held' and m.hold = 'paused'
    returning 1
  )
  select count(*)::int into v_released from released;
  perform public.log_activity(p_user_id, 'winback.campaign_resumed', 'winback_campaign', p_campaign_id::text,
                              jsonb_build_object('released', v_released));
  return jsonb_build_object('status', 'active', 'released', v_released);
end
$$;

/**
 * -> completed (by the merchant, or by the cron once ends_at has passed, S22): recipients whose
 * offer has not gone (and control recipients whose moment had not come) are expired and their
 * messages cancelled. Recoveries inside windows already open still count after the end.
 */
create or replace function private.winback_complete(p_user_id uuid, p_campaign_id uuid, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v public.winback_campaigns := private.winback_campaign_for_update(p_user_id, p_campaign_id);
  v_expired integer;
begin
  if v.status = 'completed' then
    return jsonb_build_object('status', 'completed', 'expired', 0);
  end if;
  if v.status = 'draft' then
    raise exception 'A draft campaign is deleted, not completed' using errcode = 'HH409';
  end if;
  -- Messages first (the lock order): those not being sent right now are cancelled; one in
  -- flight keeps its recipient pending until Klaviyo answers, and its next claim, if any,
  -- finds the campaign completed.
  with cancelled as (
    update public.klaviyo_messages m set status = 'cancelled', hold = null, reason = 'The campaign ended'
      from public.winback_recipients r
     where r.user_id = p_user_id and r.campaign_id = p_campaign_id and r.status = 'pending'
       and m.user_id = r.user_id and m.id = r.message_id and m.status in ('pending', 'held', 'failed')
       and (m.lease_until is null or m.lease_until <= p_now)
    returning m.id
  )
  update public.winback_recipients r
     set status = 'expired', ended_reason = 'The campaign ended before the offer went'
    from cancelled c
   where r.user_id = p_user_id and r.message_id = c.id and r.status = 'pending';
  get diagnostics v_expired = row_count;
  -- The control group alike: those whose moment had not come are out of the comparison too.
  update public.winback_recipients r
     set status = 'expired', ended_reason = 'The campaign ended before their moment'
   where r.user_id = p_user_id and r.campaign_id = p_campaign_id and r.status = 'control' and r.send_at > p_now
     and r.recovered_at is null;
  update public.winback_campaigns set status = 'completed', completed_at = p_now,
         ends_at = case when ends_at is null or ends_at > p_now then p_now else ends_at end
   where user_id = p_user_id and id = p_campaign_id;
  perform public.log_activity(p_user_id, 'winback.campaign_completed', 'winback_campaign', p_campaign_id::text,
                              jsonb_build_object('expired', v_expired));
  return jsonb_build_object('status', 'completed', 'expired', v_expired);
end
$$;

/**
 * The cron's work, bounded per call: enrol customers from queued stage changes into the
 * merchant's active campaigns (one enrolment per campaign, for just those customers), then
 * complete campaigns past their end. Safe when two runs overlap: the stage events are taken
 * under the consumer's lock, and each campaign is changed under its row lock.
 */
create or replace function private.winback_tick(p_now timestamptz default now(), p_limit integer default 5000)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  r record;
  v_users uuid[];
  v_customers uuid[];
  v_enrolled integer := 0;
  v_result jsonb;
  v_completed integer := 0;
begin
  select coalesce(array_agg(e.user_id), '{}'), coalesce(array_agg(e.customer_id), '{}') into v_users, v_customers
    from private.take_stage_events('winback', p_limit) e;
  for r in
    select w.user_id, w.id, array_agg(distinct t.customer_id) as customers
      from unnest(v_users, v_customers) t(user_id, customer_id)
      join public.winback_campaigns w on w.user_id = t.user_id and w.status in ('active', 'paused')
     group by w.user_id, w.id
     order by w.user_id, w.id
  loop
    perform private.winback_campaign_for_update(r.user_id, r.id);
    v_result := private.winback_enrol(r.user_id, r.id, r.customers, p_now);
    v_enrolled := v_enrolled + (v_result ->> 'treatment')::int + (v_result ->> 'control')::int;
  end loop;
  for r in
    select w.user_id, w.id from public.winback_campaigns w
     where w.status in ('active', 'paused') and w.ends_at <= p_now
     order by w.ends_at limit 100
       for no key update skip locked
  loop
    perform private.winback_complete(r.user_id, r.id, p_now);
    v_completed := v_completed + 1;
  end loop;
  -- A message held as paused by a claim that raced the resume goes again (bounded).
  with stuck as (
    select m.user_id, m.id from public.klaviyo_messages m
      join public.winback_recipients x on x.user_id = m.user_id and x.message_id = m.id
      join public.winback_campaigns w on w.user_id = x.user_id and w.id = x.campaign_id and w.status = 'active'
     where m.status = 'held' and m.hold = 'paused'
     limit p_limit
       for update of m skip locked
  )
  update public.klaviyo_messages m set status = 'pending', hold = null, reason = null, due_at = greatest(m.due_at, p_now)
    from stuck s where m.user_id = s.user_id and m.id = s.id;
  return jsonb_build_object('events', cardinality(v_users), 'enrolled', v_enrolled, 'completed', v_completed);
end
$$;

select private.register_stage_consumer('winback', array['at_risk', 'churned']);

/**
 * The outbox's prepare hook, in the claim under the message's lock: a paused campaign holds the
 * message (S21); an ended campaign, a recipient no longer waiting, an unsubscribed customer or
 * one who left the target stages cancels it; otherwise the incentive is issued now (once: a
 * retry reuses it) and the event's properties returned.
 */
create or replace function private.winback_prepare(p_user_id uuid, p_message_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_r public.winback_recipients;
  v_w public.winback_campaigns;
  v_c public.customers;
  v_coupon record;
  v_points integer;
begin
  select * into v_r from public.winback_recipients r where r.user_id = p_user_id and r.message_id = p_message_id for update;
  if not found then
    return jsonb_build_object('cancel', 'The recipient is gone');
  end if;
  select * into v_w from public.winback_campaigns w where w.user_id = p_user_id and w.id = v_r.campaign_id;
  if v_r.status <> 'pending' then
    return jsonb_build_object('cancel', 'The recipient is ' || v_r.status);
  end if;
  if v_w.status = 'paused' then
    return jsonb_build_object('hold', 'paused', 'reason', 'The campaign is paused');
  end if;
  if v_w.status <> 'active' then
    update public.winback_recipients set status = 'expired', ended_reason = 'The campaign ended before the offer went'
     where user_id = p_user_id and id = v_r.id;
    return jsonb_build_object('cancel', 'The campaign is ' || v_w.status);
  end if;
  select * into v_c from public.customers c where c.user_id = p_user_id and c.id = v_r.customer_id;
  if not v_c.email_subscribed then
    update public.winback_recipients set status = 'unsubscribed', ended_reason = 'Unsubscribed from email before the offer went'
     where user_id = p_user_id and id = v_r.id;
    return jsonb_build_object('cancel', 'Unsubscribed from email');
  end if;
  if not (v_c.stage = any (v_w.target_stages)) then
    -- Not 'cancelled': only an order before the moment takes a customer out of the comparison
    -- (it does so in both groups); this one stays in the treatment group, not contacted.
    update public.winback_recipients set status = 'expired', ended_reason = 'Came back (now ' || v_c.stage || ') before the offer went'
     where user_id = p_user_id and id = v_r.id;
    return jsonb_build_object('cancel', 'No longer ' || array_to_string(v_w.target_stages, ' or '));
  end if;
  if v_w.incentive_type in ('percentage_discount', 'fixed_discount', 'free_shipping') and v_r.coupon_id is null then
    select * into v_coupon from private.issue_coupon(p_user_id, 'winback', 'WB', jsonb_build_object(
      'discountType', case v_w.incentive_type when 'percentage_discount' then 'percentage' when 'fixed_discount' then 'fixed_amount'
                      else 'free_shipping' end,
      'discountValue', v_w.incentive_value,
      'description', left('Win-back: ' || v_w.name, 500)),
      p_now + make_interval(days => v_w.coupon_days), p_now);
    update public.winback_recipients set coupon_id = v_coupon.id, coupon_code = v_coupon.code
     where user_id = p_user_id and id = v_r.id
    returning * into v_r;
  elsif v_w.incentive_type = 'points' and v_r.points_awarded = 0 then
    v_points := private.loyalty_earn(p_user_id, v_r.customer_id, 'earn_bonus', v_w.incentive_value::integer,
                                     'winback:' || v_r.id::text, left('Win-back: ' || v_w.name, 200), p_now);
    if v_points > 0 then
      update public.winback_recipients set points_awarded = v_points where user_id = p_user_id and id = v_r.id
      returning * into v_r;
    end if;
  end if;
  return jsonb_build_object('properties', jsonb_strip_nulls(jsonb_build_object(
    'campaign_id', v_w.id,
    'campaign_name', v_w.name,
    'incentive_type', v_w.incentive_type,
    'incentive_value', v_w.incentive_value,
    'coupon_code', v_r.coupon_code,
    'coupon_expires_at', (select k.expires_at from public.coupons k where k.user_id = p_user_id and k.id = v_r.coupon_id),
    'points_awarded', nullif(v_r.points_awarded, 0),
    'stage', v_c.stage,
    'primary_collection', v_c.primary_collection,
    -- The email's links and open pixel carry it back (see /api/track/winback); the server adds the URLs.
    'tracking_token', v_r.tracking_token)));
end
$$;

/** The outbox's on_sent hook: the recipient is sent and the campaign counts it, once. */
create or replace function private.winback_on_sent(p_user_id uuid, p_message_id uuid, p_now timestamptz)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_campaign uuid;
begin
  -- The email went, whatever happened to the recipient meanwhile (an order that cancelled it
  -- while the request was in flight): it is counted as sent; only a waiting one becomes 'sent'.
  update public.winback_recipients set sent_at = p_now, status = case when status = 'pending' then 'sent' else status end
   where user_id = p_user_id and message_id = p_message_id and sent_at is null
  returning campaign_id into v_campaign;
  if v_campaign is not null then
    perform private.winback_count(p_user_id, v_campaign, p_sent => 1);
  end if;
end
$$;

select private.register_klaviyo_source('winback', 'private.winback_prepare(uuid,uuid,timestamptz)',
                                       'private.winback_on_sent(uuid,uuid,timestamptz)');

/**
 * Opens and clicks: storefront touchpoints of type email_open / email_click that reference a
 * recipient (reference_type 'winback', reference_id its id, as the email's links carry it)
 * move a sent recipient to opened / clicked, and the campaign counts each first open and first
 * click once. A click implies an open. Only the customer's own recipient moves: the touchpoint's
 * customer must be the recipient's.
 */
create or replace function private.winback_touchpoints()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select 1 from new_rows t where t.reference_type = 'winback' and t.type in ('email_open', 'email_click')) then
    return null;
  end if;
  with hits as (
    select t.user_id, t.customer_id, t.reference_id::uuid as recipient_id,
           min(t.occurred_at) filter (where t.type = 'email_open') as opened,
           min(t.occurred_at) filter (where t.type = 'email_click') as clicked
      from new_rows t
     where t.reference_type = 'winback' and t.type in ('email_open', 'email_click')
       and t.reference_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
     group by 1, 2, 3
  ), cur as (
    select r.user_id, r.id, r.campaign_id,
           r.opened_at is null as first_open,
           r.clicked_at is null and h.clicked is not null as first_click,
           coalesce(r.opened_at, least(h.opened, h.clicked)) as opened_at,
           coalesce(r.clicked_at, h.clicked) as clicked_at
      from hits h
      join public.winback_recipients r on r.user_id = h.user_id and r.id = h.recipient_id and r.customer_id = h.customer_id
     where r.arm = 'treatment' and r.sent_at is not null and (r.opened_at is null or (r.clicked_at is null and h.clicked is not null))
       for update of r
  ), moved as (
    update public.winback_recipients r
       set opened_at = c.opened_at, clicked_at = c.clicked_at,
           status = case when r.status in ('sent', 'opened') and c.clicked_at is not null then 'clicked'
                         when r.status = 'sent' then 'opened' else r.status end
      from cur c
     where r.user_id = c.user_id and r.id = c.id
    returning r.user_id, r.campaign_id, c.first_open, c.first_click
  )
  insert into public.winback_campaign_deltas (user_id, campaign_id, opened, clicked)
  select m.user_id, m.campaign_id, (count(*) filter (where m.first_open))::int, (count(*) filter (where m.first_click))::int
    from moved m group by 1, 2;
  return null;
end
$$;
create trigger touchpoints_winback after insert on public.touchpoints
  referencing new table as new_rows
  for each statement execute function private.winback_touchpoints();

/** Put a recipient's campaign counters right after its recovery changed by (recovered, revenue). */
create or replace function private.winback_count_recovery(p_user_id uuid, p_campaign_id uuid, p_arm text, p_recovered integer, p_revenue numeric)
returns void
language sql
volatile
set search_path = ''
as $$
  select private.winback_count(p_user_id, p_campaign_id,
    p_recovered => case when p_arm = 'treatment' then p_recovered else 0 end,
    p_revenue => case when p_arm = 'treatment' then p_revenue else 0 end,
    p_control_recovered => case when p_arm = 'control' then p_recovered else 0 end,
    p_control_revenue => case when p_arm = 'control' then p_revenue else 0 end)
$$;

/**
 * Order handler (S23): a paid order of the customer inside a recipient's attribution window
 * (from send_at, for attribution_days) recovers that recipient, in either group, with the
 * order's value; the first such order counts. An order before the offer's moment means the
 * customer came back on their own: a waiting recipient (either group) is cancelled, and its
 * message with it, so both groups lose such customers alike.
 */
create or replace function private.winback_on_order(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_order public.orders;
  v_recovered integer := 0;
  v_cancelled integer := 0;
  v_rec record;
begin
  select * into v_order from public.orders o where o.user_id = p_user_id and o.id = p_order_id;
  if not found or v_order.customer_id is null or v_order.cancelled_at is not null or v_order.total <= 0
     -- Most orders are from customers no campaign has enrolled: one index probe, then done.
     or not exists (select 1 from public.winback_recipients r where r.user_id = p_user_id and r.customer_id = v_order.customer_id) then
    return jsonb_build_object('recovered', 0, 'cancelled', 0);
  end if;
  -- Only recipients change here; a cancelled or recovered recipient's message is cancelled by
  -- its own claim (the outbox's prepare hook), which keeps the lock order message -> recipient.
  update public.winback_recipients r
     set status = 'cancelled', ended_reason = 'Ordered before the offer went'
   where r.user_id = p_user_id and r.customer_id = v_order.customer_id
     and r.status in ('pending', 'control') and r.recovered_at is null and r.send_at > v_order.ordered_at;
  get diagnostics v_cancelled = row_count;
  for v_rec in
    update public.winback_recipients x
       set recovered_at = v_order.ordered_at, recovery_order_id = v_order.id, recovery_value = v_order.total - v_order.refunded_total,
           status = case when x.arm = 'treatment' then 'recovered' else x.status end
      from public.winback_campaigns w
     where x.user_id = p_user_id and x.customer_id = v_order.customer_id and x.recovered_at is null
       and x.status <> 'cancelled'
       and w.user_id = x.user_id and w.id = x.campaign_id
       -- Their moment came while the campaign ran (one expired before it is out of the comparison).
       and x.send_at <= coalesce(w.completed_at, 'infinity')
       and v_order.ordered_at >= x.send_at and v_order.ordered_at < x.send_at + make_interval(days => w.attribution_days)
    returning x.campaign_id, x.arm, x.recovery_value
  loop
    perform private.winback_count_recovery(p_user_id, v_rec.campaign_id, v_rec.arm, 1, v_rec.recovery_value);
    v_recovered := v_recovered + 1;
  end loop;
  return jsonb_build_object('recovered', v_recovered, 'cancelled', v_cancelled);
end
$$;

/** Refund handler: a refund inside the window lowers the recovery's value (and the campaign's revenue). */
create or replace function private.winback_on_refund(p_user_id uuid, p_refund_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_refund public.order_refunds;
  v_lowered numeric := 0;
  r record;
begin
  select * into v_refund from public.order_refunds f where f.user_id = p_user_id and f.id = p_refund_id;
  if not found or v_refund.order_id is null then
    return jsonb_build_object('lowered', 0);
  end if;
  for r in
    with cur as (
      select x.id, x.campaign_id, x.arm, x.recovery_value as before
        from public.winback_recipients x
        join public.winback_campaigns w on w.user_id = x.user_id and w.id = x.campaign_id
       where x.user_id = p_user_id and x.recovery_order_id = v_refund.order_id
         and v_refund.refunded_at < x.send_at + make_interval(days => w.attribution_days)
         for update of x
    )
    update public.winback_recipients x set recovery_value = greatest(x.recovery_value - v_refund.amount, 0)
      from cur where x.user_id = p_user_id and x.id = cur.id
    returning x.campaign_id, x.arm, x.recovery_value - cur.before as delta
  loop
    perform private.winback_count_recovery(p_user_id, r.campaign_id, r.arm, 0, r.delta);
    v_lowered := v_lowered - r.delta;
  end loop;
  return jsonb_build_object('lowered', v_lowered);
end
$$;

/** Cancellation handler: a cancelled order recovers nobody; the recipient goes back to how far the email got. */
create or replace function private.winback_on_cancel(p_user_id uuid, p_order_id uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_reverted integer := 0;
  r record;
begin
  for r in
    with cur as (
      select x.id, x.recovery_value as before from public.winback_recipients x
       where x.user_id = p_user_id and x.recovery_order_id = p_order_id
         for update
    )
    update public.winback_recipients x
       set recovered_at = null, recovery_order_id = null, recovery_value = 0,
           status = case when x.arm = 'control' then x.status
                         when x.clicked_at is not null then 'clicked' when x.opened_at is not null then 'opened'
                         when x.sent_at is not null then 'sent'
                         -- Its offer may still be waiting; if it was called off, it will not go now.
                         when exists (select 1 from public.klaviyo_messages m where m.user_id = x.user_id and m.id = x.message_id
                                        and m.status in ('pending', 'held')) then 'pending'
                         else 'expired' end
      from cur where x.user_id = p_user_id and x.id = cur.id
    returning x.campaign_id, x.arm, cur.before
  loop
    perform private.winback_count_recovery(p_user_id, r.campaign_id, r.arm, -1, -r.before);
    v_reverted := v_reverted + 1;
  end loop;
  return jsonb_build_object('reverted', v_reverted);
end
$$;

-- Before loyalty (300): a claim with a points incentive locks the recipient, then the member;
-- the pipeline takes them in the same order, so the two cannot deadlock.
select private.register_order_handler('order', 'winback', 250, 'private.winback_on_order(uuid,uuid,timestamptz)');
select private.register_order_handler('refund', 'winback', 250, 'private.winback_on_refund(uuid,uuid,timestamptz)');
select private.register_order_handler('cancel', 'winback', 250, 'private.winback_on_cancel(uuid,uuid,timestamptz)');

/**
 * Wilson's score interval for a share x/n at 95% (z = 1.96): [low, high]; better than p +/- z*se
 * for small groups and for shares near 0 or 1 (it is never zero-width).
 */
create or replace function private.wilson(p_x integer, p_n integer)
returns numeric[]
language sql
immutable
set search_path = ''
as $$
  select case when p_n = 0 then null else array[
    (p + z * z / (2 * n) - z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n),
    (p + z * z / (2 * n) + z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)] end
    from (select p_x::numeric / nullif(p_n, 0) as p, p_n::numeric as n, 1.96::numeric as z) v
$$;

/**
 * A campaign's results from its stored rows. The groups are compared over recipients whose
 * moment has come (send_at passed, while the campaign ran), as the random split made them:
 * in the treatment group whether or not the email went (intention to treat: delivery trouble,
 * a pause or an early end show as less lift instead of quietly leaving the group), the
 * control group never contacted. The one exclusion is symmetric: a customer who ordered before
 * their moment, in either group. Recovery rate = recovered / group size; lift = treatment rate
 * - control rate, with Newcombe's 95% interval for a difference of two shares (from each
 * group's Wilson interval). Below p_min_group customers in either group there is not enough
 * data yet and no lift is given. `open` counts who is still inside their window: their
 * recovery can still come, so the rates can still rise.
 */
create or replace function private.winback_results(p_user_id uuid, p_campaign_id uuid, p_now timestamptz default now(),
                                                    p_min_group integer default 30)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  f record;
  g record;
  v_pt numeric;
  v_pc numeric;
  v_wt numeric[];
  v_wc numeric[];
  v_lift numeric;
  v_lower numeric;
  v_upper numeric;
begin
  select * into f from private.winback_campaign_figures(p_user_id, array[p_campaign_id]);
  if not found then
    raise exception 'Campaign not found' using errcode = 'HH404';
  end if;
  select (count(*) filter (where r.arm = 'treatment'))::int as nt,
         (count(*) filter (where r.arm = 'treatment' and r.recovered_at is not null))::int as xt,
         (count(*) filter (where r.arm = 'control'))::int as nc,
         (count(*) filter (where r.arm = 'control' and r.recovered_at is not null))::int as xc,
         (count(*) filter (where r.recovered_at is null and r.send_at + make_interval(days => w.attribution_days) > p_now))::int as open
    into g
    from public.winback_recipients r
    join public.winback_campaigns w on w.user_id = r.user_id and w.id = r.campaign_id
   where r.user_id = p_user_id and r.campaign_id = p_campaign_id
     and r.send_at <= least(p_now, coalesce(w.completed_at, p_now))
     and r.status <> 'cancelled';
  if g.nt >= p_min_group and g.nc >= p_min_group then
    v_pt := g.xt::numeric / g.nt;
    v_pc := g.xc::numeric / g.nc;
    v_lift := v_pt - v_pc;
    v_wt := private.wilson(g.xt, g.nt);
    v_wc := private.wilson(g.xc, g.nc);
    v_lower := v_lift - sqrt(power(v_pt - v_wt[1], 2) + power(v_wc[2] - v_pc, 2));
    v_upper := v_lift + sqrt(power(v_wt[2] - v_pt, 2) + power(v_pc - v_wc[1], 2));
  end if;
  return jsonb_build_object(
    'targeted', f.targeted,
    'control', f.control,
    'sent', f.sent,
    'opened', f.opened,
    'clicked', f.clicked,
    'recovered', f.recovered,
    'revenue', f.revenue,
    'controlRecovered', f.control_recovered,
    'controlRevenue', f.control_revenue,
    'comparison', jsonb_build_object(
      'treatment', jsonb_build_object('size', g.nt, 'recovered', g.xt, 'rate', case when g.nt > 0 then round(g.xt::numeric / g.nt, 6) end),
      'control', jsonb_build_object('size', g.nc, 'recovered', g.xc, 'rate', case when g.nc > 0 then round(g.xc::numeric / g.nc, 6) end),
      'open', g.open,
      'minimumGroup', p_min_group,
      'enoughData', v_lift is not null,
      'lift', round(v_lift, 6),
      'lower', round(v_lower, 6),
      'upper', round(v_upper, 6)));
end
$$;

/**
 * A tracked open or click from the email (the open pixel, a link through
 * /api/track/winback/<token>): the token finds its recipient, and the event is recorded as
 * the customer's touchpoint (which moves the recipient to opened or clicked, once). Unknown
 * tokens, control recipients and unsent offers record nothing. Returns the merchant's shop
 * domain for the redirect, or null.
 */
create or replace function private.winback_track(p_token text, p_type text, p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_r public.winback_recipients;
  v_email text;
begin
  if p_type not in ('email_open', 'email_click') or p_token !~ '^[0-9a-f]{32}$' then
    return null;
  end if;
  select * into v_r from public.winback_recipients r where r.tracking_token = p_token;
  if not found then
    return null;
  end if;
  if v_r.arm = 'treatment' and v_r.sent_at is not null then
    select c.email into v_email from public.customers c where c.user_id = v_r.user_id and c.id = v_r.customer_id;
    perform private.record_touchpoints(v_r.user_id, jsonb_build_array(jsonb_build_object(
      'email', v_email, 'type', p_type, 'channel', 'email', 'occurredAt', p_now,
      'referenceType', 'winback', 'referenceId', v_r.id::text)), p_now);
  end if;
  return jsonb_build_object('shopDomain', (select s.shop_domain from public.merchant_settings s where s.user_id = v_r.user_id));
end
$$;
