-- A customer's delete waits for new segments too, and can no longer deadlock with a writer
-- (review of 20261206000100, which moved the memberships' cascade into a statement trigger).
--
-- That trigger locked the store's segments FOR SHARE, which left two holes:
-- * A segment the lock cannot see: one inserted by a transaction still open (a merchant's new
--   segment is built in the transaction that creates it), or committed after the lock was
--   taken. Its build reads a customer whose delete has not committed yet and adds them, and
--   nothing removes that membership afterwards. New segments hold the store's 'segments/'
--   advisory lock from their insert to their commit (private.customer_segments_limit), so the
--   trigger now takes that lock first: it waits for a new segment's transaction, and a new
--   segment created meanwhile waits for the delete (its build then does not see the customer).
-- * A deadlock on a segment synced to Klaviyo: its writer, holding the segment, queued a list
--   change whose foreign key locked the customer (KEY SHARE), while the delete held the
--   customer and waited for the segment. The list changes are written only by the memberships'
--   triggers and by sync being turned on, so under the segment's lock as the memberships are:
--   they drop that foreign key the same way, and this trigger deletes them with the memberships.
--   A writer of a segment now locks no customer, so nothing holds a segment while it waits for one.

alter table private.klaviyo_list_changes drop constraint klaviyo_list_changes_user_id_customer_id_fkey;

/** Statement trigger on customers: the deleted customers' memberships and queued list changes go, after every writer of their stores' segments. */
create or replace function private.customers_memberships_delete()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- New segments (held from insert to commit), then the committed ones; stores in one order.
  perform pg_advisory_xact_lock(hashtextextended('segments/' || d.user_id::text, 0))
     from (select distinct o.user_id from old_rows o order by 1) d;
  perform 1 from public.customer_segments s
    where s.user_id in (select distinct o.user_id from old_rows o)
    order by s.user_id, s.id
    for share of s;
  -- Planned for this statement's rows (EXECUTE): a cached plan made for one customer's delete
  -- (a primary-key probe per segment and customer) would be reused for a whole store's, and a
  -- store's delete planned once would hash one customer's. Customers are deleted rarely.
  execute 'delete from public.segment_memberships m using old_rows o, public.customer_segments s
            where s.user_id = o.user_id and m.user_id = o.user_id and m.segment_id = s.id and m.customer_id = o.id';
  execute 'delete from private.klaviyo_list_changes k using old_rows o where k.user_id = o.user_id and k.customer_id = o.id';
  return null;
end
$$;
