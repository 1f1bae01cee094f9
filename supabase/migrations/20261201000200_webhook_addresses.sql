-- Each merchant's shop posts webhooks to an address of its own, /api/webhooks/shopify/<key>,
-- and a delivery is checked against that one merchant's secret. Routing by the shop domain in a
-- header let anyone claim the same domain: 55 accounts that verified their own shops and then
-- claimed a victim's turned the owner's correctly signed deliveries into 401s. A key nobody can
-- guess (244 random bits) cannot be crowded out, and there is no claimant list to try.
alter table public.merchant_settings
  add column webhook_key text not null unique
    default ('wh_' || replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''))
    check (webhook_key ~ '^wh_[0-9a-f]{64}$');

-- Nothing routes by domain any more: the claimant order and its index go.
alter table public.merchant_settings drop column shop_verified_at;
drop index public.merchant_settings_shop_domain_idx;
