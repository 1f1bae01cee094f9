-- Klaviyo: whether a merchant has a key, asked by the loyalty and stage triggers on every order
-- (four or five times an order with the loyalty program on), now a plpgsql function. As a SQL
-- function with a SET clause it could not be inlined, and such a function plans its query anew
-- on every call: 46 µs a call, 6% of an order for a store that has no Klaviyo key at all.
-- plpgsql keeps the plan for the session.

/** Whether the merchant has a Klaviyo key saved (what every loyalty trigger asks first). */
create or replace function private.has_klaviyo(p_user_id uuid)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return exists (select 1 from public.merchant_credentials c where c.user_id = p_user_id and c.provider = 'klaviyo');
end
$$;
