-- Segments: the customers trigger finds changed rows without joining its transition tables.
--
-- A statement trigger's queries are planned once per connection and the plan is kept: a join
-- of old_rows with new_rows first planned for a one-row update (an order) is a nested loop,
-- and the same connection's next bulk update (the stage cron, a fold of storefront events, a
-- merchant's import) then compares every old row with every new one. 10,500 customers updated
-- after one order took 38 s in this trigger alone (tests/klaviyo/segments.test.ts, which timed
-- out); 20,000 took 42 s against 0.3 s planned fresh. EXCEPT has no join to plan: new rows
-- minus old rows by value (nulls equal, as IS DISTINCT FROM) is a hashed or sorted set
-- operation, linear whatever the first call's size.

/**
 * Statement trigger on customers: queue the rows whose criteria columns changed. A customer
 * already queued is updated, not skipped: the update takes the queued row's lock, so a drain
 * running meanwhile either waits for this transaction (and then sees its change) or skips the
 * row and leaves it for the next drain, never deleting it while reading the old values.
 */
create or replace function private.customers_segment_changes()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into private.segment_changes as q (user_id, customer_id)
    select n.user_id, n.id from new_rows n
    on conflict (user_id, customer_id) do update set changed_at = excluded.changed_at;
  else
    insert into private.segment_changes as q (user_id, customer_id)
    select c.user_id, c.id
      from (select n.user_id, n.id, n.stage, n.primary_collection, n.lifetime_value, n.total_orders, n.last_purchase_at,
                   n.email_subscribed
              from new_rows n
            except
            select o.user_id, o.id, o.stage, o.primary_collection, o.lifetime_value, o.total_orders, o.last_purchase_at,
                   o.email_subscribed
              from old_rows o) as c
    on conflict (user_id, customer_id) do update set changed_at = excluded.changed_at;
  end if;
  return null;
end
$$;
