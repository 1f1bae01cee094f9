-- Loyalty and referrals: a member keeps their balance, ledger, tier and code (the program's
-- figures) but not their birthday; a referral that named the shopper as the friend carries the
-- shopper's placeholder instead of their email (one referral per friend still holds). A
-- referral the shopper made keeps the friend's address: that is the friend's, not theirs.
create or replace function private.loyalty_shopper_erase(p_user_id uuid, p_customer_id uuid, p_email text, p_orders uuid[],
                                                         p_placeholder text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_members integer; v_referrals integer;
begin
  update public.loyalty_members m set birthday = null
   where m.user_id = p_user_id and m.customer_id = p_customer_id and m.birthday is not null;
  get diagnostics v_members = row_count;

  with taken as (
    select r.id from public.referrals r where r.user_id = p_user_id and r.friend_customer_id = p_customer_id
    union
    select r.id from public.referrals r where r.user_id = p_user_id and r.friend_email = p_email
  )
  update public.referrals r set friend_email = p_placeholder
    from taken t
   where r.user_id = p_user_id and r.id = t.id and r.friend_email <> p_placeholder;
  get diagnostics v_referrals = row_count;

  return jsonb_build_object('loyalty_members', v_members, 'referrals', v_referrals);
end
$$;
select private.register_shopper_erase('loyalty', 300, 'private.loyalty_shopper_erase(uuid,uuid,text,uuid[],text,timestamptz)');
revoke execute on function private.loyalty_shopper_erase(uuid, uuid, text, uuid[], text, timestamptz) from public;
