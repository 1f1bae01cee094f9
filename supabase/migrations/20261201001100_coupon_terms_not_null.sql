-- The coupons table's discount CHECK came out null, and so passed, for a percentage or fixed
-- coupon without a value (or buy X get Y without quantities): the API routes never sent one,
-- but the REST API could. This one comes out false instead. NOT VALID: it holds for every row
-- written from now on without failing a database that already holds such a row.
alter table public.coupons add constraint coupons_discount_terms_present check (
  coalesce(case discount_type
             when 'percentage' then discount_value is not null
             when 'fixed_amount' then discount_value is not null
             when 'free_shipping' then true
             when 'buy_x_get_y' then buy_quantity is not null and get_quantity is not null
           end, false)
) not valid;
