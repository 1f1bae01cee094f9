-- Installing the app from Shopify (OAuth, authorization code grant; docs/shopify-install.md).
-- Shopify proves which shop an account owns: the shop it bound is how the app's deliveries
-- (one address, signed with the app's secret) find their merchant, so no claimant can crowd an
-- owner out. A store is installed in at most one account at a time; an account holds one store,
-- ever (its data is that store's). A binding that was uninstalled or disconnected stays, marked,
-- while its account holds the store's data: the store's privacy requests reach every account
-- that holds its data, its orders only the account it is installed in.

-- The shop's offline Admin API token, encrypted by the server like every other secret.
alter table public.merchant_credentials drop constraint merchant_credentials_provider_check;
alter table public.merchant_credentials add constraint merchant_credentials_provider_check
  check (provider in ('klaviyo', 'shopify_webhook', 'shopify_admin'));

create table public.shopify_installs (
  user_id uuid primary key references auth.users (id) on delete cascade,
  shop text not null check (shop ~ '^[a-z0-9][a-z0-9-]*\.myshopify\.com$'),
  -- What the merchant granted, as Shopify answered (comma separated).
  scopes text not null check (length(scopes) <= 2000),
  installed_at timestamptz not null default now(),
  -- app/uninstalled or a disconnect: the token is gone, the data stays until shop/redact.
  uninstalled_at timestamptz
);
-- The one global key: a store's orders route to exactly one merchant, the one it is installed in.
create unique index shopify_installs_installed_shop_key on public.shopify_installs (shop) where uninstalled_at is null;
-- Every account that holds a store's data, for its privacy requests.
create index shopify_installs_shop_idx on public.shopify_installs (shop);

-- The webhooks the app registered in the shop (webhookSubscriptionCreate), as last confirmed.
create table public.shopify_webhook_subscriptions (
  user_id uuid not null references public.shopify_installs (user_id) on delete cascade,
  topic text not null check (topic in ('ORDERS_CREATE', 'ORDERS_PAID', 'ORDERS_CANCELLED', 'REFUNDS_CREATE', 'APP_UNINSTALLED')),
  -- Shopify's id (gid://shopify/WebhookSubscription/...).
  subscription_id text not null check (length(subscription_id) between 1 and 200),
  uri text not null check (length(uri) between 1 and 2000),
  registered_at timestamptz not null default now(),
  primary key (user_id, topic)
);

-- An install the merchant started and Shopify has not yet come back from: the state nonce,
-- hashed, bound to the signed-in merchant and the shop. Used once, for 10 minutes.
create table private.shopify_oauth_states (
  user_id uuid not null references auth.users (id) on delete cascade,
  state_hash text not null check (state_hash ~ '^[0-9a-f]{64}$'),
  shop text not null check (shop ~ '^[a-z0-9][a-z0-9-]*\.myshopify\.com$'),
  expires_at timestamptz not null,
  primary key (user_id, state_hash)
);

alter table public.shopify_installs enable row level security;
alter table public.shopify_webhook_subscriptions enable row level security;
create policy shopify_installs_owner on public.shopify_installs for select to authenticated using (user_id = (select auth.uid()));
create policy shopify_webhook_subscriptions_owner on public.shopify_webhook_subscriptions for select to authenticated
  using (user_id = (select auth.uid()));
-- Read-only to the API roles: only OAuth binds a shop, only the server registers webhooks.
revoke all on public.shopify_installs, public.shopify_webhook_subscriptions from anon, authenticated;
grant select on public.shopify_installs, public.shopify_webhook_subscriptions to authenticated;

-- Whether the account holds another store's data: bound to another store through the app, or
-- with orders received by hand for another store's domain. Its data would mix two stores'
-- (and the other's shop/redact would erase this one's), so it cannot take on this store.
create or replace function private.shopify_holds_other_shop(p_user_id uuid, p_shop text)
returns boolean
language sql
stable
set search_path = ''
as $$
  select exists (select 1 from public.shopify_installs i where i.user_id = p_user_id and i.shop <> p_shop)
      or (exists (select 1 from public.merchant_settings s where s.user_id = p_user_id and s.shop_domain <> p_shop)
          and exists (select 1 from public.orders o where o.user_id = p_user_id));
$$;

-- Start an install: refuse a store installed in another account ('shop_taken'), or a store
-- other than the one this account holds ('account_has_shop'); the callback checks again under
-- the row lock and the unique key, this is the early answer. Otherwise the state is kept
-- ('started'); expired ones of this merchant go.
create or replace function private.shopify_install_begin(p_user_id uuid, p_shop text, p_state_hash text)
returns text
language plpgsql
volatile
set search_path = ''
as $$
begin
  if private.shopify_holds_other_shop(p_user_id, p_shop) then
    return 'account_has_shop';
  end if;
  if exists (select 1 from public.shopify_installs i
              where i.shop = p_shop and i.user_id <> p_user_id and i.uninstalled_at is null) then
    return 'shop_taken';
  end if;
  delete from private.shopify_oauth_states s where s.user_id = p_user_id and s.expires_at <= now();
  insert into private.shopify_oauth_states (user_id, state_hash, shop, expires_at)
  values (p_user_id, p_state_hash, p_shop, now() + interval '10 minutes');
  return 'started';
end;
$$;

-- The callback's first step: take the state this merchant started for this shop, once.
-- Committed before the code is exchanged, so a state is spent even when what follows fails.
create or replace function private.shopify_take_state(p_user_id uuid, p_state_hash text, p_shop text)
returns boolean
language sql
volatile
set search_path = ''
as $$
  with taken as (
    delete from private.shopify_oauth_states s
     where s.user_id = p_user_id and s.state_hash = p_state_hash
     returning s.shop, s.expires_at)
  select coalesce((select t.shop = p_shop and t.expires_at > now() from taken t), false);
$$;

-- Bind the shop to the merchant with its token (encrypted by the caller, bound to merchant and
-- provider). Refused, with nothing written: a store other than the one this account holds
-- ('account_has_shop'), or a store installed in another account ('shop_taken'); two accounts
-- binding at once, the unique key on installed stores lets one win. A store whose other
-- bindings are all uninstalled or disconnected is this fresh OAuth's (it proved control of the
-- store now); those accounts keep their data, still receive the store's privacy requests, and
-- are told. Reinstalling refreshes scopes and token ('installed').
create or replace function private.shopify_install_bind(
  p_user_id uuid, p_shop text, p_scopes text, p_token_ciphertext text, p_token_last4 text)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_bound boolean;
  r record;
begin
  if private.shopify_holds_other_shop(p_user_id, p_shop) then
    return 'account_has_shop';
  end if;
  begin
    -- The account's row, new or existing, for this store only: two callbacks of one account
    -- for two stores at once meet on its primary key, and the second finds the other store.
    insert into public.shopify_installs as i (user_id, shop, scopes)
    values (p_user_id, p_shop, p_scopes)
    on conflict (user_id) do update set scopes = excluded.scopes, installed_at = now(), uninstalled_at = null
      where i.shop = excluded.shop
    returning true into v_bound;
  exception when unique_violation then
    return 'shop_taken';
  end;
  if v_bound is null then
    return 'account_has_shop';
  end if;
  insert into public.merchant_credentials (user_id, provider, ciphertext, last4)
  values (p_user_id, 'shopify_admin', p_token_ciphertext, p_token_last4)
  on conflict (user_id, provider) do update set ciphertext = excluded.ciphertext, last4 = excluded.last4;
  -- The shop OAuth proved is the merchant's shop (referral links and gift pages name it).
  update public.merchant_settings s set shop_domain = p_shop where s.user_id = p_user_id and s.shop_domain is distinct from p_shop;
  perform public.log_activity(p_user_id, 'shopify.installed', 'settings', null, jsonb_build_object('shop', p_shop, 'scopes', p_scopes));
  for r in select i.user_id from public.shopify_installs i where i.shop = p_shop and i.user_id <> p_user_id loop
    perform public.log_activity(r.user_id, 'shopify.installed_elsewhere', 'settings', null, jsonb_build_object('shop', p_shop));
  end loop;
  return 'installed';
end;
$$;

-- app/uninstalled (and shop/redact, which implies it): the token and the subscriptions' record
-- go, the binding stays, marked (it routes the store's privacy requests, the shop/redact that
-- follows among them); another account may now install the store. Data is kept.
-- Returns whether anything changed, so a repeat is a no-op.
create or replace function private.shopify_uninstalled(p_user_id uuid)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_changed boolean;
begin
  update public.shopify_installs i set uninstalled_at = now() where i.user_id = p_user_id and i.uninstalled_at is null;
  v_changed := found;
  delete from public.shopify_webhook_subscriptions w where w.user_id = p_user_id;
  delete from public.merchant_credentials c where c.user_id = p_user_id and c.provider = 'shopify_admin';
  v_changed := v_changed or found;
  if v_changed then
    perform public.log_activity(p_user_id, 'shopify.uninstalled', 'settings', null, '{}'::jsonb);
  end if;
  return v_changed;
end;
$$;

-- The merchant disconnects the store in Settings: as an uninstall (token and subscriptions'
-- record go; the caller deleted the subscriptions in the store first), and the store may now
-- be installed in another account. The binding stays, marked, so the store's privacy requests
-- (customers/*, shop/redact) still reach this account, which holds its data.
create or replace function private.shopify_disconnect(p_user_id uuid)
returns boolean
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_shop text;
begin
  update public.shopify_installs i set uninstalled_at = coalesce(i.uninstalled_at, now())
   where i.user_id = p_user_id
  returning i.shop into v_shop;
  if v_shop is null then
    return false;
  end if;
  delete from public.shopify_webhook_subscriptions w where w.user_id = p_user_id;
  delete from public.merchant_credentials c where c.user_id = p_user_id and c.provider = 'shopify_admin';
  perform public.log_activity(p_user_id, 'shopify.disconnected', 'settings', null, jsonb_build_object('shop', v_shop));
  return true;
end;
$$;

revoke all on function private.shopify_holds_other_shop(uuid, text), private.shopify_install_begin(uuid, text, text), private.shopify_take_state(uuid, text, text),
  private.shopify_install_bind(uuid, text, text, text, text), private.shopify_uninstalled(uuid),
  private.shopify_disconnect(uuid) from public;
