-- Sign-in throttling counts failed attempts only, and checks a bucket before counting (see
-- withPublic's failuresOnly rules): the owner's correct password is judged by its own address,
-- not by how many wrong ones strangers sent for the same email.

/** The hits of a bucket's current window, without adding one; null reset_at when it has none. */
create or replace function private.rate_limit_peek(
  p_bucket text,
  p_window_seconds integer,
  p_now timestamptz default now()
)
returns table (hits integer, reset_at timestamptz)
language sql
stable
set search_path = ''
as $$
  with w as (
    select to_timestamp(floor(extract(epoch from p_now) / p_window_seconds) * p_window_seconds) as start
  )
  select coalesce(r.hits, 0), r.expires_at
    from w left join private.rate_limits r on r.bucket = p_bucket and r.window_start = w.start
$$;
revoke execute on function private.rate_limit_peek(text, integer, timestamptz) from public, anon, authenticated;
