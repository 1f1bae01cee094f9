/**
 * Every column of every table, classified: `personal` holds a shopper's personal data (what
 * identifies them, what they wrote, what was sent to them), `other` does not (ids, amounts,
 * dates, states, counters, the merchant's own settings). A shopper's erasure must clear or
 * replace every personal column of their rows; tests/db/personal-data.test.ts holds the catalog
 * to this list, so a new column that is not classified fails it. Say why a column is personal.
 */
export interface Classified {
  personal: string[];
  /** Why these columns are personal. */
  why?: string;
  other: string[];
}

export const COLUMNS: Record<string, Classified> = {
  'private.coupon_sources': {
    personal: [],
    other: ['source', 'issued'],
  },
  'private.cron_runs': {
    personal: [],
    other: ['job', 'last_started_at', 'last_finished_at', 'last_result', 'last_error', 'runs'],
  },
  'private.gift_codes': {
    personal: [],
    other: ['user_id', 'code_hash', 'gift_id', 'message_id', 'created_at'],
  },
  'private.klaviyo_deletions': {
    personal: ['email'],
    why: 'whose Klaviyo profile is to be deleted (held only until Klaviyo has taken the request)',
    other: ['user_id', 'id', 'status', 'reason', 'attempts', 'requested_at', 'sent_at'],
  },
  'private.segment_changes': {
    personal: [],
    other: ['user_id', 'customer_id', 'changed_at'],
  },
  'private.shopify_oauth_states': {
    personal: [],
    other: ['user_id', 'state_hash', 'shop', 'expires_at'],
  },
  'private.klaviyo_list_changes': {
    personal: [],
    other: ['user_id', 'id', 'segment_id', 'customer_id', 'op'],
  },
  'private.klaviyo_profile_changes': {
    personal: [],
    other: ['user_id', 'customer_id', 'changed_at'],
  },
  'private.klaviyo_sources': {
    personal: [],
    other: ['source', 'prepare', 'on_sent'],
  },
  'private.order_handlers': {
    personal: [],
    other: ['event', 'position', 'module', 'handler'],
  },
  'private.rate_limits': {
    personal: [],
    other: ['bucket', 'window_start', 'hits', 'expires_at'],
  },
  'private.shopper_erasers': {
    personal: [],
    other: ['module', 'position', 'erase_fn'],
  },
  'private.shopper_exports': {
    personal: [],
    other: ['module', 'export_fn'],
  },
  'private.stage_event_consumers': {
    personal: [],
    other: ['consumer', 'to_stages'],
  },
  'private.stage_events': {
    personal: [],
    other: ['id', 'consumer', 'user_id', 'customer_id', 'transition_id', 'from_stage', 'to_stage', 'trigger_type', 'transitioned_at'],
  },
  'private.stage_reviews': {
    personal: [],
    other: ['user_id', 'customer_id', 'review_at'],
  },
  'private.stage_rules': {
    personal: [],
    other: ['priority', 'rule', 'to_stage', 'min_orders', 'max_orders', 'min_ltv', 'needs_lead', 'needs_lead_or_order', 'needs_lead_engagement', 'inactive_days', 'inactive_since', 'reason'],
  },
  'private.touchpoint_folds': {
    personal: [],
    other: ['user_id', 'id', 'queued_at', 'customer_ids', 'types', 'occurred_ats', 'collections'],
  },
  'private.touchpoint_types': {
    personal: [],
    other: ['type', 'affinity_weight', 'engages', 'promotes_lead'],
  },
  'public.activity_log': {
    personal: ['details'],
    why: "what a merchant's action recorded (it may name a shopper)",
    other: ['id', 'user_id', 'action', 'entity_type', 'entity_id', 'created_at'],
  },
  'public.cohort_month_deltas': {
    personal: [],
    other: ['id', 'user_id', 'cohort', 'month', 'customers'],
  },
  'public.cohort_months': {
    personal: [],
    other: ['user_id', 'cohort', 'month', 'customers'],
  },
  'public.collections': {
    personal: [],
    other: ['user_id', 'slug', 'name', 'position', 'created_at'],
  },
  'public.coupon_batches': {
    personal: [],
    other: ['id', 'user_id', 'prefix', 'count', 'created_at'],
  },
  'public.coupon_tallies': {
    personal: [],
    other: ['user_id', 'coupon_id', 'stripe', 'uses', 'discount', 'rejected', 'allowance'],
  },
  'public.coupon_uses': {
    personal: ['customer_email'],
    why: 'the email a code was used with',
    other: ['id', 'user_id', 'coupon_id', 'order_id', 'customer_id', 'shop_order_id', 'status', 'reason', 'discount_amount', 'order_total', 'used_at'],
  },
  'public.coupons': {
    personal: [],
    other: ['id', 'user_id', 'code', 'status', 'source', 'batch_id', 'discount_type', 'discount_value', 'buy_quantity', 'get_quantity', 'usage_limit', 'per_customer_limit', 'usage_count', 'rejected_count', 'minimum_purchase', 'minimum_quantity', 'product_ids', 'collections', 'first_time_only', 'starts_at', 'expires_at', 'total_discount_amount', 'total_orders', 'description', 'internal_notes', 'created_at', 'updated_at'],
  },
  'public.customer_rollup_deltas': {
    personal: [],
    other: ['id', 'user_id', 'stage', 'collection', 'customers', 'leads', 'buyers', 'repeaters', 'lifetime_value'],
  },
  'public.customer_rollups': {
    personal: [],
    other: ['user_id', 'stage', 'collection', 'customers', 'leads', 'buyers', 'repeaters', 'lifetime_value'],
  },
  'public.customer_segments': {
    personal: [],
    other: ['id', 'user_id', 'name', 'description', 'criteria', 'klaviyo_segment_id', 'sync_enabled', 'last_synced_at', 'customer_count', 'is_dynamic', 'is_active', 'last_evaluated_at', 'created_at', 'updated_at', 'klaviyo_synced_count', 'klaviyo_sync_error', 'build_started_at', 'build_after', 'time_checked_at', 'follow_error', 'klaviyo_sync_done', 'klaviyo_sync_left'],
  },
  'public.customers': {
    personal: ['email', 'first_name', 'last_name', 'phone', 'shopify_customer_id', 'klaviyo_profile_id', 'search_text'],
    why: "who they are and how to reach them; the shop's and Klaviyo's ids for them; the search text made of them",
    other: ['id', 'user_id', 'lead_id', 'stage', 'stage_changed_at', 'became_lead_at', 'became_customer_at', 'became_repeat_at', 'became_vip_at', 'became_at_risk_at', 'became_churned_at', 'engaged_after_lead_at', 'total_orders', 'lifetime_value', 'lifetime_value_cents', 'average_order_value', 'primary_collection', 'collection_scores', 'last_email_open_at', 'last_email_click_at', 'last_site_visit_at', 'last_purchase_at', 'last_engaged_at', 'email_subscribed', 'sms_subscribed', 'created_at', 'updated_at', 'erased_at'],
  },
  'public.daily_metric_deltas': {
    personal: [],
    other: ['id', 'user_id', 'day', 'orders', 'revenue', 'first_orders', 'new_customers', 'leads', 'into_at_risk', 'won_back', 'into_churned'],
  },
  'public.daily_metrics': {
    personal: [],
    other: ['user_id', 'day', 'orders', 'revenue', 'first_orders', 'new_customers', 'leads', 'into_at_risk', 'won_back', 'into_churned'],
  },
  'public.gifts': {
    personal: ['sender_name', 'sender_email', 'recipient_email', 'recipient_name', 'message'],
    why: 'sender and recipient, and the message the sender wrote',
    other: ['user_id', 'id', 'origin', 'order_id', 'shop_order_id', 'sender_customer_id', 'value', 'currency', 'status', 'scheduled_delivery_at', 'delivered_at', 'delivered_via', 'claimed_at', 'claimed_by_customer_id', 'coupon_id', 'expires_at', 'cancelled_at', 'created_at', 'updated_at'],
  },
  'public.klaviyo_connections': {
    personal: [],
    other: ['user_id', 'checked_at', 'ok', 'detail'],
  },
  'public.klaviyo_messages': {
    personal: ['properties', 'profile'],
    why: "what was sent about them (names, a gift's message) and to whom",
    other: ['user_id', 'id', 'source', 'source_id', 'customer_id', 'metric', 'value', 'occurred_at', 'due_at', 'status', 'hold', 'reason', 'attempts', 'last_attempt_at', 'lease_until', 'sent_at', 'created_at', 'updated_at'],
  },
  'public.leads': {
    personal: ['email', 'first_name', 'last_name', 'metadata'],
    why: 'who left their email, and what the form sent with it',
    other: ['id', 'user_id', 'source', 'status', 'created_at', 'updated_at'],
  },
  'public.loyalty_daily': {
    personal: [],
    other: ['user_id', 'day', 'issued', 'redeemed', 'expired', 'clawed_back', 'adjusted', 'members_joined'],
  },
  'public.loyalty_daily_deltas': {
    personal: [],
    other: ['id', 'user_id', 'day', 'issued', 'redeemed', 'expired', 'clawed_back', 'adjusted', 'members_joined'],
  },
  'public.loyalty_members': {
    personal: ['birthday', 'birthday_md'],
    why: 'their birthday',
    other: ['user_id', 'customer_id', 'points_balance', 'points_earned', 'points_redeemed', 'points_expired', 'last_seq', 'tier_id', 'tier_achieved_at', 'next_tier_id', 'to_next_tier', 'referral_code', 'joined_at', 'updated_at'],
  },
  'public.loyalty_programs': {
    personal: [],
    other: ['user_id', 'enabled', 'points_per_unit', 'point_value', 'expiry_months', 'tier_basis', 'signup_points', 'birthday_points', 'review_points', 'referral_percent', 'created_at', 'updated_at', 'friend_reward_type', 'friend_reward_value', 'friend_minimum_purchase'],
  },
  'public.loyalty_rewards': {
    personal: [],
    other: ['id', 'user_id', 'name', 'description', 'points_cost', 'reward_type', 'reward_value', 'reward_product_id', 'minimum_purchase', 'min_tier_id', 'min_orders', 'redemption_limit', 'total_available', 'total_redeemed', 'code_valid_days', 'is_active', 'starts_at', 'ends_at', 'deleted_at', 'created_at', 'updated_at'],
  },
  'public.loyalty_tier_changes': {
    personal: [],
    other: ['id', 'user_id', 'customer_id', 'from_tier_id', 'to_tier_id', 'changed_at'],
  },
  'public.loyalty_tier_count_deltas': {
    personal: [],
    other: ['id', 'user_id', 'tier_id', 'members'],
  },
  'public.loyalty_tier_counts': {
    personal: [],
    other: ['user_id', 'tier_id', 'members'],
  },
  'public.loyalty_tiers': {
    personal: [],
    other: ['id', 'user_id', 'name', 'description', 'tier_order', 'threshold', 'points_multiplier', 'perks', 'badge_color', 'created_at', 'updated_at'],
  },
  'public.merchant_credentials': {
    personal: [],
    other: ['user_id', 'provider', 'ciphertext', 'last4', 'created_at', 'updated_at'],
  },
  'public.merchant_settings': {
    personal: [],
    other: ['user_id', 'shop_domain', 'tracking_key', 'currency', 'created_at', 'updated_at', 'server_key_hash', 'server_key_last4', 'webhook_key', 'time_zone', 'store_name'],
  },
  'public.order_discount_codes': {
    personal: [],
    other: ['user_id', 'order_id', 'code', 'amount', 'type'],
  },
  'public.order_lines': {
    personal: [],
    other: ['user_id', 'order_id', 'line_no', 'shop_line_id', 'product_id', 'variant_id', 'title', 'quantity', 'price', 'collection'],
  },
  'public.order_refunds': {
    personal: [],
    other: ['id', 'user_id', 'shop_refund_id', 'shop_order_id', 'order_id', 'amount', 'refunded_at', 'created_at'],
  },
  'public.orders': {
    personal: ['email', 'note_attributes'],
    why: "the buyer's email; note attributes are free text the shopper typed (a gift's recipient and message)",
    other: ['id', 'user_id', 'shop_order_id', 'customer_id', 'total', 'subtotal', 'item_count', 'refunded_total', 'currency', 'collection', 'channel', 'utm_source', 'utm_medium', 'utm_campaign', 'ordered_at', 'cancelled_at', 'created_at'],
  },
  'public.points_lots': {
    personal: [],
    other: ['user_id', 'customer_id', 'seq', 'points', 'remaining', 'expires_at'],
  },
  'public.points_transactions': {
    personal: [],
    other: ['user_id', 'customer_id', 'seq', 'type', 'points', 'balance_before', 'balance_after', 'source', 'order_id', 'shortfall', 'description', 'author_id', 'expires_at', 'created_at'],
  },
  'public.product_collections': {
    personal: [],
    other: ['user_id', 'product_id', 'collection'],
  },
  'public.referrals': {
    personal: ['friend_email'],
    why: 'the friend a member referred',
    other: ['id', 'user_id', 'referrer_id', 'code', 'friend_customer_id', 'status', 'rejection_reason', 'order_id', 'order_revenue', 'points_given', 'friend_coupon_id', 'friend_code', 'created_at', 'converted_at', 'updated_at'],
  },
  'public.reward_redemptions': {
    personal: [],
    other: ['id', 'user_id', 'customer_id', 'reward_id', 'seq', 'points_spent', 'coupon_id', 'code', 'status', 'expires_at', 'used_at', 'used_order_id', 'created_at', 'updated_at'],
  },
  'public.segment_count_deltas': {
    personal: [],
    other: ['user_id', 'id', 'segment_id', 'delta'],
  },
  'public.segment_memberships': {
    personal: [],
    other: ['user_id', 'segment_id', 'customer_id', 'added_at', 'removed_at'],
  },
  'public.shopper_requests': {
    personal: ['email_ciphertext'],
    why: 'who a data request is about, encrypted, until it is handled (a keyed hash recognises a repeat)',
    other: ['user_id', 'id', 'topic', 'delivery_id', 'email_hash', 'customer_id', 'orders_named', 'status', 'result', 'received_at', 'handled_at'],
  },
  'public.shopify_installs': {
    personal: [],
    other: ['user_id', 'shop', 'scopes', 'installed_at', 'uninstalled_at'],
  },
  'public.shopify_webhook_subscriptions': {
    personal: [],
    other: ['user_id', 'topic', 'subscription_id', 'uri', 'registered_at'],
  },
  'public.stage_transitions': {
    personal: [],
    other: ['id', 'user_id', 'customer_id', 'from_stage', 'to_stage', 'trigger_type', 'trigger_reference_id', 'rule', 'reason', 'transitioned_at'],
  },
  'public.touchpoints': {
    personal: ['metadata'],
    why: 'what the storefront sent with an event (it may carry a page, an address, a user agent)',
    other: ['id', 'user_id', 'customer_id', 'type', 'channel', 'reference_id', 'reference_type', 'value', 'collection', 'utm_source', 'utm_medium', 'utm_campaign', 'occurred_at', 'created_at'],
  },
  'public.webhook_deliveries': {
    personal: [],
    other: ['user_id', 'delivery_id', 'topic', 'shop_resource_id', 'outcome', 'received_at'],
  },
  'public.winback_campaign_deltas': {
    personal: [],
    other: ['user_id', 'id', 'campaign_id', 'targeted', 'control', 'sent', 'opened', 'clicked', 'recovered', 'revenue', 'control_recovered', 'control_revenue'],
  },
  'public.winback_campaigns': {
    personal: [],
    other: ['user_id', 'id', 'name', 'description', 'target_stages', 'min_days_inactive', 'max_days_inactive', 'min_lifetime_value', 'target_collections', 'incentive_type', 'incentive_value', 'coupon_days', 'send_delay_days', 'holdout_percent', 'attribution_days', 'status', 'enrolling', 'starts_at', 'ends_at', 'activated_at', 'completed_at', 'customers_targeted', 'control_count', 'emails_sent', 'emails_opened', 'emails_clicked', 'customers_recovered', 'revenue_recovered', 'control_recovered', 'control_revenue', 'created_at', 'updated_at'],
  },
  'public.winback_status_counts': {
    personal: [],
    other: ['user_id', 'campaign_id', 'status', 'recipients'],
  },
  'public.winback_status_deltas': {
    personal: [],
    other: ['user_id', 'id', 'campaign_id', 'status', 'recipients'],
  },
  'public.winback_recipients': {
    personal: [],
    other: ['user_id', 'id', 'campaign_id', 'customer_id', 'arm', 'status', 'eligible_at', 'send_at', 'enrolled_at', 'message_id', 'tracking_token', 'coupon_id', 'coupon_code', 'points_awarded', 'sent_at', 'opened_at', 'clicked_at', 'recovered_at', 'recovery_order_id', 'recovery_value', 'ended_reason', 'created_at', 'updated_at'],
  },
};
