-- Win-back: a shopper's enrolments keep their group and what came of them (the campaign's
-- results and its comparison with the holdout); none holds personal data. An offer still
-- waiting to go will not go: the shopper can no longer be contacted, as if they had
-- unsubscribed before it went (the outbox's part of the erasure cancels its message).
create or replace function private.winback_shopper_erase(p_user_id uuid, p_customer_id uuid, p_email text, p_orders uuid[],
                                                         p_placeholder text, p_now timestamptz)
returns jsonb
language sql
volatile
set search_path = ''
as $$
  with stopped as (
    update public.winback_recipients r
       set status = 'unsubscribed', ended_reason = 'Their data was erased before the offer went'
     where r.user_id = p_user_id and r.customer_id = p_customer_id and r.status = 'pending'
    returning 1
  )
  select jsonb_build_object('winback_recipients', (select count(*) from stopped))
$$;
select private.register_shopper_erase('winback', 400, 'private.winback_shopper_erase(uuid,uuid,text,uuid[],text,timestamptz)');
revoke execute on function private.winback_shopper_erase(uuid, uuid, text, uuid[], text, timestamptz) from public;
