import type { Tx } from '@/lib/db';
import { recordDataRequest } from '@/lib/privacy/requests';

/**
 * Rows for a merchant in every public table, created through the real SQL functions where
 * there is one. Run in declaration order (later fixtures build on earlier ones). The generic
 * RLS guard fails for a table that has no entry here, so every new table must add one.
 */
export const TENANT_FIXTURES: Record<string, (tx: Tx, userId: string) => Promise<unknown>> = {
  // merchant_settings: created for every user by the auth.users trigger.
  merchant_settings: async () => undefined,
  merchant_credentials: (tx, userId) => tx`
    insert into public.merchant_credentials (user_id, provider, ciphertext, last4)
    values (${userId}, 'klaviyo', 'v1.fixture', 'abcd')`,
  activity_log: (tx, userId) => tx`select public.log_activity(${userId}, 'fixture.created')`,
  leads: (tx, userId) => tx`
    insert into public.leads (user_id, email) values (${userId}, ${`lead-${userId.slice(0, 8)}@example.test`})`,
  // The three example collections come with every new merchant; this adds a fourth.
  collections: (tx, userId) => tx`
    insert into public.collections (user_id, slug, name, position) values (${userId}, 'rituals', 'Rituals', 3)`,
  product_collections: (tx, userId) => tx`
    insert into public.product_collections (user_id, product_id, collection) values (${userId}, 'p-1', 'growth')`,
  // customers, orders, touchpoints and stage_transitions all come from one real order.
  customers: (tx, userId) => tx`
    select private.apply_order(${userId}, ${tx.json({
      shopOrderId: 'fixture-1', email: 'fixture@example.test', total: 80, orderedAt: '2026-01-01T00:00:00Z',
      lineItems: [{ productId: 'p-1', quantity: 1, price: 80 }],
    })})`,
  orders: async () => undefined,
  order_lines: async () => undefined,
  touchpoints: (tx, userId) => tx`
    select private.record_touchpoint(${userId}, ${tx.json({
      email: 'fixture@example.test', type: 'page_view', channel: 'direct', occurredAt: '2026-01-02T00:00:00Z',
    })})`,
  stage_transitions: async () => undefined,
  order_refunds: (tx, userId) => tx`
    select private.apply_refund(${userId}, ${tx.json({ shopRefundId: 'r-1', shopOrderId: 'fixture-1', amount: 10 })})`,
  webhook_deliveries: (tx, userId) => tx`
    insert into public.webhook_deliveries (user_id, delivery_id, topic, outcome) values (${userId}, 'd-1', 'orders/create', 'applied')`,
  customer_segments: (tx, userId) => tx`
    insert into public.customer_segments (user_id, name, criteria) values (${userId}, 'Everyone', '{}')`,
  segment_memberships: (tx, userId) => tx`
    select public.evaluate_segment(s.user_id, s.id) from public.customer_segments s where s.user_id = ${userId}`,
  // A delta waits until a step folds it: the membership change above leaves one.
  segment_count_deltas: (tx, userId) => tx`
    insert into public.segment_count_deltas (user_id, segment_id, delta)
    select user_id, id, 0 from public.customer_segments where user_id = ${userId}`,
  coupon_batches: (tx, userId) => tx`
    insert into public.coupon_batches (user_id, prefix, count) values (${userId}, 'FIX', 1)`,
  coupons: (tx, userId) => tx`
    insert into public.coupons (user_id, code, discount_type, discount_value, source, batch_id)
    select ${userId}, 'FIXTURE10', 'percentage', 10, 'bulk', b.id from public.coupon_batches b where b.user_id = ${userId}`,
  // A real redemption through the order flow.
  coupon_uses: (tx, userId) => tx`
    select private.apply_order(${userId}, ${tx.json({
      shopOrderId: 'fixture-2', email: 'fixture@example.test', total: 50, orderedAt: '2026-01-03T00:00:00Z',
      discountCodes: [{ code: 'fixture10', amount: 5 }],
    })})`,
  order_discount_codes: async () => undefined,
  // An unlimited code's use is counted on one of its stripes (the order above, placed before
  // the code started, was refused).
  coupon_tallies: (tx, userId) => tx`
    select private.apply_order(${userId}, ${tx.json({
      shopOrderId: 'fixture-tally', email: 'fixture@example.test', total: 50, orderedAt: new Date().toISOString(),
      discountCodes: [{ code: 'fixture10' }],
    })})`,
  // Both written by the customers triggers (the order above); compaction moves deltas into totals.
  customer_rollup_deltas: async () => undefined,
  customer_rollups: (tx, userId) => tx`select private.compact_customer_rollups(1000)`.then(() => tx`
    insert into public.customer_rollup_deltas (user_id, stage, collection, customers, leads, buyers, repeaters, lifetime_value)
    select user_id, stage, collection, 0, 0, 0, 0, 0 from public.customer_rollups where user_id = ${userId} limit 1`),
  // Trends: written by the orders and customers above; compaction folds the deltas, and one
  // more order leaves a delta of each kind pending.
  daily_metrics: (tx) => tx`select private.compact_trends(100000)`,
  cohort_months: async () => undefined,
  daily_metric_deltas: (tx, userId) => tx`
    select private.apply_order(${userId}, ${tx.json({ shopOrderId: 'fixture-3', email: 'fixture-new@example.test', total: 5, orderedAt: '2026-02-01T00:00:00Z' })})`,
  cohort_month_deltas: async () => undefined,
  // Loyalty: the program and its default tiers, then an order that makes a member with a
  // ledger row, a lot and a first tier, and a reward redeemed for it.
  loyalty_programs: (tx, userId) => tx`select private.loyalty_setup(${userId})`,
  loyalty_tiers: async () => undefined,
  loyalty_members: (tx, userId) => tx`
    select private.apply_order(${userId}, ${tx.json({ shopOrderId: 'fixture-4', email: 'fixture@example.test', total: 120, orderedAt: '2026-02-02T00:00:00Z' })})`,
  points_transactions: async () => undefined,
  points_lots: async () => undefined,
  loyalty_tier_changes: async () => undefined,
  loyalty_rewards: (tx, userId) => tx`
    insert into public.loyalty_rewards (user_id, name, points_cost, reward_type, reward_value) values (${userId}, 'Fixture', 10, 'fixed_discount', 5)`,
  reward_redemptions: (tx, userId) => tx`
    select private.loyalty_redeem(${userId}, c.id, r.id)
      from public.customers c, public.loyalty_rewards r
     where c.user_id = ${userId} and c.email = 'fixture@example.test' and r.user_id = ${userId}`,
  referrals: (tx, userId) => tx`
    select private.referral_claim(${userId}, m.referral_code, 'fixture-friend@example.test')
      from public.loyalty_members m where m.user_id = ${userId} limit 1`,
  // Loyalty rollups: written by the ledger, member and tier triggers above; folded, then one
  // more bonus leaves a day delta pending, and a tier's delta is left by a second member.
  loyalty_daily: (tx) => tx`select private.compact_loyalty(100000)`,
  loyalty_tier_counts: async () => undefined,
  loyalty_daily_deltas: (tx, userId) => tx`
    select private.loyalty_bonus(${userId}, c.id, 5, 'fixture', ${userId}) from public.customers c
     where c.user_id = ${userId} and c.email = 'fixture@example.test'`,
  loyalty_tier_count_deltas: (tx, userId) => tx`
    select private.apply_order(${userId}, ${tx.json({ shopOrderId: 'fixture-5', email: 'fixture-tier@example.test', total: 10, orderedAt: '2026-02-03T00:00:00Z' })})`,
  // A message to Klaviyo (its job is added by the insert trigger).
  klaviyo_messages: (tx, userId) => tx`
    insert into public.klaviyo_messages (user_id, source, customer_id, metric)
    select ${userId}, 'fixture', c.id, 'Fixture' from public.customers c where c.user_id = ${userId} and c.email = 'fixture@example.test'`,
  // A win-back campaign, activated once the fixture's customers have gone quiet (churned by
  // now): recipients and the counters' deltas come from the real activation.
  winback_campaigns: (tx, userId) => tx`insert into public.winback_campaigns (user_id, name) values (${userId}, 'Fixture')`,
  winback_recipients: (tx, userId) => tx`select private.evaluate_stages(${userId}, now(), 1000)`.then(() => tx`
    select private.winback_activate(${userId}, w.id) from public.winback_campaigns w where w.user_id = ${userId}`),
  winback_campaign_deltas: async () => undefined,
  // The recipients' triggers appended deltas; folded, they are counts. Then a delta of none (the
  // triggers' rows are the fold's now).
  winback_status_counts: (tx) => tx`select private.compact_winback_statuses(100000)`,
  winback_status_deltas: (tx, userId) => tx`
    insert into public.winback_status_deltas (user_id, campaign_id, status, recipients)
    select user_id, id, 'pending', 0 from public.winback_campaigns where user_id = ${userId} limit 1`,
  // A gift from the dashboard (its announcement is a klaviyo message to a profile).
  gifts: (tx, userId) => tx`
    select private.create_gift(${userId}, ${tx.json({ origin: 'dashboard', recipientEmail: 'fixture-gift@example.test', senderName: 'Fixture' })})`,
  // A shop's data request, as its webhook records it.
  shopper_requests: (tx, userId) => recordDataRequest(tx, userId, `fixture-${userId}`,
    { email: 'fixture-request@example.test', shopCustomerId: null, shopOrderIds: [] }),
  // The last check of the Klaviyo key, as Settings' check writes it.
  klaviyo_connections: (tx, userId) => tx`
    insert into public.klaviyo_connections (user_id, checked_at, ok, detail) values (${userId}, now(), true, 'Account: Fixture')`,
  // A store installed through the app (the callback's bind), and one webhook it registered.
  shopify_installs: (tx, userId) => tx`
    select private.shopify_install_bind(${userId}, ${`fixture-${userId.slice(0, 8)}.myshopify.com`}, 'read_orders', 'v1.fixture', 'abcd')`,
  shopify_webhook_subscriptions: (tx, userId) => tx`
    insert into public.shopify_webhook_subscriptions (user_id, topic, subscription_id, uri)
    values (${userId}, 'ORDERS_CREATE', 'gid://shopify/WebhookSubscription/1', 'https://app.example/api/webhooks/shopify')`,
};
