import type { Channel, CollectionScores, Customer, Stage, StageTransition, Touchpoint, TouchpointType } from '@/lib/customers/schemas';

// Rows as postgres.js returns them: timestamps as Date, numeric as string.
type Ts = Date | null;

export interface CustomerRow {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  shopify_customer_id: string | null;
  stage: Stage;
  stage_changed_at: Ts;
  became_lead_at: Ts;
  became_customer_at: Ts;
  became_repeat_at: Ts;
  became_vip_at: Ts;
  became_at_risk_at: Ts;
  became_churned_at: Ts;
  total_orders: number;
  lifetime_value: string;
  average_order_value: string | null;
  primary_collection: string | null;
  collection_scores: Record<string, number | string> | null;
  last_email_open_at: Ts;
  last_email_click_at: Ts;
  last_site_visit_at: Ts;
  last_purchase_at: Ts;
  last_engaged_at: Ts;
  email_subscribed: boolean;
  sms_subscribed: boolean;
  created_at: Date;
}

const iso = (d: Ts): string | null => (d ? d.toISOString() : null);
const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

/** The columns every customer query selects, in one place. */
export const CUSTOMER_COLUMNS = [
  'id', 'email', 'first_name', 'last_name', 'phone', 'shopify_customer_id', 'stage', 'stage_changed_at',
  'became_lead_at', 'became_customer_at', 'became_repeat_at', 'became_vip_at', 'became_at_risk_at',
  'became_churned_at', 'total_orders', 'lifetime_value', 'average_order_value', 'primary_collection',
  'collection_scores', 'last_email_open_at', 'last_email_click_at', 'last_site_visit_at', 'last_purchase_at',
  'last_engaged_at', 'email_subscribed', 'sms_subscribed', 'created_at',
] as const;

export function toCustomer(r: CustomerRow): Customer {
  const scores = r.collection_scores ?? {};
  return {
    id: r.id,
    email: r.email,
    firstName: r.first_name,
    lastName: r.last_name,
    phone: r.phone,
    shopifyCustomerId: r.shopify_customer_id,
    stage: r.stage,
    stageChangedAt: iso(r.stage_changed_at),
    becameLeadAt: iso(r.became_lead_at),
    becameCustomerAt: iso(r.became_customer_at),
    becameRepeatAt: iso(r.became_repeat_at),
    becameVipAt: iso(r.became_vip_at),
    becameAtRiskAt: iso(r.became_at_risk_at),
    becameChurnedAt: iso(r.became_churned_at),
    totalOrders: r.total_orders,
    lifetimeValue: Number(r.lifetime_value),
    averageOrderValue: num(r.average_order_value),
    primaryCollection: r.primary_collection,
    collectionScores: Object.fromEntries(Object.entries(scores).map(([slug, v]) => [slug, Number(v)])) as CollectionScores,
    lastEmailOpenAt: iso(r.last_email_open_at),
    lastEmailClickAt: iso(r.last_email_click_at),
    lastSiteVisitAt: iso(r.last_site_visit_at),
    lastPurchaseAt: iso(r.last_purchase_at),
    lastEngagedAt: iso(r.last_engaged_at),
    emailSubscribed: r.email_subscribed,
    smsSubscribed: r.sms_subscribed,
    createdAt: r.created_at.toISOString(),
  };
}

export interface TouchpointRow {
  id: string;
  type: TouchpointType;
  channel: Channel;
  reference_id: string | null;
  reference_type: string | null;
  value: string | null;
  collection: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  metadata: Record<string, unknown> | null;
  occurred_at: Date;
}

export function toTouchpoint(r: TouchpointRow): Touchpoint {
  return {
    id: r.id,
    type: r.type,
    channel: r.channel,
    referenceId: r.reference_id,
    referenceType: r.reference_type,
    value: num(r.value),
    collection: r.collection,
    utmSource: r.utm_source,
    utmMedium: r.utm_medium,
    utmCampaign: r.utm_campaign,
    metadata: r.metadata ?? {},
    occurredAt: r.occurred_at.toISOString(),
  };
}

export interface TransitionRow {
  id: string;
  from_stage: Stage;
  to_stage: Stage;
  trigger_type: StageTransition['triggerType'];
  trigger_reference_id: string | null;
  rule: string;
  reason: string;
  transitioned_at: Date;
}

export function toTransition(r: TransitionRow): StageTransition {
  return {
    id: r.id,
    fromStage: r.from_stage,
    toStage: r.to_stage,
    triggerType: r.trigger_type,
    triggerReferenceId: r.trigger_reference_id,
    rule: r.rule,
    reason: r.reason,
    transitionedAt: r.transitioned_at.toISOString(),
  };
}
