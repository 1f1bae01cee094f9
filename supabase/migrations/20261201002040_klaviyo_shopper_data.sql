-- Messages to Klaviyo about a shopper: those about their customer record, and those addressed
-- to their email before they were one (a gift's announcement).
create index klaviyo_messages_profile_email_idx on public.klaviyo_messages (user_id, (profile ->> 'email')) where profile is not null;

create or replace function private.klaviyo_shopper_export(p_user_id uuid, p_customer_id uuid, p_email text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  with m as (
    select m.* from public.klaviyo_messages m where m.user_id = p_user_id and m.customer_id = p_customer_id
    union
    select m.* from public.klaviyo_messages m where m.user_id = p_user_id and m.profile is not null and m.profile ->> 'email' = p_email
  )
  select jsonb_build_object(
    'klaviyo_messages', (select coalesce(jsonb_agg(to_jsonb(m) - 'lease_until' order by m.created_at, m.id), '[]') from m))
$$;
select private.register_shopper_export('klaviyo', 'private.klaviyo_shopper_export(uuid,uuid,text)');
revoke execute on function private.klaviyo_shopper_export(uuid, uuid, text) from public;
