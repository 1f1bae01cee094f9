import { db, jsonb, withSystem } from '@/lib/db';
import { applyOrder, DAY, evaluateStages } from '@/tests/helpers/journey';

/** Customers with one order `daysAgo` days ago, made at risk by the real stage rules (90 days after a first order). */
export async function atRiskCustomers(userId: string, n: number, label: string, opts: { daysAgo?: number; total?: number } = {}): Promise<string[]> {
  const orderedAt = new Date(Date.now() - (opts.daysAgo ?? 100) * DAY);
  const emails = Array.from({ length: n }, (_, i) => `${label}-${i}@example.test`);
  for (const [i, email] of emails.entries()) {
    await applyOrder(userId, { shopOrderId: `${label}-${i}`, email, total: opts.total ?? 80, orderedAt, firstName: `Shopper${i}` });
  }
  await evaluateStages(userId, new Date());
  return emails;
}

export interface CampaignInput {
  name?: string;
  holdoutPercent?: number;
  sendDelayDays?: number;
  attributionDays?: number;
  minLifetimeValue?: number;
  minDaysInactive?: number;
  targetCollections?: string[];
  incentiveType?: string;
  incentiveValue?: number | null;
  endsAt?: Date | null;
}

export async function createCampaign(userId: string, input: CampaignInput = {}): Promise<string> {
  const [row] = await db()<{ id: string }[]>`
    insert into public.winback_campaigns (user_id, name, holdout_percent, send_delay_days, attribution_days, min_lifetime_value,
                                          min_days_inactive, target_collections, incentive_type, incentive_value, ends_at)
    values (${userId}, ${input.name ?? 'Come back'}, ${input.holdoutPercent ?? 0}, ${input.sendDelayDays ?? 0},
            ${input.attributionDays ?? 30}, ${input.minLifetimeValue ?? 0}, ${input.minDaysInactive ?? 0},
            ${input.targetCollections ?? []}, ${input.incentiveType ?? 'none'}, ${input.incentiveValue ?? null}, ${input.endsAt ?? null})
    returning id`;
  if (!row) throw new Error('no campaign');
  return row.id;
}

export async function call<T = Record<string, unknown>>(fn: string, userId: string, campaignId: string, now = new Date()): Promise<T> {
  return withSystem(async (tx) => {
    const [r] = await tx<{ r: T }[]>`select ${tx.unsafe(`private.${fn}`)}(${userId}, ${campaignId}, ${now}) as r`;
    return r?.r as T;
  });
}

export interface RecipientRow {
  id: string;
  customerId: string;
  email: string;
  arm: 'treatment' | 'control';
  status: string;
  eligibleAt: string;
  sendAt: string;
  messageId: string | null;
  couponCode: string | null;
  sentAt: string | null;
  openedAt: string | null;
  clickedAt: string | null;
  recoveredAt: string | null;
  recoveryValue: number;
}

export const recipients = (userId: string, campaignId: string) =>
  db()<RecipientRow[]>`
    select r.id, r.customer_id, c.email, r.arm, r.status, r.eligible_at, r.send_at, r.message_id, r.coupon_code, r.sent_at,
           r.opened_at, r.clicked_at, r.recovered_at, r.recovery_value
      from public.winback_recipients r join public.customers c on c.user_id = r.user_id and c.id = r.customer_id
     where r.user_id = ${userId} and r.campaign_id = ${campaignId} order by c.email`;

export interface Figures {
  targeted: number;
  control: number;
  sent: number;
  opened: number;
  clicked: number;
  recovered: number;
  revenue: number;
  controlRecovered: number;
  controlRevenue: number;
}

export async function figures(userId: string, campaignId: string): Promise<Figures> {
  const [f] = await db()<Figures[]>`
    select targeted, control, sent, opened, clicked, recovered, revenue, control_recovered, control_revenue
      from private.winback_campaign_figures(${userId}, ${[campaignId]})`;
  if (!f) throw new Error('no figures');
  return f;
}

export const tick = (now = new Date()) =>
  withSystem(async (tx) => (await tx<{ r: { events: number; enrolled: number; completed: number } }[]>`select private.winback_tick(${now}) as r`)[0]?.r);

/** A storefront click on a recipient's link, through the real batch intake. */
export const trackClick = (userId: string, email: string, recipientId: string, type = 'email_click', at = new Date()) =>
  withSystem(async (tx) => {
    const rows = [{ email, type, channel: 'email', occurredAt: at.toISOString(), referenceType: 'winback', referenceId: recipientId }];
    const [r] = await tx<{ n: number }[]>`select private.record_touchpoints(${userId}, ${jsonb(tx, rows)}, ${at}) as n`;
    return r?.n ?? 0;
  });
