-- Sign-in throttling counts failed attempts only (see withPublic's failuresOnly rules): every
-- attempt is counted before its password is checked, atomically, so a burst of guesses cannot
-- slip past the limit, and a successful sign-in gives its count back. The owner's correct
-- password is judged by its own address, not by how many wrong ones strangers sent.

/** Give back one hit of a bucket's current window (a sign-in that succeeded). */
create or replace function private.rate_limit_release(
  p_bucket text,
  p_window_seconds integer,
  p_now timestamptz default now()
)
returns void
language sql
set search_path = ''
as $$
  update private.rate_limits r set hits = greatest(r.hits - 1, 0)
   where r.bucket = p_bucket
     and r.window_start = to_timestamp(floor(extract(epoch from p_now) / p_window_seconds) * p_window_seconds)
$$;
revoke execute on function private.rate_limit_release(text, integer, timestamptz) from public, anon, authenticated;
