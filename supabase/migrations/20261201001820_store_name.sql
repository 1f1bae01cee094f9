-- The store's name as its shoppers know it: what a public page (a gift's claim page) and an
-- email say the gift is from. Set in Settings; until it is, pages fall back to the shop domain.
-- The server writes it (lib/settings/store.ts), as it does every other setting.
alter table public.merchant_settings add column store_name text
  check (store_name is null or (length(store_name) between 1 and 80 and store_name = btrim(store_name)));
