/**
 * What the API roles may write, table by table and column by column: on Supabase this is what a
 * signed-in merchant can change through the REST API (row level security then limits it to the
 * merchant's own rows). Everything not listed is the server's to write. A change here is a
 * change of what merchants may do directly: say why in the migration that grants it.
 */
export interface Writes {
  insert?: string[];
  update?: string[];
  delete?: boolean;
}

export const AUTHENTICATED_WRITES: Record<string, Writes> = {
  'public.activity_log': { insert: ['action', 'details', 'entity_id', 'entity_type', 'user_id'] },
  'public.collections': { insert: ['name', 'position', 'slug', 'user_id'], update: ['name', 'position'], delete: true },
  'public.product_collections': { insert: ['collection', 'product_id', 'user_id'], update: ['collection'], delete: true },
  'public.customers': { update: ['email_subscribed', 'first_name', 'last_name', 'phone', 'sms_subscribed'] },
  'public.customer_segments': {
    insert: ['criteria', 'description', 'is_dynamic', 'name', 'user_id'],
    update: ['criteria', 'description', 'is_active', 'is_dynamic', 'name'],
    delete: true,
  },
  'public.coupon_batches': { insert: ['count', 'prefix', 'user_id'] },
  'public.coupons': {
    insert: [
      'batch_id', 'buy_quantity', 'code', 'collections', 'description', 'discount_type', 'discount_value', 'expires_at',
      'first_time_only', 'get_quantity', 'internal_notes', 'minimum_purchase', 'minimum_quantity', 'per_customer_limit',
      'product_ids', 'source', 'starts_at', 'status', 'usage_limit', 'user_id',
    ],
    update: [
      'buy_quantity', 'collections', 'description', 'discount_type', 'discount_value', 'expires_at', 'first_time_only',
      'get_quantity', 'internal_notes', 'minimum_purchase', 'minimum_quantity', 'per_customer_limit', 'product_ids',
      'starts_at', 'status', 'usage_limit',
    ],
    delete: true,
  },
  'public.merchant_settings': { update: ['shop_domain'] },
};
