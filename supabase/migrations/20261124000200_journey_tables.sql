-- Customer journey, part 1: the tables. A merchant's catalogue (collections and which product
-- is in which), customers, their touchpoints and stage history, and orders as the shop sent
-- them, normalised into lines and discount codes so every module reads rows, not JSON.
-- Every key carries user_id: no row can point at another merchant's row, and the schema can be
-- distributed by user_id.

create extension if not exists pg_trgm with schema extensions;

/** The lifecycle stages, in funnel order. */
create or replace function public.is_stage(p_stage text)
returns boolean
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
begin
  return p_stage in ('visitor', 'lead', 'prospect', 'customer', 'repeat', 'vip', 'at_risk', 'churned');
end
$$;
grant execute on function public.is_stage(text) to authenticated, service_role;

-- The merchant's collections (its catalogue, not ours). The slug is what events, orders and
-- scores carry and never changes; the name is what the dashboard shows and can be renamed.
create table public.collections (
  user_id uuid not null references auth.users (id) on delete cascade,
  slug text not null check (slug ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
  name text not null check (length(btrim(name)) between 1 and 80),
  position integer not null default 0 check (position between 0 and 10000),
  created_at timestamptz not null default now(),
  primary key (user_id, slug)
);

/** Trigger: a merchant keeps at most 100 collections (affinity scores live in every customer row). */
create or replace function private.collections_limit()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (select count(*) from public.collections c where c.user_id = new.user_id) > 100 then
    raise exception 'A store can have at most 100 collections' using errcode = 'HH422';
  end if;
  return null;
end
$$;
create trigger collections_limit after insert on public.collections
  for each row execute function private.collections_limit();

-- Which collection each of the merchant's products belongs to (set in Settings).
create table public.product_collections (
  user_id uuid not null references auth.users (id) on delete cascade,
  product_id text not null check (length(product_id) between 1 and 64),
  collection text not null,
  primary key (user_id, product_id),
  foreign key (user_id, collection) references public.collections (user_id, slug) on delete cascade
);
create index product_collections_collection_idx on public.product_collections (user_id, collection);

create table public.customers (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  shopify_customer_id text,
  lead_id uuid,
  klaviyo_profile_id text,
  email text not null check (email = public.normalize_email(email) and position('@' in email) > 1),
  first_name text,
  last_name text,
  phone text,
  stage text not null default 'visitor' check (public.is_stage(stage)),
  stage_changed_at timestamptz,
  became_lead_at timestamptz,
  became_customer_at timestamptz,
  became_repeat_at timestamptz,
  became_vip_at timestamptz,
  became_at_risk_at timestamptz,
  became_churned_at timestamptz,
  -- First engagement after lead capture: what makes a lead a prospect.
  engaged_after_lead_at timestamptz,
  total_orders integer not null default 0 check (total_orders >= 0),
  lifetime_value numeric(12, 2) not null default 0 check (lifetime_value >= 0),
  average_order_value numeric(12, 2),
  -- Affinity points per collection slug; the primary collection is the highest. Kept in the row
  -- (not a child table) because every event already rewrites this row. A removed collection's
  -- key is deleted from every score by the collections trigger below.
  primary_collection text,
  collection_scores jsonb not null default '{}'::jsonb check (jsonb_typeof(collection_scores) = 'object'),
  last_email_open_at timestamptz,
  last_email_click_at timestamptz,
  last_site_visit_at timestamptz,
  last_purchase_at timestamptz,
  last_engaged_at timestamptz,
  email_subscribed boolean not null default true,
  sms_subscribed boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, id),
  unique (user_id, email),
  foreign key (user_id, lead_id) references public.leads (user_id, id) on delete set null (lead_id)
) with (fillfactor = 85);
create unique index customers_shopify_idx on public.customers (user_id, shopify_customer_id) where shopify_customer_id is not null;
-- The stage filter of the customers list (analytics read customer_rollups, not this).
create index customers_stage_idx on public.customers (user_id, stage);
create index customers_collection_idx on public.customers (user_id, primary_collection);
create index customers_ltv_idx on public.customers (user_id, lifetime_value desc, id);
create index customers_orders_idx on public.customers (user_id, total_orders desc, id);
create index customers_purchase_idx on public.customers (user_id, last_purchase_at desc nulls last, id);
create index customers_created_idx on public.customers (user_id, created_at desc, id);
create index customers_lead_idx on public.customers (user_id, lead_id) where lead_id is not null;
create index customers_search_idx on public.customers
  using gin ((email || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '')) extensions.gin_trgm_ops);
create trigger customers_updated_at before update on public.customers
  for each row execute function public.update_updated_at_column();

create table public.touchpoints (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  customer_id uuid not null,
  type text not null check (type in ('page_view', 'email_open', 'email_click', 'pin_save', 'pin_click', 'ad_click',
    'quiz_start', 'quiz_complete', 'lead_capture', 'cart_add', 'checkout_start', 'checkout_abandon', 'purchase',
    'review', 'support_ticket')),
  channel text not null check (channel in ('organic', 'pinterest', 'email', 'ads', 'direct', 'referral', 'social')),
  reference_id text,
  reference_type text,
  metadata jsonb not null default '{}'::jsonb,
  value numeric(12, 2),
  -- The collection slug as it was when the event happened (history: no foreign key).
  collection text,
  utm_source text,
  utm_medium text,
  utm_campaign text,
  occurred_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  primary key (user_id, id),
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade
);
create index touchpoints_customer_idx on public.touchpoints (user_id, customer_id, occurred_at desc, id desc);
create index touchpoints_user_occurred_idx on public.touchpoints (user_id, occurred_at desc);

create table public.stage_transitions (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  customer_id uuid not null,
  from_stage text not null,
  to_stage text not null,
  trigger_type text not null check (trigger_type in ('purchase', 'refund', 'cancellation', 'engagement', 'time_based', 'manual')),
  trigger_reference_id text,
  rule text not null,
  reason text not null,
  transitioned_at timestamptz not null default now(),
  primary key (user_id, id),
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete cascade
);
create index stage_transitions_customer_idx on public.stage_transitions (user_id, customer_id, transitioned_at desc);
create index stage_transitions_stage_idx on public.stage_transitions (user_id, to_stage, transitioned_at desc);

-- Orders as the shop sent them: the idempotency key for intake and the base for refunds and
-- cancellations. Shop ids are text: Shopify's exceed 2^53.
create table public.orders (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  shop_order_id text not null check (length(shop_order_id) between 1 and 64),
  customer_id uuid,
  email text,
  total numeric(12, 2) not null check (total >= 0),
  -- The cart before discounts (line items, else total plus discount codes): what checkout
  -- validated a coupon against.
  subtotal numeric(12, 2) not null check (subtotal >= 0),
  item_count integer not null check (item_count >= 0),
  refunded_total numeric(12, 2) not null default 0 check (refunded_total >= 0 and refunded_total <= total),
  currency text not null default 'USD',
  -- The collection with the most line value among mapped products.
  collection text,
  channel text not null default 'direct',
  utm_source text,
  utm_medium text,
  utm_campaign text,
  note_attributes jsonb not null default '{}'::jsonb,
  ordered_at timestamptz not null,
  cancelled_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (user_id, id),
  unique (user_id, shop_order_id),
  foreign key (user_id, customer_id) references public.customers (user_id, id) on delete set null (customer_id)
);
create index orders_customer_idx on public.orders (user_id, customer_id, ordered_at desc);
create index orders_user_ordered_idx on public.orders (user_id, ordered_at desc);
-- First-order-only coupons ask whether an email has ordered before.
create index orders_email_idx on public.orders (user_id, email);

create table public.order_lines (
  user_id uuid not null,
  order_id uuid not null,
  line_no integer not null check (line_no >= 0),
  shop_line_id text,
  product_id text,
  variant_id text,
  title text,
  quantity integer not null check (quantity >= 0),
  price numeric(12, 2) not null check (price >= 0),
  collection text,
  primary key (user_id, order_id, line_no),
  foreign key (user_id, order_id) references public.orders (user_id, id) on delete cascade
);

create table public.order_discount_codes (
  user_id uuid not null,
  order_id uuid not null,
  -- Upper case and trimmed, as coupons store codes.
  code text not null check (length(code) between 1 and 100),
  -- What the shop says the code took off; null when it did not say.
  amount numeric(12, 2) check (amount >= 0),
  type text,
  primary key (user_id, order_id, code),
  foreign key (user_id, order_id) references public.orders (user_id, id) on delete cascade
);

-- A refund can arrive before its order (webhooks are not ordered): it waits with order_id null
-- and apply_order applies it when the order comes.
create table public.order_refunds (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  shop_refund_id text not null check (length(shop_refund_id) between 1 and 64),
  shop_order_id text not null,
  order_id uuid,
  amount numeric(12, 2) not null check (amount >= 0),
  refunded_at timestamptz not null,
  created_at timestamptz not null default now(),
  primary key (user_id, id),
  unique (user_id, shop_refund_id),
  foreign key (user_id, order_id) references public.orders (user_id, id) on delete cascade
);
create index order_refunds_order_idx on public.order_refunds (user_id, order_id);
create index order_refunds_pending_idx on public.order_refunds (user_id, shop_order_id) where order_id is null;

-- Set when the shop's first correctly signed webhook arrives: claims of the same domain by
-- others (which prove nothing) are tried after the merchant who proved it.
alter table public.merchant_settings add column shop_verified_at timestamptz;

-- Webhook inbox: a delivery id seen before is acknowledged and ignored.
create table public.webhook_deliveries (
  user_id uuid not null references auth.users (id) on delete cascade,
  delivery_id text not null,
  topic text not null,
  shop_resource_id text,
  outcome text not null,
  received_at timestamptz not null default now(),
  primary key (user_id, delivery_id)
);
create index webhook_deliveries_received_idx on public.webhook_deliveries (user_id, received_at desc);

do $$
declare t text;
begin
  foreach t in array array['collections', 'product_collections', 'customers', 'touchpoints', 'stage_transitions',
    'orders', 'order_lines', 'order_discount_codes', 'order_refunds', 'webhook_deliveries']
  loop
    execute format('alter table public.%I enable row level security', t);
    execute format('create policy %I on public.%I for all to authenticated
                      using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()))', t || '_owner', t);
  end loop;
end
$$;

-- The dashboard reads everything it owns; it writes only what a merchant edits by hand.
grant select on public.collections, public.product_collections, public.customers, public.touchpoints,
  public.stage_transitions, public.orders, public.order_lines, public.order_discount_codes, public.order_refunds,
  public.webhook_deliveries to authenticated;
grant update (first_name, last_name, phone, email_subscribed, sms_subscribed) on public.customers to authenticated;
grant insert (user_id, slug, name, position), update (name, position), delete on public.collections to authenticated;
grant insert (user_id, product_id, collection), update (collection), delete on public.product_collections to authenticated;

/** The collection with the highest score, or null while none is above zero (ties: the smaller slug). */
create or replace function private.primary_collection(p_scores jsonb)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_slug text;
begin
  select s.key into v_slug
    from jsonb_each_text(p_scores) s
   where s.value::numeric > 0
   order by s.value::numeric desc, s.key
   limit 1;
  return v_slug;
end
$$;

/** Add `p_points` (negative to take them back) to one collection's score, never below zero. */
create or replace function private.add_affinity(p_scores jsonb, p_collection text, p_points numeric)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select case when p_collection is null then p_scores
         else jsonb_set(p_scores, array[p_collection],
                        to_jsonb(greatest(coalesce((p_scores ->> p_collection)::numeric, 0) + p_points, 0)))
         end
$$;

/**
 * Trigger: a removed collection leaves nothing behind. Its products' mappings go by the foreign
 * key; here its score is deleted from every customer that has one and their primary collection
 * recomputed (the rollup triggers move them in the analytics). Definer: the customers columns
 * it writes are not the merchant's to edit directly.
 */
create or replace function private.collection_removed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- When the merchant itself is being deleted, its customers are going too.
  if not exists (select 1 from auth.users u where u.id = old.user_id) then
    return null;
  end if;
  update public.customers c
     set collection_scores = c.collection_scores - old.slug,
         primary_collection = private.primary_collection(c.collection_scores - old.slug)
   where c.user_id = old.user_id and c.collection_scores ? old.slug;
  return null;
end
$$;
revoke execute on function private.collection_removed() from public, anon, authenticated;
create trigger collections_removed after delete on public.collections
  for each row execute function private.collection_removed();

/** Trigger on merchant_settings: a new merchant starts with the three example collections. */
create or replace function private.default_collections()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.collections (user_id, slug, name, position)
  values (new.user_id, 'grounding', 'Grounding', 0), (new.user_id, 'wholeness', 'Wholeness', 1),
         (new.user_id, 'growth', 'Growth', 2)
  on conflict do nothing;
  return null;
end
$$;
revoke execute on function private.default_collections() from public, anon, authenticated;
create trigger merchant_default_collections after insert on public.merchant_settings
  for each row execute function private.default_collections();
insert into public.collections (user_id, slug, name, position)
select s.user_id, d.slug, d.name, d.position
  from public.merchant_settings s
 cross join (values ('grounding', 'Grounding', 0), ('wholeness', 'Wholeness', 1), ('growth', 'Growth', 2)) as d(slug, name, position)
on conflict do nothing;
