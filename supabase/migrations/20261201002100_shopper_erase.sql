-- Erase one shopper's personal data, everywhere: what a `customers/redact` (or the merchant,
-- from a customer's page) asks for. As with exports, each module registers its own erase
-- function from its own migration; the erasure runs them all in one transaction, in the order
-- of their positions (which is the house's lock order: the customer, then a module's rows, then
-- the outbox's messages, then gifts).
--
-- What an erasure keeps and what it replaces: every row that carries a figure stays (the
-- customer's record and its counters, orders and their lines, refunds, the ledger, coupon uses,
-- campaign results, gifts), so revenue, counts, rollups, totals and results stay true. Each
-- personal column (tests/db/personal-data.ts) is cleared, or, where the column is required or
-- groups rows (a customer's email, a coupon use's email, a referred friend's email), replaced by
-- one placeholder for this shopper, `erased-<token>@erased.invalid`: it names nobody (the token is
-- the customer's id, or a fresh uuid for a shopper who never was a customer) and keeps their rows
-- together, so a per-customer coupon limit still counts them as one. A shopper who comes back
-- later with the same email is a new customer: nothing links them to what was erased.
--
-- An erase function takes (merchant, customer id or null, normalised email, the ids of the
-- orders to redact, the placeholder email, now) and returns {table: rows changed}.

create table private.shopper_erasers (
  module text primary key check (module ~ '^[a-z][a-z0-9_]{0,62}$'),
  position integer not null unique,
  erase_fn regprocedure not null
);

/** Register (or replace) a module's erasure of one shopper's personal data. */
create or replace function private.register_shopper_erase(p_module text, p_position integer, p_fn regprocedure)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if not exists (
    select 1 from pg_catalog.pg_proc p
     where p.oid = p_fn and p.prorettype = 'jsonb'::regtype and p.pronargs = 6
       -- oidvector's text form: the argument types' oids, space-separated.
       and p.proargtypes::text = array_to_string(array['uuid'::regtype, 'uuid'::regtype, 'text'::regtype, 'uuid[]'::regtype,
                                                       'text'::regtype, 'timestamptz'::regtype]::oid[], ' ')
  ) then
    raise exception 'Shopper erase % must take (uuid, uuid, text, uuid[], text, timestamptz) and return jsonb', p_fn;
  end if;
  insert into private.shopper_erasers (module, position, erase_fn) values (p_module, p_position, p_fn)
  on conflict (module) do update set position = excluded.position, erase_fn = excluded.erase_fn;
end
$$;

-- When a customer's personal data was erased (their record stays, for the merchant's figures).
-- An erased record cannot be given a name, a phone or a shop id again, nor be subscribed again,
-- by any path (the REST API's column grants included).
alter table public.customers add column erased_at timestamptz,
  add constraint customers_erased_check
    check (erased_at is null or (first_name is null and last_name is null and phone is null and shopify_customer_id is null
                                 and klaviyo_profile_id is null and not email_subscribed and not sms_subscribed));

/** Two erasures' counts ({module: {table: rows}}) added up. */
create or replace function private.add_erase_counts(p_a jsonb, p_b jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select coalesce(jsonb_object_agg(m.module, m.tables), '{}'::jsonb)
    from (select x.module, (select coalesce(jsonb_object_agg(t.tbl, t.n), '{}'::jsonb)
                              from (select e.key as tbl, sum(e.value::bigint) as n
                                      from (select * from jsonb_each_text(coalesce(p_a -> x.module, '{}'::jsonb))
                                            union all
                                            select * from jsonb_each_text(coalesce(p_b -> x.module, '{}'::jsonb))) e
                                     group by e.key) t) as tables
            from (select jsonb_object_keys(coalesce(p_a, '{}'::jsonb)) as module
                  union
                  select jsonb_object_keys(coalesce(p_b, '{}'::jsonb))) x) m
$$;

/** Run every module's erase, in position order, for one customer record (or none) and its orders. */
create or replace function private.shopper_erase_one(p_user_id uuid, p_customer_id uuid, p_email text, p_orders uuid[],
                                                     p_placeholder text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_modules jsonb := '{}'::jsonb;
  v_part jsonb;
  r record;
begin
  for r in select e.module, e.erase_fn::oid::regproc::text as fn from private.shopper_erasers e order by e.position loop
    execute format('select %s($1, $2, $3, $4, $5, $6)', r.fn) into v_part
      using p_user_id, p_customer_id, p_email, p_orders, p_placeholder, p_now;
    v_modules := v_modules || jsonb_build_object(r.module, coalesce(v_part, '{}'::jsonb));
  end loop;
  return v_modules;
end
$$;

/**
 * Erase the personal data of the shopper with this email and this shop customer id at this
 * merchant (either may be missing; the shop may know them by a newer email than ours, so both
 * are looked up), and of the orders the shop names (`orders_to_redact`, shop order ids), in
 * every module. Locks: the shopper's orders first (a refund or a cancellation holds an order,
 * then its customer), then their records (an order being applied holds the record), so an order
 * applied meanwhile either commits before (and is erased with the rest) or after (and makes a
 * new customer). Each record found is erased with its own orders and placeholder; what is left
 * (rows found only by the email, orders of no record found) with a placeholder of its own.
 * Returns {customerId, erasedAt, modules: {module: {table: rows}}}; a second call finds nothing
 * left to erase and changes nothing.
 */
create or replace function private.shopper_erase(p_user_id uuid, p_email text, p_shop_customer_id text default null,
                                                 p_shop_order_ids text[] default '{}', p_now timestamptz default now())
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_email text := public.normalize_email(p_email);
  v_shop_orders text[] := coalesce(p_shop_order_ids, '{}');
  v_ids uuid[];
  v_first uuid;
  v_left uuid[];
  v_left_customer uuid;
  v_email_done boolean := false;
  v_modules jsonb := '{}'::jsonb;
  rec record;
begin
  if v_email is null and p_shop_customer_id is null and cardinality(v_shop_orders) = 0 then
    raise exception 'An erasure needs the shopper''s email, shop customer id or orders' using errcode = 'HH400';
  end if;
  select coalesce(array_agg(x.id order by x.id), '{}') into v_ids from (
    select c.id from public.customers c where c.user_id = p_user_id and c.email = v_email
    union
    select c.id from public.customers c where c.user_id = p_user_id and c.shopify_customer_id = p_shop_customer_id
  ) x;
  perform 1 from public.orders o
   where o.user_id = p_user_id and o.id in (
     select o.id from public.orders o where o.user_id = p_user_id and o.customer_id = any (v_ids)
     union
     select o.id from public.orders o where o.user_id = p_user_id and o.email = v_email
     union
     select o.id from public.orders o where o.user_id = p_user_id and o.shop_order_id = any (v_shop_orders))
   order by o.id
     for update;
  perform 1 from public.customers c where c.user_id = p_user_id and c.id = any (v_ids) order by c.id for update;

  -- The record named by the email first: it answers for the request.
  for rec in select x.id, x.email from public.customers x where x.user_id = p_user_id and x.id = any (v_ids)
              order by x.email = v_email desc nulls last, x.id loop
    v_first := coalesce(v_first, rec.id);
    v_email_done := v_email_done or rec.email = v_email;
    v_modules := private.add_erase_counts(v_modules, private.shopper_erase_one(p_user_id, rec.id, rec.email,
      (select coalesce(array_agg(o.id order by o.id), '{}') from public.orders o where o.user_id = p_user_id and o.customer_id = rec.id),
      'erased-' || rec.id::text || '@erased.invalid', p_now));
  end loop;

  -- What is left: orders found by the email or named by the shop whose record was not found
  -- (erased before, or never one), and rows found only by the email. Their placeholder is that
  -- of the orders' record, so a repeat stamps the same one and changes nothing; else a new one.
  select coalesce(array_agg(o.id order by o.id), '{}'), min(o.customer_id::text)::uuid into v_left, v_left_customer from (
    select o.id, o.customer_id from public.orders o where o.user_id = p_user_id and o.email = v_email
    union
    select o.id, o.customer_id from public.orders o where o.user_id = p_user_id and o.shop_order_id = any (v_shop_orders)
  ) o
   where o.customer_id is null or not (o.customer_id = any (v_ids));
  if cardinality(v_left) > 0 or (v_email is not null and not v_email_done) then
    v_modules := private.add_erase_counts(v_modules, private.shopper_erase_one(p_user_id, null,
      case when v_email_done then null else v_email end, v_left,
      'erased-' || coalesce(v_left_customer, gen_random_uuid())::text || '@erased.invalid', p_now));
  end if;
  if v_modules = '{}'::jsonb then
    v_modules := private.shopper_erase_one(p_user_id, null, null, '{}', 'erased-none@erased.invalid', p_now);
  end if;
  return jsonb_build_object('customerId', v_first, 'erasedAt', p_now, 'modules', v_modules);
end
$$;

/**
 * The journey's part: the customer's record keeps its id, stage and counters but loses who they
 * are (email replaced, names, phone and the shop's and Klaviyo's ids for them cleared; the
 * search text follows by its trigger) and can no longer be contacted (unsubscribed); the orders
 * keep their amounts and lines but not the email or what the shopper typed at checkout;
 * touchpoints keep their type, time and value but not what the storefront sent with them; the
 * lead their email made loses it; what the merchant's activity log recorded on the record is
 * emptied.
 */
create or replace function private.journey_shopper_erase(p_user_id uuid, p_customer_id uuid, p_email text, p_orders uuid[],
                                                         p_placeholder text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_customers integer; v_orders integer; v_touchpoints integer; v_leads integer; v_log integer;
begin
  update public.customers c
     set email = p_placeholder, first_name = null, last_name = null, phone = null, shopify_customer_id = null,
         klaviyo_profile_id = null, email_subscribed = false, sms_subscribed = false, erased_at = coalesce(c.erased_at, p_now)
   where c.user_id = p_user_id and c.id = p_customer_id and c.erased_at is null;
  get diagnostics v_customers = row_count;

  update public.orders o set email = p_placeholder, note_attributes = '{}'::jsonb
   where o.user_id = p_user_id and o.id = any (p_orders)
     and (o.email is distinct from p_placeholder or o.note_attributes <> '{}'::jsonb);
  get diagnostics v_orders = row_count;

  update public.touchpoints t set metadata = '{}'::jsonb
   where t.user_id = p_user_id and t.customer_id = p_customer_id and t.metadata <> '{}'::jsonb;
  get diagnostics v_touchpoints = row_count;

  update public.leads l set email = p_placeholder, first_name = null, last_name = null, metadata = '{}'::jsonb
   where l.user_id = p_user_id
     and (l.email = p_email
          or l.id = (select c.lead_id from public.customers c where c.user_id = p_user_id and c.id = p_customer_id))
     and l.email <> p_placeholder;
  get diagnostics v_leads = row_count;

  update public.activity_log a set details = '{}'::jsonb
   where a.user_id = p_user_id and a.entity_type = 'customer' and a.entity_id = p_customer_id::text
     and a.details is not null and a.details <> '{}'::jsonb;
  get diagnostics v_log = row_count;

  return jsonb_build_object('customers', v_customers, 'orders', v_orders, 'touchpoints', v_touchpoints,
                            'leads', v_leads, 'activity_log', v_log);
end
$$;

select private.register_shopper_erase('journey', 100, 'private.journey_shopper_erase(uuid,uuid,text,uuid[],text,timestamptz)');

revoke execute on function private.register_shopper_erase(text, integer, regprocedure),
  private.shopper_erase(uuid, text, text, text[], timestamptz), private.add_erase_counts(jsonb, jsonb),
  private.shopper_erase_one(uuid, uuid, text, uuid[], text, timestamptz),
  private.journey_shopper_erase(uuid, uuid, text, uuid[], text, timestamptz) from public;
