-- Win-back: the campaigns a shopper was enrolled in, with their group and what came of it.
create or replace function private.winback_shopper_export(p_user_id uuid, p_customer_id uuid, p_email text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'winback_recipients', (select coalesce(jsonb_agg(to_jsonb(r) || jsonb_build_object('campaign_name', w.name) order by r.enrolled_at, r.id), '[]')
                             from public.winback_recipients r
                             join public.winback_campaigns w on w.user_id = r.user_id and w.id = r.campaign_id
                            where r.user_id = p_user_id and r.customer_id = p_customer_id))
$$;
select private.register_shopper_export('winback', 'private.winback_shopper_export(uuid,uuid,text)');
revoke execute on function private.winback_shopper_export(uuid, uuid, text) from public;
