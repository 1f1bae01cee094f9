-- The order pipeline, compiled. run_order_handlers called each registered handler through
-- EXECUTE, which parses and plans its statement on every call: seven handlers, an order. Now
-- registering a handler writes one plpgsql function per event that calls the handlers in
-- position order by name (private.order_pipeline_order, _refund, _cancel), whose calls plpgsql
-- plans once per session; run_order_handlers calls it. The registry stays the one source: the
-- function is rewritten from it on every registration.

/** Write private.order_pipeline_<event> from the registry: each handler called in position order. */
create or replace function private.compile_order_handlers(p_event text)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_body text;
  v_name text := 'order_pipeline_' || p_event;
begin
  if p_event not in ('order', 'refund', 'cancel') then
    raise exception 'Unknown pipeline event %', p_event;
  end if;
  select coalesce(string_agg(format(
           '  v_effects := v_effects || jsonb_build_object(%L, coalesce(%s(p_user_id, p_subject, p_now), ''null''::jsonb));',
           h.module, h.handler::oid::regproc::text), E'\n' order by h.position), '')
    into v_body
    from private.order_handlers h
   where h.event = p_event;
  execute format($f$
create or replace function private.%I(p_user_id uuid, p_subject uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $body$
declare
  v_effects jsonb := '{}'::jsonb;
begin
%s
  return v_effects;
end
$body$;
revoke execute on function private.%I(uuid, uuid, timestamptz) from public, anon, authenticated;
$f$, v_name, v_body, v_name);
end
$$;
revoke execute on function private.compile_order_handlers(text) from public, anon, authenticated;

/** Register (or move or replace) a module's handler for one pipeline event, and recompile it. */
create or replace function private.register_order_handler(p_event text, p_module text, p_position integer, p_handler regprocedure)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  if not exists (
    select 1 from pg_catalog.pg_proc p
     where p.oid = p_handler and p.prorettype = 'jsonb'::regtype
       and p.pronargs = 3 and p.proargtypes[0] = 'uuid'::regtype and p.proargtypes[1] = 'uuid'::regtype
       and p.proargtypes[2] = 'timestamptz'::regtype
  ) then
    raise exception 'Order handler % must take (uuid, uuid, timestamptz) and return jsonb', p_handler;
  end if;
  insert into private.order_handlers (event, position, module, handler)
  values (p_event, p_position, p_module, p_handler)
  on conflict (event, module) do update set position = excluded.position, handler = excluded.handler;
  perform private.compile_order_handlers(p_event);
end
$$;

select private.compile_order_handlers(e) from unnest(array['order', 'refund', 'cancel']) as e;

/** Run every handler registered for p_event, in position order; returns {module: summary}. */
create or replace function private.run_order_handlers(p_event text, p_user_id uuid, p_subject uuid, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
  case p_event
    when 'order' then return private.order_pipeline_order(p_user_id, p_subject, p_now);
    when 'refund' then return private.order_pipeline_refund(p_user_id, p_subject, p_now);
    when 'cancel' then return private.order_pipeline_cancel(p_user_id, p_subject, p_now);
  end case;
end
$$;
