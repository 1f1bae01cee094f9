-- What the API roles may write, column by column. On Supabase a signed-in merchant reaches these
-- tables through the REST API as `authenticated`, so a grant is a promise about what a merchant
-- may change directly. Secrets, keys, verification stamps, counters and memberships are the
-- server's to write: the grants below leave them out, and tests/db/api-privileges.test.ts holds
-- every table of public to an allow-list (a new table's broad grant fails it).

-- Settings: the shop domain is the merchant's; tracking and server keys are rotated by the
-- server (random, never chosen), and the row itself comes from the auth.users trigger.
-- Everything the server writes for a merchant runs in the merchant's transaction with the
-- server's role (lib/db asServer), never through a grant to the API roles.
revoke insert, update, delete on public.merchant_settings from authenticated;
grant update (shop_domain) on public.merchant_settings to authenticated;

-- Credentials are encrypted by the server with a key the database never sees: read-only here.
revoke insert, update, delete on public.merchant_credentials from authenticated;

-- Leads are recorded by intake (the storefront and the shop), not typed in.
revoke insert, update, delete on public.leads from authenticated;

-- The activity log is appended by log_activity as the merchant; nothing in it is edited.
revoke insert on public.activity_log from authenticated;
grant insert (user_id, action, entity_type, entity_id, details) on public.activity_log to authenticated;

-- Batches: what was asked for; the codes themselves are coupons.
revoke insert on public.coupon_batches from authenticated;
grant insert (user_id, prefix, count) on public.coupon_batches to authenticated;

-- Segments: the merchant names them and sets their criteria; the count, the evaluation time
-- and the memberships come from evaluate_segment alone.
revoke insert, update, delete on public.customer_segments, public.segment_memberships from authenticated;
grant insert (user_id, name, description, criteria, is_dynamic),
      update (name, description, criteria, is_dynamic, is_active),
      delete on public.customer_segments to authenticated;

-- evaluate_segment writes memberships and counts, so only the server runs it (as the
-- merchant's own transaction, with the server's role: lib/db asServer).
revoke execute on function public.evaluate_segment(uuid, uuid, timestamptz) from authenticated;
