-- Win-back: the recipients' status counts move without joining the update's transition
-- tables (see 20261205000200: a join first planned for one row is a nested loop kept for the
-- connection, quadratic on the next bulk update, such as an enrolment or a send's results).
-- Each new row counts +1 in its status and each old row -1 in its own: rows whose status did
-- not move cancel out.

/** Statement triggers on recipients: each status's change in count, one delta per campaign and status. */
create or replace function private.winback_recipients_status_counts()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    insert into public.winback_status_deltas (user_id, campaign_id, status, recipients)
    select n.user_id, n.campaign_id, n.status, count(*) from new_rows n group by 1, 2, 3;
  elsif tg_op = 'DELETE' then
    insert into public.winback_status_deltas (user_id, campaign_id, status, recipients)
    select o.user_id, o.campaign_id, o.status, -count(*) from old_rows o group by 1, 2, 3;
  else
    -- Most updates (an open, a click time) move no status: nothing is written for them.
    insert into public.winback_status_deltas (user_id, campaign_id, status, recipients)
    select x.user_id, x.campaign_id, x.status, sum(x.d)
      from (select n.user_id, n.campaign_id, n.status, 1 as d from new_rows n
            union all
            select o.user_id, o.campaign_id, o.status, -1 from old_rows o) as x
     group by 1, 2, 3
    having sum(x.d) <> 0;
  end if;
  return null;
end
$$;
