-- Loyalty and referrals: a member keeps their balance, ledger, tier and code (the program's
-- figures) but not their birthday; a referral that named the shopper as the friend carries the
-- shopper's placeholder instead of their email (one referral per friend still holds), and the
-- referrer's ledger row and "Points Earned" message for it no longer say whom they referred. A
-- referral the shopper made keeps the friend's address: that is the friend's, not theirs.

/**
 * The ledger stays a chain: a posted row is never changed, but for its description, which an
 * erasure may rewrite (it can name a referred friend); it is deleted only with its member.
 */
create or replace function private.points_transactions_guard()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    if new.seq = 1 then
      if new.balance_before <> 0 then
        raise exception 'The first row of a ledger starts from 0 points' using errcode = 'HH409';
      end if;
    elsif not exists (select 1 from public.points_transactions p
                       where p.user_id = new.user_id and p.customer_id = new.customer_id
                         and p.seq = new.seq - 1 and p.balance_after = new.balance_before) then
      raise exception 'A ledger row must follow the previous one (seq %, balance %)', new.seq, new.balance_before using errcode = 'HH409';
    end if;
    return new;
  end if;
  if tg_op = 'UPDATE' and to_jsonb(new) - 'description' = to_jsonb(old) - 'description' then
    return new;
  end if;
  if tg_op = 'DELETE' and not exists (select 1 from public.loyalty_members m
                                        where m.user_id = old.user_id and m.customer_id = old.customer_id) then
    return old;
  end if;
  raise exception 'Points transactions are append-only' using errcode = 'HH409';
end
$$;
create or replace function private.loyalty_shopper_erase(p_user_id uuid, p_customer_id uuid, p_email text, p_orders uuid[],
                                                         p_placeholder text, p_now timestamptz)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_members integer; v_referrals integer; v_ledger integer; v_messages integer;
  v_said text := 'Referred ' || p_email;
  v_ids uuid[]; v_referrers uuid[];
begin
  update public.loyalty_members m set birthday = null
   where m.user_id = p_user_id and m.customer_id = p_customer_id and m.birthday is not null;
  get diagnostics v_members = row_count;

  select coalesce(array_agg(x.id order by x.id), '{}'), coalesce(array_agg(x.referrer_id order by x.id), '{}')
    into v_ids, v_referrers from (
    select r.id, r.referrer_id from public.referrals r where r.user_id = p_user_id and r.friend_customer_id = p_customer_id
    union
    select r.id, r.referrer_id from public.referrals r where r.user_id = p_user_id and r.friend_email = p_email) x;

  update public.referrals r set friend_email = p_placeholder
   where r.user_id = p_user_id and r.id = any (v_ids) and r.friend_email <> p_placeholder;
  get diagnostics v_referrals = row_count;

  -- The referrer's ledger row for a converted referral said 'Referred <the friend's email>'.
  update public.points_transactions p set description = 'Referred a friend'
    from unnest(v_ids, v_referrers) as t(id, referrer_id)
   where p.user_id = p_user_id and p.customer_id = t.referrer_id and p.type = 'earn_referral' and p.source = 'referral:' || t.id
     and p.description is distinct from 'Referred a friend';
  get diagnostics v_ledger = row_count;
  -- And so did the "Points Earned" message it made for the referrer (messages' locks after the ledger's).
  update public.klaviyo_messages m set properties = jsonb_set(m.properties, '{description}', '"Referred a friend"')
   where m.user_id = p_user_id and m.source = 'loyalty'
     and m.customer_id = any (v_referrers)
     and m.properties ->> 'description' = v_said;
  get diagnostics v_messages = row_count;

  return jsonb_build_object('loyalty_members', v_members, 'referrals', v_referrals, 'points_transactions', v_ledger,
                            'klaviyo_messages', v_messages);
end
$$;
select private.register_shopper_erase('loyalty', 300, 'private.loyalty_shopper_erase(uuid,uuid,text,uuid[],text,timestamptz)');
revoke execute on function private.loyalty_shopper_erase(uuid, uuid, text, uuid[], text, timestamptz) from public;
