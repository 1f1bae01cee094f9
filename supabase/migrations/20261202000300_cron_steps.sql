-- Cron calls work in bounded steps (lib/cron/jobs.ts): the rate-limit purge takes a row limit
-- too, so a flood of buckets (one per sign-in subject) is cleared over steps, not in one.

/** Cron: delete up to p_limit windows that have ended. Returns how many rows went. */
create or replace function private.purge_rate_limits(p_now timestamptz, p_limit integer)
returns integer
language sql
set search_path = ''
as $$
  with gone as (
    delete from private.rate_limits r
     where (r.bucket, r.window_start) in (
       select x.bucket, x.window_start from private.rate_limits x where x.expires_at <= p_now
        order by x.expires_at limit p_limit for update skip locked)
    returning 1
  )
  select count(*)::integer from gone
$$;
revoke execute on function private.purge_rate_limits(timestamptz, integer) from public, anon, authenticated;
