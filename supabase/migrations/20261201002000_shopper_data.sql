-- One shopper's data, everywhere: what a `customers/data_request` (or the merchant, from a
-- customer's page) asks for. Each module registers an export function from its own migration,
-- as it registers its order handlers; the export asks every one and names the module and table
-- each set of rows came from. The journey's own export is here.
--
-- An export function takes (merchant, the shopper's customer id or null, their normalised
-- email) and returns {table: [row, ...]} for every table it holds about them, an empty list
-- when it holds nothing (so a table that is not covered is seen, see tests/db/personal-data).

create table private.shopper_exports (
  module text primary key check (module ~ '^[a-z][a-z0-9_]{0,62}$'),
  export_fn regprocedure not null
);

/** Register (or replace) a module's export of one shopper's rows. */
create or replace function private.register_shopper_export(p_module text, p_fn regprocedure)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if not exists (
    select 1 from pg_catalog.pg_proc p
     where p.oid = p_fn and p.prorettype = 'jsonb'::regtype and p.pronargs = 3
       and p.proargtypes[0] = 'uuid'::regtype and p.proargtypes[1] = 'uuid'::regtype and p.proargtypes[2] = 'text'::regtype
  ) then
    raise exception 'Shopper export % must take (uuid, uuid, text) and return jsonb', p_fn;
  end if;
  insert into private.shopper_exports (module, export_fn) values (p_module, p_fn)
  on conflict (module) do update set export_fn = excluded.export_fn;
end
$$;

/**
 * Everything stored about the shopper with this email at this merchant, by module and table:
 * {email, customerId, exportedAt, modules: {module: {table: [rows]}}}. The email is normalised
 * (S14); a shopper who never became a customer (a gift's recipient, a referred friend) is
 * found by it all the same.
 */
create or replace function private.shopper_export(p_user_id uuid, p_email text, p_now timestamptz default now())
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_email text := public.normalize_email(p_email);
  v_customer_id uuid;
  v_modules jsonb := '{}'::jsonb;
  v_part jsonb;
  r record;
begin
  if v_email is null then
    raise exception 'An export needs the shopper''s email' using errcode = 'HH400';
  end if;
  select c.id into v_customer_id from public.customers c where c.user_id = p_user_id and c.email = v_email;
  for r in select e.module, e.export_fn::oid::regproc::text as fn from private.shopper_exports e order by e.module loop
    execute format('select %s($1, $2, $3)', r.fn) into v_part using p_user_id, v_customer_id, v_email;
    v_modules := v_modules || jsonb_build_object(r.module, coalesce(v_part, '{}'::jsonb));
  end loop;
  return jsonb_build_object('email', v_email, 'customerId', v_customer_id, 'exportedAt', p_now, 'modules', v_modules);
end
$$;

-- What the activity log recorded about one customer's record (the export, and later an erasure).
create index activity_log_entity_idx on public.activity_log (user_id, entity_type, entity_id) where entity_id is not null;

/**
 * The journey's rows about a shopper: their customer record, touchpoints, orders (found by
 * customer or by the email they were placed with) with their lines, codes and refunds, stage
 * history, segment memberships, the leads their email made, and what the merchant's activity
 * log recorded about their record.
 */
create or replace function private.journey_shopper_export(p_user_id uuid, p_customer_id uuid, p_email text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with o as (
    select o.* from public.orders o where o.user_id = p_user_id and o.customer_id = p_customer_id
    union
    select o.* from public.orders o where o.user_id = p_user_id and o.email = p_email
  )
  select jsonb_build_object(
    'customers', (select coalesce(jsonb_agg(to_jsonb(c) - 'search_text'), '[]') from public.customers c
                   where c.user_id = p_user_id and c.id = p_customer_id),
    'touchpoints', (select coalesce(jsonb_agg(to_jsonb(t) order by t.occurred_at, t.id), '[]') from public.touchpoints t
                     where t.user_id = p_user_id and t.customer_id = p_customer_id),
    'orders', (select coalesce(jsonb_agg(to_jsonb(o) order by o.ordered_at, o.id), '[]') from o),
    'order_lines', (select coalesce(jsonb_agg(to_jsonb(l) order by l.order_id, l.line_no), '[]') from public.order_lines l
                     where l.user_id = p_user_id and l.order_id in (select id from o)),
    'order_discount_codes', (select coalesce(jsonb_agg(to_jsonb(d) order by d.order_id, d.code), '[]') from public.order_discount_codes d
                              where d.user_id = p_user_id and d.order_id in (select id from o)),
    'order_refunds', (select coalesce(jsonb_agg(to_jsonb(r) order by r.refunded_at, r.id), '[]') from public.order_refunds r
                       where r.user_id = p_user_id and r.order_id in (select id from o)),
    'stage_transitions', (select coalesce(jsonb_agg(to_jsonb(s) order by s.transitioned_at, s.id), '[]') from public.stage_transitions s
                           where s.user_id = p_user_id and s.customer_id = p_customer_id),
    'segment_memberships', (select coalesce(jsonb_agg(to_jsonb(m) || jsonb_build_object('segment_name', g.name) order by m.added_at), '[]')
                              from public.segment_memberships m
                              join public.customer_segments g on g.user_id = m.user_id and g.id = m.segment_id
                             where m.user_id = p_user_id and m.customer_id = p_customer_id),
    'leads', (select coalesce(jsonb_agg(to_jsonb(l) order by l.created_at, l.id), '[]') from public.leads l
               where l.user_id = p_user_id and l.email = p_email),
    'activity_log', (select coalesce(jsonb_agg(to_jsonb(a) order by a.created_at, a.id), '[]') from public.activity_log a
                      where a.user_id = p_user_id and a.entity_type = 'customer' and a.entity_id = p_customer_id::text))
$$;

select private.register_shopper_export('journey', 'private.journey_shopper_export(uuid,uuid,text)');

revoke execute on function private.register_shopper_export(text, regprocedure), private.shopper_export(uuid, text, timestamptz),
  private.journey_shopper_export(uuid, uuid, text) from public;
