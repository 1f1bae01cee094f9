-- Segment members list newest first with the customer id as tie-break (a build adds every
-- member at one instant, so added_at alone ties for all of them): an index in exactly that
-- order lets a page, the last one included, be read from the index instead of sorting every
-- member. It replaces the index on added_at alone.
create index segment_memberships_list_idx on public.segment_memberships (user_id, segment_id, added_at desc, customer_id)
  where removed_at is null;
drop index public.segment_memberships_active_idx;
