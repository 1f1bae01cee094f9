-- Loyalty members and segment members page by keyset, as the customers list does
-- (20261202000600): an index with the sort value and the tiebreak in one direction, which a
-- page reads forwards or backwards as one range, the last page included. The loyalty indexes
-- had the value descending and the customer id ascending (the list orders both descending), and
-- the segment members' index the id ascending under a descending instant; both are replaced.
-- Building them blocks writes to these tables while it runs: migrate in a quiet hour.

drop index public.loyalty_members_balance_idx;
create index loyalty_members_balance_idx on public.loyalty_members (user_id, points_balance, customer_id);

drop index public.loyalty_members_earned_idx;
create index loyalty_members_earned_idx on public.loyalty_members (user_id, points_earned, customer_id);

drop index public.loyalty_members_joined_idx;
create index loyalty_members_joined_idx on public.loyalty_members (user_id, joined_at, customer_id);

drop index public.segment_memberships_list_idx;
create index segment_memberships_list_idx on public.segment_memberships (user_id, segment_id, added_at, customer_id)
  where removed_at is null;
