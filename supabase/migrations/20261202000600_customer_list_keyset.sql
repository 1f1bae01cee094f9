-- The customers list pages by keyset: a page is the rows after (or before) a row in the sort's
-- order, `(value, id) < (v, i)`, read as one range of an index on (user_id, value, id). The
-- indexes of the first migration had the value descending and the id ascending, which serves
-- neither direction of `order by value desc, id desc` past the value: ties (half the customers
-- have a lifetime value of 0) were sorted again on every page. An index in one direction serves
-- both orders, read forwards or backwards.
--
-- No purchase sorts as the smallest value (last when descending, first when ascending): nulls
-- first, read backwards for the descending list. The same index serves the segments' time step,
-- a range of last_purchase_at.
--
-- Building them holds a lock that blocks writes to customers for as long as a build takes
-- (seconds at a million rows): run this migration in a quiet hour.

drop index public.customers_ltv_idx;
create index customers_ltv_idx on public.customers (user_id, lifetime_value, id);

drop index public.customers_orders_idx;
create index customers_orders_idx on public.customers (user_id, total_orders, id);

drop index public.customers_purchase_idx;
create index customers_purchase_idx on public.customers (user_id, last_purchase_at nulls first, id);

drop index public.customers_created_idx;
create index customers_created_idx on public.customers (user_id, created_at, id);
