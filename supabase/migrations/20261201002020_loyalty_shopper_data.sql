-- Loyalty and referrals: a member's record, ledger, lots, redemptions and tier changes, and the
-- referrals they made and the ones that name them as the friend (by record or by email; the
-- unique index on the friend's email leaves refused referrals out, so this one holds them all).
create index referrals_friend_email_idx on public.referrals (user_id, friend_email);
create index referrals_friend_customer_idx on public.referrals (user_id, friend_customer_id) where friend_customer_id is not null;

create or replace function private.loyalty_shopper_export(p_user_id uuid, p_customer_id uuid, p_email text)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'loyalty_members', (select coalesce(jsonb_agg(to_jsonb(m)), '[]') from public.loyalty_members m
                         where m.user_id = p_user_id and m.customer_id = p_customer_id),
    'points_transactions', (select coalesce(jsonb_agg(to_jsonb(t) order by t.seq), '[]') from public.points_transactions t
                             where t.user_id = p_user_id and t.customer_id = p_customer_id),
    'points_lots', (select coalesce(jsonb_agg(to_jsonb(l) order by l.seq), '[]') from public.points_lots l
                     where l.user_id = p_user_id and l.customer_id = p_customer_id),
    'reward_redemptions', (select coalesce(jsonb_agg(to_jsonb(r) || jsonb_build_object('reward_name', w.name) order by r.created_at, r.id), '[]')
                             from public.reward_redemptions r
                             join public.loyalty_rewards w on w.user_id = r.user_id and w.id = r.reward_id
                            where r.user_id = p_user_id and r.customer_id = p_customer_id),
    'loyalty_tier_changes', (select coalesce(jsonb_agg(to_jsonb(c) order by c.changed_at, c.id), '[]') from public.loyalty_tier_changes c
                              where c.user_id = p_user_id and c.customer_id = p_customer_id),
    -- A referral the shopper made names a friend, and one they were referred by names the
    -- member who referred them: each side gets its own part, not the other's.
    'referrals', (select coalesce(jsonb_agg(case when r.referrer_id = p_customer_id
                                                 then to_jsonb(r) - array['friend_email', 'friend_customer_id', 'friend_code', 'friend_coupon_id']
                                                      || jsonb_build_object('role', 'referrer')
                                                 else to_jsonb(r) - array['referrer_id', 'code'] || jsonb_build_object('role', 'friend') end
                                            order by r.created_at, r.id), '[]')
                    from (select r.* from public.referrals r where r.user_id = p_user_id and r.referrer_id = p_customer_id
                          union
                          select r.* from public.referrals r where r.user_id = p_user_id and r.friend_customer_id = p_customer_id
                          union
                          select r.* from public.referrals r where r.user_id = p_user_id and r.friend_email = p_email) r))
$$;
select private.register_shopper_export('loyalty', 'private.loyalty_shopper_export(uuid,uuid,text)');
revoke execute on function private.loyalty_shopper_export(uuid, uuid, text) from public;
