-- Segment memberships without per-row checks (issue 13, segment evaluation from empty).
--
-- A build inserts a segment's members 8,000 at a time. Each inserted row paid for three
-- lookups and locks of rows the statement already had: an explicit KEY SHARE on its customer
-- (so a customer deleted meanwhile was skipped), then the two foreign keys' checks, each one
-- query per row (the customer again, and the segment, which the step holds FOR NO KEY UPDATE).
-- At 200,000 customers (80,000 members) a build took 1.8-2.6 s with them and 0.7 s without.
--
-- What the checks guaranteed is kept by one lock per segment instead of three per row:
-- * Every writer of memberships (private.segment_apply, called by the build step, the drain
--   and the time step) first locks the segment rows it writes FOR NO KEY UPDATE, in an
--   earlier statement than the one that reads the customers and writes the rows. So writers of
--   one segment take turns, and each sees the rows the one before committed: no ON CONFLICT is
--   needed (the primary key still refuses a duplicate rather than keep one).
-- * A segment deleted: its DELETE waits for the writer holding it; this migration's statement
--   trigger then deletes its memberships (a new snapshot, so it sees what the writer committed).
--   A writer coming after finds the segment gone.
-- * A customer deleted: the statement trigger first locks the store's segments FOR SHARE, which
--   waits for every writer of the store under way and keeps new ones out until the delete
--   commits (they then read the customers without it), and then deletes the customer's
--   memberships. Customers are deleted rarely (a merchant's account going, tests): the delete
--   pays, not the build.
-- tests/journey/segment-memberships.test.ts races each case on real connections.

alter table public.segment_memberships
  drop constraint segment_memberships_user_id_segment_id_fkey,
  drop constraint segment_memberships_user_id_customer_id_fkey;

/** Statement trigger on customer_segments: the deleted segments' memberships go with them. */
create or replace function private.customer_segments_memberships_delete()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.segment_memberships m using old_rows o where m.user_id = o.user_id and m.segment_id = o.id;
  return null;
end
$$;
revoke execute on function private.customer_segments_memberships_delete() from public, anon, authenticated;
create trigger customer_segments_memberships_delete after delete on public.customer_segments
  referencing old table as old_rows for each statement execute function private.customer_segments_memberships_delete();

/** Statement trigger on customers: the deleted customers' memberships go, after any writer of their stores' segments. */
create or replace function private.customers_memberships_delete()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform 1 from public.customer_segments s
    where s.user_id in (select distinct o.user_id from old_rows o)
    order by s.user_id, s.id
    for share of s;
  delete from public.segment_memberships m using old_rows o where m.user_id = o.user_id and m.customer_id = o.id;
  return null;
end
$$;
revoke execute on function private.customers_memberships_delete() from public, anon, authenticated;
create trigger customers_memberships_delete after delete on public.customers
  referencing old table as old_rows for each statement execute function private.customers_memberships_delete();

/**
 * Reconcile (segment, customer) pairs with whether each holds at p_now: a match not a member
 * is added (or re-added, its row brought back), a member who no longer matches removed. Rows
 * already right are not written. The caller holds the pairs' segment rows FOR NO KEY UPDATE
 * from an earlier statement (see the top of this migration): that is what makes a plain insert
 * safe and keeps a deleted customer or segment out.
 */
create or replace function private.segment_apply(p_now timestamptz, p_user_ids uuid[], p_segment_ids uuid[],
                                                 p_customer_ids uuid[], p_holds boolean[])
returns table (added integer, removed integer)
language sql
volatile
set search_path = ''
as $$
  with w as materialized (
    select t.user_id, t.segment_id, t.customer_id, t.holds, m.customer_id is not null as known,
           m.customer_id is not null and m.removed_at is null as active
      from unnest(p_user_ids, p_segment_ids, p_customer_ids, p_holds) as t(user_id, segment_id, customer_id, holds)
      left join public.segment_memberships m on m.user_id = t.user_id and m.segment_id = t.segment_id and m.customer_id = t.customer_id
  ), ins as (
    insert into public.segment_memberships (user_id, segment_id, customer_id, added_at)
    select w.user_id, w.segment_id, w.customer_id, p_now from w
     where w.holds and not w.known
    returning 1
  ), moved as (
    -- Back in (a former member who matches again) or out (a member who no longer matches).
    update public.segment_memberships sm
       set removed_at = case when w.holds then null else p_now end,
           added_at = case when w.holds then p_now else sm.added_at end
      from w
     where w.known and w.holds <> w.active
       and sm.user_id = w.user_id and sm.segment_id = w.segment_id and sm.customer_id = w.customer_id
    returning w.holds
  )
  select (select count(*)::integer from ins) + (select count(*)::integer from moved where moved.holds),
         (select count(*)::integer from moved where not moved.holds)
$$;
revoke execute on function private.segment_apply(timestamptz, uuid[], uuid[], uuid[], boolean[]) from public, anon, authenticated;
