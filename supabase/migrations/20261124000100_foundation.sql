-- Foundation: privilege defaults, shared helpers, merchant settings and credentials,
-- activity log, leads, and the private schema for server-only functions and tables.

-- Nothing new is executable or readable by the API roles unless a migration grants it.
-- (Supabase grants everything in public to anon/authenticated by default.)
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from anon, authenticated;
alter default privileges in schema public revoke all on tables from anon;
alter default privileges in schema public revoke all on sequences from anon;
-- Each migration grants authenticated exactly what the dashboard needs; TRUNCATE in
-- particular is not subject to row level security.
alter default privileges in schema public revoke all on tables from authenticated;
alter default privileges in schema public revoke all on sequences from authenticated;

-- The server connects as the owner and switches to `authenticated` per request (withTenant):
-- it must be a member. Supabase's postgres role already is; grant it elsewhere if we can.
do $$
begin
  if not pg_has_role(current_user, 'authenticated', 'member') then
    execute format('grant authenticated to %I', current_user);
  end if;
exception when insufficient_privilege then
  raise warning 'Grant role authenticated to % so requests can run under row level security', current_user;
end
$$;

-- Server-only code lives here: not exposed through the API, no usage for API roles.
create schema if not exists private;
revoke all on schema private from public;

/** Trigger: keep updated_at current on every update. */
create or replace function public.update_updated_at_column()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

/**
 * Canonical form of an email address: trimmed, lower case (one person, one address). plpgsql, not SQL: a SQL
 * function with a pinned search_path is never inlined and re-plans on every call, which made
 * each check constraint and batch row pay for a plan.
 */
create or replace function public.normalize_email(p_email text)
returns text
language plpgsql
immutable
parallel safe
set search_path = ''
as $$ begin return nullif(lower(btrim(p_email)), ''); end $$;
grant execute on function public.normalize_email(text) to authenticated, service_role;

/** A new publishable key: `pk_` and 32 hex digits from gen_random_uuid's 122 random bits. */
create or replace function public.new_publishable_key()
returns text
language sql
volatile
set search_path = ''
as $$ select 'pk_' || replace(gen_random_uuid()::text, '-', '') $$;
grant execute on function public.new_publishable_key() to authenticated, service_role;

-- One row per merchant (tenant = one auth user). The only table whose unique keys are global
-- (the public tracking key and the server key hash route a request to its merchant), so when
-- the schema is distributed by user_id it stays whole on every node as a reference table.
create table public.merchant_settings (
  user_id uuid primary key references auth.users (id) on delete cascade,
  -- Not unique: claiming a domain proves nothing, so a squatter must not be able to block the
  -- real owner. Webhooks are routed by whichever claimant's secret verifies the signature.
  shop_domain text check (shop_domain ~ '^[a-z0-9][a-z0-9-]*\.myshopify\.com$'),
  tracking_key text not null unique default public.new_publishable_key()
    check (tracking_key ~ '^pk_[0-9a-f]{32}$'),
  currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index merchant_settings_shop_domain_idx on public.merchant_settings (shop_domain) where shop_domain is not null;
create trigger merchant_settings_updated_at before update on public.merchant_settings
  for each row execute function public.update_updated_at_column();

-- Secrets, AES-256-GCM encrypted by the server (key from env); never returned to the browser.
create table public.merchant_credentials (
  user_id uuid not null references auth.users (id) on delete cascade,
  provider text not null check (provider in ('klaviyo', 'shopify_webhook')),
  ciphertext text not null check (ciphertext like 'v1.%'),
  last4 text not null check (length(last4) <= 4),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, provider)
);
create trigger merchant_credentials_updated_at before update on public.merchant_credentials
  for each row execute function public.update_updated_at_column();

create table public.activity_log (
  id bigint generated always as identity,
  user_id uuid not null references auth.users (id) on delete cascade,
  action text not null check (length(action) between 1 and 100),
  entity_type text,
  entity_id text,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  primary key (user_id, id)
);
create index activity_log_user_created_idx on public.activity_log (user_id, created_at desc);

/** Append to the merchant's activity log. Invoker: RLS decides whose log it may write. */
create or replace function public.log_activity(
  p_user_id uuid,
  p_action text,
  p_entity_type text default null,
  p_entity_id text default null,
  p_details jsonb default '{}'::jsonb
)
returns void
language sql
security invoker
set search_path = ''
as $$
  insert into public.activity_log (user_id, action, entity_type, entity_id, details)
  values (p_user_id, p_action, p_entity_type, p_entity_id, coalesce(p_details, '{}'::jsonb))
$$;
grant execute on function public.log_activity(uuid, text, text, text, jsonb) to authenticated;

-- People who left an email but have not bought (customers.lead_id points here).
create table public.leads (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  email text not null check (email = public.normalize_email(email) and position('@' in email) > 1),
  first_name text,
  last_name text,
  source text,
  status text not null default 'new' check (status in ('new', 'engaged', 'converted', 'unsubscribed')),
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, id),
  unique (user_id, email)
);
create index leads_user_created_idx on public.leads (user_id, created_at desc);
create trigger leads_updated_at before update on public.leads
  for each row execute function public.update_updated_at_column();

-- Row level security: a merchant sees and changes only its own rows.
alter table public.merchant_settings enable row level security;
alter table public.merchant_credentials enable row level security;
alter table public.activity_log enable row level security;
alter table public.leads enable row level security;

create policy merchant_settings_owner on public.merchant_settings for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy merchant_credentials_owner on public.merchant_credentials for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy activity_log_owner_read on public.activity_log for select to authenticated
  using (user_id = (select auth.uid()));
create policy activity_log_owner_insert on public.activity_log for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy leads_owner on public.leads for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

grant select, insert, update, delete on public.merchant_settings, public.merchant_credentials, public.leads
  to authenticated;
grant select, insert on public.activity_log to authenticated;

/** Trigger on auth.users: every new user is a merchant with a settings row. */
create or replace function private.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.merchant_settings (user_id) values (new.id) on conflict (user_id) do nothing;
  return new;
end
$$;
revoke execute on function private.handle_new_user() from public, anon, authenticated;

create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_user();

insert into public.merchant_settings (user_id)
select id from auth.users
on conflict (user_id) do nothing;

-- Fixed-window rate limits for public endpoints (one Postgres table is enough on one machine).
create table private.rate_limits (
  bucket text not null,
  window_start timestamptz not null,
  hits integer not null,
  expires_at timestamptz not null,
  primary key (bucket, window_start)
);
create index rate_limits_expires_idx on private.rate_limits (expires_at);

/** Count one hit for a bucket; `allowed` is false once the window's limit is passed. */
create or replace function private.rate_limit_hit(
  p_bucket text,
  p_limit integer,
  p_window_seconds integer,
  p_now timestamptz default now()
)
returns table (allowed boolean, remaining integer, reset_at timestamptz)
language sql
set search_path = ''
as $$
  with w as (
    select to_timestamp(floor(extract(epoch from p_now) / p_window_seconds) * p_window_seconds) as start
  )
  insert into private.rate_limits as r (bucket, window_start, hits, expires_at)
  select p_bucket, w.start, 1, w.start + make_interval(secs => p_window_seconds) from w
  on conflict (bucket, window_start) do update set hits = r.hits + 1
  returning r.hits <= p_limit, greatest(p_limit - r.hits, 0), r.expires_at
$$;

/** Cron: delete windows that have ended. Returns how many rows went. */
create or replace function private.purge_rate_limits(p_now timestamptz default now())
returns integer
language sql
set search_path = ''
as $$
  with gone as (delete from private.rate_limits where expires_at <= p_now returning 1)
  select count(*)::integer from gone
$$;

-- Last run of each cron job, for the Settings page.
create table private.cron_runs (
  job text primary key,
  last_started_at timestamptz not null,
  last_finished_at timestamptz,
  last_result jsonb,
  last_error text,
  runs bigint not null default 0
);
