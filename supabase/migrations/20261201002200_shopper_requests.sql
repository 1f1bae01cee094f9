-- Shopify's compliance webhooks, as the merchant sees them: each `customers/data_request` and
-- `customers/redact` a shop sends (idempotent on its webhook id), with its status and without
-- the shopper in clear. A data request stays open, with its export downloadable, until the
-- merchant marks it handled; an erasure is done when it arrives. `shop/redact` deletes the
-- shop's data (private.shop_redact) and is recorded as a webhook delivery.

create table public.shopper_requests (
  user_id uuid not null references auth.users (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  topic text not null check (topic in ('customers/data_request', 'customers/redact')),
  -- The shop's webhook id (X-Shopify-Webhook-Id): a repeat delivery is the same request.
  delivery_id text not null check (length(delivery_id) between 1 and 200),
  -- HMAC-SHA256 of the normalised email under the server's key: recognises the same shopper
  -- again without holding the address.
  email_hash text not null check (email_hash ~ '^[0-9a-f]{64}$'),
  -- A data request's email, encrypted (AES-GCM, bound to the merchant and request), for its
  -- export; dropped when the merchant marks the request handled. Never readable by the API.
  email_ciphertext text,
  -- Our customer at the time, if there was one.
  customer_id uuid,
  -- How many orders the shop named (orders_requested, orders_to_redact).
  orders_named integer not null default 0 check (orders_named >= 0),
  status text not null check (status in ('open', 'handled', 'done')),
  -- What an erasure changed, by module and table (counts only).
  result jsonb check (result is null or jsonb_typeof(result) = 'object'),
  received_at timestamptz not null default now(),
  handled_at timestamptz,
  primary key (user_id, id),
  unique (user_id, delivery_id),
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete set null (customer_id),
  check (topic = 'customers/data_request' and status in ('open', 'handled') and (status = 'open') = (email_ciphertext is not null)
         or topic = 'customers/redact' and status = 'done' and email_ciphertext is null),
  check ((status = 'handled') = (handled_at is not null))
);
-- The merchant's list, open first then newest; and a customer's requests.
create index shopper_requests_list_idx on public.shopper_requests (user_id, received_at desc, id desc);
create index shopper_requests_customer_idx on public.shopper_requests (user_id, customer_id) where customer_id is not null;

alter table public.shopper_requests enable row level security;
create policy shopper_requests_owner on public.shopper_requests for select to authenticated using (user_id = (select auth.uid()));
-- Read-only to the API roles, and never the encrypted email.
revoke all on public.shopper_requests from anon, authenticated;
grant select (user_id, id, topic, delivery_id, email_hash, customer_id, orders_named, status, result, received_at, handled_at)
  on public.shopper_requests to authenticated;

/**
 * Delete all of a shop's data (Shopify's `shop/redact`, 48 hours after the app is uninstalled):
 * every row of every table keyed by this merchant, in every schema of ours, but the account's
 * own settings: its settings row and its stored keys (the connection itself: a repeat of the
 * webhook is still recognised as the shop's, and answered as a repeat). Tables are emptied in passes, so whatever order their foreign keys
 * and triggers need (a customer takes its ledger along; rollup triggers add deltas that the
 * next pass removes); it raises if rows are left. Returns the rows deleted.
 */
create or replace function private.shop_redact(p_user_id uuid)
returns bigint
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_total bigint := 0;
  v_pass bigint;
  v_n bigint;
  v_left text;
  r record;
begin
  for pass in 1 .. 10 loop
    v_pass := 0;
    for r in
      select n.nspname as schema, c.relname as tbl
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('public', 'private') and c.relkind in ('r', 'p')
         and exists (select 1 from pg_catalog.pg_attribute a
                      where a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped)
         and (n.nspname, c.relname) not in (('public', 'merchant_settings'), ('public', 'merchant_credentials'))
       -- Tables others point at last: their dependants go first, so fewer passes are needed.
       order by (select count(*) from pg_catalog.pg_constraint f where f.confrelid = c.oid and f.contype = 'f'), 1, 2
    loop
      begin
        execute format('delete from %I.%I where user_id = $1', r.schema, r.tbl) using p_user_id;
        get diagnostics v_n = row_count;
        v_pass := v_pass + v_n;
      exception when foreign_key_violation or sqlstate 'HH409' then
        -- Still referenced, or guarded until its parent goes (the ledger): the next pass.
        null;
      end;
    end loop;
    v_total := v_total + v_pass;
    exit when v_pass = 0;
  end loop;

  for r in
    select n.nspname as schema, c.relname as tbl
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ('public', 'private') and c.relkind in ('r', 'p')
       and exists (select 1 from pg_catalog.pg_attribute a where a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped)
       and (n.nspname, c.relname) not in (('public', 'merchant_settings'), ('public', 'merchant_credentials'))
  loop
    execute format('select %L from %I.%I where user_id = $1 limit 1', r.schema || '.' || r.tbl, r.schema, r.tbl)
      into v_left using p_user_id;
    if v_left is not null then
      raise exception 'shop_redact left rows in %', v_left;
    end if;
  end loop;
  return v_total;
end
$$;

revoke execute on function private.shop_redact(uuid) from public;

/**
 * The privacy module's part of an erasure: a data request still open for the shopper can no
 * longer be answered with their data, and who it was about is let go (it counts as handled).
 */
create or replace function private.privacy_shopper_erase(p_user_id uuid, p_customer_id uuid, p_email text, p_orders uuid[],
                                                         p_placeholder text, p_now timestamptz)
returns jsonb
language sql
volatile
set search_path = ''
as $$
  with closed as (
    update public.shopper_requests r set status = 'handled', handled_at = p_now, email_ciphertext = null
     where r.user_id = p_user_id and r.customer_id = p_customer_id and r.status = 'open'
    returning 1
  )
  select jsonb_build_object('shopper_requests', (select count(*) from closed))
$$;
select private.register_shopper_erase('privacy', 700, 'private.privacy_shopper_erase(uuid,uuid,text,uuid[],text,timestamptz)');
revoke execute on function private.privacy_shopper_erase(uuid, uuid, text, uuid[], text, timestamptz) from public;
