import { jsonb, withSystem } from '@/lib/db';

export const DAY = 24 * 60 * 60 * 1000;
export const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
/** The ISO string a timestamptz column reads as, for an instant `ms` after `base`. */
export const isoAt = (base: Date, ms = 0) => at(base, ms).toISOString();

export interface OrderInput {
  shopOrderId: string;
  email: string;
  total: number;
  orderedAt: Date;
  lineItems?: { productId: string; quantity: number; price: number }[];
  shopCustomerId?: string;
  firstName?: string;
}

/** Apply an order through the real SQL function, evaluated as of `now` (default: the order time). */
export async function applyOrder(userId: string, o: OrderInput, now: Date = o.orderedAt): Promise<Record<string, unknown>> {
  return withSystem(async (tx) => {
    const [r] = await tx<{ r: Record<string, unknown> }[]>`
      select private.apply_order(${userId}, ${tx.json({ ...o, orderedAt: o.orderedAt.toISOString(), lineItems: o.lineItems ?? [] })}, ${now}) as r`;
    return r?.r ?? {};
  });
}

export async function applyRefund(userId: string, shopRefundId: string, shopOrderId: string, amount: number, now: Date) {
  return withSystem(async (tx) => {
    const [r] = await tx<{ r: Record<string, unknown> }[]>`
      select private.apply_refund(${userId}, ${tx.json({ shopRefundId, shopOrderId, amount, refundedAt: now.toISOString() })}, ${now}) as r`;
    return r?.r ?? {};
  });
}

export interface EventInput {
  email: string;
  type: string;
  channel?: string;
  occurredAt: Date;
  collection?: string;
}

/** Record events through the real batch function, evaluated as of `now` (default: the latest event). */
export async function track(userId: string, events: EventInput[], now?: Date): Promise<number> {
  const latest = now ?? new Date(Math.max(...events.map((e) => e.occurredAt.getTime())));
  return withSystem(async (tx) => {
    const rows = events.map((e) => ({ channel: 'direct', ...e, occurredAt: e.occurredAt.toISOString() }));
    const [r] = await tx<{ n: number }[]>`select private.record_touchpoints(${userId}, ${jsonb(tx, rows)}, ${latest}) as n`;
    return r?.n ?? 0;
  });
}

export async function evaluateStages(userId: string, now: Date): Promise<{ checked: number; changed: number }> {
  return withSystem(async (tx) => {
    const [r] = await tx<{ r: { checked: number; changed: number } }[]>`select private.evaluate_stages(${userId}, ${now}, 10000) as r`;
    return r?.r ?? { checked: 0, changed: 0 };
  });
}

export interface CustomerState {
  id: string;
  stage: string;
  totalOrders: number;
  lifetimeValue: number;
  averageOrderValue: number | null;
  becameLeadAt: string | null;
  becameCustomerAt: string | null;
  becameRepeatAt: string | null;
  becameVipAt: string | null;
  becameAtRiskAt: string | null;
  becameChurnedAt: string | null;
  stageReviewAt: string | null;
  primaryCollection: string | null;
  collectionScores: Record<string, number>;
}

export async function customer(userId: string, email: string): Promise<CustomerState> {
  return withSystem(async (tx) => {
    const [c] = await tx<CustomerState[]>`
      select c.*, r.review_at as stage_review_at from public.customers c
        left join private.stage_reviews r on r.customer_id = c.id
       where c.user_id = ${userId} and c.email = ${email}`;
    if (!c) throw new Error(`no customer ${email}`);
    return c;
  });
}

export async function transitions(userId: string, email: string) {
  return withSystem((tx) => tx<{ fromStage: string; toStage: string; triggerType: string; rule: string; reason: string; transitionedAt: string }[]>`
    select t.from_stage, t.to_stage, t.trigger_type, t.rule, t.reason, t.transitioned_at
      from public.stage_transitions t join public.customers c on c.id = t.customer_id
     where c.user_id = ${userId} and c.email = ${email}
     order by t.transitioned_at, t.id`);
}
