-- Coupons: the expiry cron no longer skips a code that orders are using. Each use's foreign key
-- holds KEY SHARE on its coupon's row until the order commits, which FOR UPDATE SKIP LOCKED
-- skipped, so a busy code past its end date kept showing "active" while it sold (orders were
-- refused by the date all the same). FOR NO KEY UPDATE does not conflict with KEY SHARE, and
-- the status change takes the code's stripe shares back (20261203000100_coupon_stripes.sql).

/** Cron: active or paused coupons past expires_at become expired; bounded, overlap-safe. */
create or replace function private.expire_coupons(p_now timestamptz default now(), p_limit integer default 5000)
returns integer
language sql
volatile
set search_path = ''
as $$
  with due as (
    select c.user_id, c.id from public.coupons c
     where c.status in ('active', 'paused') and c.expires_at is not null and c.expires_at <= p_now
     order by c.expires_at
     limit p_limit
     for no key update skip locked
  ), upd as (
    update public.coupons c set status = 'expired' from due where c.user_id = due.user_id and c.id = due.id returning 1
  )
  select count(*)::integer from upd
$$;
