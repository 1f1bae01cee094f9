-- Trends read orders by time (orders_user_ordered_idx) and customers by when they were first
-- seen (customers_created_idx) and became a lead (this index), so a period costs the rows in it.
create index customers_became_lead_idx on public.customers (user_id, became_lead_at) where became_lead_at is not null;
