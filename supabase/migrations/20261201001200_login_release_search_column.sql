-- Two changes that were first made by editing migrations 0300 and 0400 after they had landed;
-- those files are back as they landed, and the changes are here, as a migration should have
-- carried them. A local database migrated with the edited files reports drift on those two
-- files: `npm run db:reset` starts it over.

-- Sign-in throttling counts every attempt before its password is checked, atomically, and a
-- successful sign-in gives its count back (see withPublic's failuresOnly rules): peeking at a
-- bucket first let a burst of guesses slip past the limit.
drop function if exists private.rate_limit_peek(text, integer, timestamptz);

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

-- Customer search compares a stored, folded column: folding costs once when an email or a name
-- is written (this trigger), not once per row a search reads (the expression index), nor on the
-- many updates that touch neither (a generated column would be recomputed on every one).
drop index if exists public.customers_search_fold_idx;
alter table public.customers add column if not exists search_text text;

create or replace function private.customer_search_text_set()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.search_text := public.customer_search_text(new.email, new.first_name, new.last_name);
  return new;
end
$$;
revoke execute on function private.customer_search_text_set() from public, anon, authenticated;
drop trigger if exists customers_search_text on public.customers;
create trigger customers_search_text before insert or update of email, first_name, last_name on public.customers
  for each row execute function private.customer_search_text_set();

update public.customers set search_text = public.customer_search_text(email, first_name, last_name)
 where search_text is distinct from public.customer_search_text(email, first_name, last_name);
alter table public.customers alter column search_text set not null;
create index if not exists customers_search_text_idx on public.customers using gin (search_text extensions.gin_trgm_ops);
