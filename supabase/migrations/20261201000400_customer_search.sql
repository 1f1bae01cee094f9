-- Customer search that ignores accents and case and matches several words in any order:
-- "zoe" finds Zoë, "moreau 1728" finds zoe.moreau.1728@... . One trigram index on the folded
-- text serves every word of a search.
create extension if not exists unaccent with schema extensions;
grant usage on schema extensions to authenticated;
grant execute on function extensions.unaccent(regdictionary, text) to authenticated;

/**
 * Text as search compares it: accents removed, lower case ("Zoë Moreau" -> "zoe moreau").
 * Immutable, so an index can hold it: the dictionary is named outright, never found through
 * search_path.
 */
create or replace function public.search_fold(p_text text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$ select lower(extensions.unaccent('extensions.unaccent'::regdictionary, p_text)) $$;
grant execute on function public.search_fold(text) to authenticated, service_role;

/** What a customer is found by: email and names, folded. */
create or replace function public.customer_search_text(p_email text, p_first_name text, p_last_name text)
returns text
language sql
immutable
parallel safe
set search_path = ''
as $$ select public.search_fold(p_email || ' ' || coalesce(p_first_name, '') || ' ' || coalesce(p_last_name, '')) $$;
grant execute on function public.customer_search_text(text, text, text) to authenticated, service_role;

-- Kept in a column, so a search compares text already folded: folding costs once when an email
-- or a name is written (this trigger), not once per row a search reads, nor on the many
-- updates that touch neither (a generated column would be recomputed on every one of those).
alter table public.customers add column search_text text;
update public.customers set search_text = public.customer_search_text(email, first_name, last_name);
alter table public.customers alter column search_text set not null;

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
create trigger customers_search_text before insert or update of email, first_name, last_name on public.customers
  for each row execute function private.customer_search_text_set();

create index customers_search_text_idx on public.customers using gin (search_text extensions.gin_trgm_ops);
drop index public.customers_search_idx;
