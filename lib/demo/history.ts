import 'server-only';
import type { Sql, Tx } from '@/lib/db';
import { jsonb } from '@/lib/db';
import { giftStep, giftSteps, seedCurrentGifts, type GiftStep } from '@/lib/demo/gifts';
import { env } from '@/lib/env';
import { recordDataRequest } from '@/lib/privacy/requests';

const DAY = 24 * 60 * 60 * 1000;
const CHANNELS = ['organic', 'pinterest', 'email', 'ads', 'direct', 'referral', 'social'] as const;
const FIRST = ['Ava', 'Noah', 'Mia', 'Liam', 'Zoe', 'Ethan', 'Ivy', 'Leo', 'Nora', 'Owen', 'Ruby', 'Finn', 'Maya', 'Eli', 'Cora', 'Jude'];
const LAST = ['Hart', 'Reyes', 'Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Silva', 'Byrne', 'Novak', 'Haddad', 'Quinn', 'Patel'];

/** Deterministic pseudo-random numbers (mulberry32), so every demo database looks the same. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface DemoEvent {
  email: string;
  type: string;
  channel: string;
  occurredAt: string;
  collection?: string;
}

interface DemoOrder {
  shopOrderId: string;
  email: string;
  total: number;
  orderedAt: string;
  firstName: string;
  lastName: string;
  lineItems: { productId: string; quantity: number; price: number }[];
  /** As the shop sends them: the code, what it took off, and its kind. */
  discountCodes: { code: string; amount: number; type: 'percentage' | 'shipping' }[];
  /** The checkout's note attributes (a gift's recipient, message and day). */
  noteAttributes?: Record<string, string>;
}

/** An order before its code is chosen: whether it is the customer's first, and a die for the code. */
type DraftOrder = DemoOrder & { first: boolean; roll: number };

/** Flat shipping the demo shop charges; FREESHIP takes it off orders of 50 or more. */
const SHIPPING = 7.5;
/** VIP20's usage limit in the demo; the shop stops offering it a little before, as a real one would. */
const VIP_LIMIT = 60;
const cents = (n: number) => Math.round(n * 100) / 100;

/** A realistic history: visits, sign-ups, orders and lapses over `months`, in time order. */
export function generateHistory(options: { customers: number; months: number; now: Date; seed?: number; collections: readonly string[] }) {
  const COLLECTIONS = options.collections;
  const rand = rng(options.seed ?? 42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const start = options.now.getTime() - options.months * 30 * DAY;
  const span = options.now.getTime() - start;
  const events: DemoEvent[] = [];
  const orders: DraftOrder[] = [];
  for (let i = 0; i < options.customers; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const email = `${first}.${last}.${i}@demo-shopper.test`.toLowerCase();
    const favourite = pick(COLLECTIONS);
    const channel = pick(CHANNELS);
    // A growing store: more customers arrive recently than at the start.
    let t = start + Math.pow(rand(), 0.55) * span * 0.98;
    const visits = 1 + Math.floor(rand() * 6);
    const at = () => new Date(Math.min(t, options.now.getTime() - 60_000)).toISOString();
    for (let v = 0; v < visits; v++) {
      events.push({ email, type: 'page_view', channel, occurredAt: at(), collection: rand() < 0.7 ? favourite : pick(COLLECTIONS) });
      if (rand() < 0.3) events.push({ email, type: rand() < 0.5 ? 'pin_save' : 'pin_click', channel: 'pinterest', occurredAt: at(), collection: favourite });
      t += rand() * 3 * DAY;
    }
    if (rand() > 0.62) continue; // most visitors never leave an email
    events.push({ email, type: 'lead_capture', channel, occurredAt: at() });
    t += rand() * 5 * DAY;
    if (rand() < 0.5) events.push({ email, type: rand() < 0.5 ? 'quiz_complete' : 'email_click', channel: 'email', occurredAt: at() });
    if (rand() > 0.72) {
      // Leads who never buy, some still reading the newsletter.
      for (let k = Math.floor(rand() * 4); k > 0; k--) {
        t += (7 + rand() * 30) * DAY;
        if (t < options.now.getTime()) events.push({ email, type: 'email_click', channel: 'email', occurredAt: at() });
      }
      continue;
    }
    // Buyers: a first order, then repeat purchases with shrinking odds and growing gaps.
    let n = 0;
    let keepBuying = true;
    while (keepBuying && t < options.now.getTime() - DAY) {
      events.push({ email, type: 'cart_add', channel, occurredAt: at(), collection: favourite });
      const items = 1 + Math.floor(rand() * 3);
      const lineItems = Array.from({ length: items }, () => {
        const collection = rand() < 0.75 ? favourite : pick(COLLECTIONS);
        return { productId: `${collection}-${1 + Math.floor(rand() * 3)}`, quantity: 1 + Math.floor(rand() * 2), price: Math.round(18 + rand() * 90) };
      });
      const subtotal = lineItems.reduce((s, li) => s + li.quantity * li.price, 0);
      orders.push({
        shopOrderId: `demo-${i}-${n}`, email, total: subtotal, orderedAt: at(), firstName: first, lastName: last, lineItems,
        discountCodes: [], first: n === 0, roll: rand(),
      });
      n += 1;
      keepBuying = rand() < (n === 1 ? 0.55 : 0.7);
      t += (15 + rand() * 90) * DAY;
      if (keepBuying && rand() < 0.4) events.push({ email, type: 'email_open', channel: 'email', occurredAt: at() });
    }
  }
  return { events, orders: withDiscounts(orders) };
}

/**
 * Codes as the shop applies them, in time order: WELCOME10 on some first orders, VIP20 on some
 * repeat orders until the shop stops offering it near its limit, FREESHIP on some orders of 50
 * or more. Each order carries what the code took off and its total after the discount plus
 * shipping, as a Shopify order does.
 */
function withDiscounts(orders: DraftOrder[]): DemoOrder[] {
  let vipUses = 0;
  return [...orders].sort((a, b) => a.orderedAt.localeCompare(b.orderedAt)).map(({ first, roll, ...order }) => {
    const subtotal = order.total;
    let code: DemoOrder['discountCodes'][number] | null = null;
    if (first && roll < 0.3) code = { code: 'WELCOME10', amount: cents(subtotal * 0.1), type: 'percentage' };
    else if (!first && roll < 0.12 && vipUses < VIP_LIMIT - 6) {
      vipUses += 1;
      code = { code: 'VIP20', amount: cents(subtotal * 0.2), type: 'percentage' };
    } else if (subtotal >= 50 && roll > 0.9) code = { code: 'FREESHIP', amount: SHIPPING, type: 'shipping' };
    const shipping = code?.type === 'shipping' ? 0 : SHIPPING;
    const discount = code?.type === 'percentage' ? code.amount : 0;
    return { ...order, total: cents(subtotal - discount + shipping), discountCodes: code ? [code] : [] };
  });
}

/**
 * Feed the history through the real intake functions in time order, a day at a time: the timed
 * stage review runs at each day's start, events are flushed before each order, so stages and
 * the transition log read as production would have written them.
 */
export async function seedHistory(sql: Sql, userId: string, options: { customers: number; months: number; now?: Date }): Promise<{ giftClaimPath: string }> {
  const now = options.now ?? new Date();
  // The demo merchant's own catalogue (the example collections every new merchant starts with).
  const collections = (await sql<{ slug: string }[]>`
    select slug from public.collections where user_id = ${userId} order by position, slug`).map((c) => c.slug);
  const { events, orders } = generateHistory({ ...options, now, collections });
  await sql`
    insert into public.product_collections (user_id, product_id, collection)
    select ${userId}, c || '-' || n, c from unnest(${collections}::text[]) c, generate_series(1, 3) n
    on conflict do nothing`;
  await sql`
    insert into public.coupons (user_id, code, discount_type, discount_value, first_time_only, usage_limit, per_customer_limit,
                                minimum_purchase, starts_at, description)
    values (${userId}, 'WELCOME10', 'percentage', 10, true, null, 1, null, ${new Date(now.getTime() - options.months * 31 * DAY)}, 'First order welcome'),
           (${userId}, 'VIP20', 'percentage', 20, false, 60, null, null, ${new Date(now.getTime() - options.months * 31 * DAY)}, 'Thank-you code for regulars'),
           (${userId}, 'FREESHIP', 'free_shipping', null, false, null, null, 50, ${new Date(now.getTime() - options.months * 31 * DAY)}, 'Free shipping over 50')`;
  // The loyalty program from the start, so the history earns points as it happens: one point a
  // dollar, sign-up, birthday and review points, points expiring after nine months, four rewards.
  const start = new Date(now.getTime() - options.months * 31 * DAY);
  await sql`select private.loyalty_setup(${userId})`;
  await sql`update public.loyalty_programs set signup_points = 50, birthday_points = 100, review_points = 25, expiry_months = 9,
              created_at = ${start} where user_id = ${userId}`;
  await sql`
    insert into public.loyalty_rewards (user_id, name, description, points_cost, reward_type, reward_value, min_tier_id, redemption_limit, created_at)
    values (${userId}, '$5 off', 'Five dollars off any order', 500, 'fixed_discount', 5, null, null, ${start}),
           (${userId}, 'Free shipping', 'Shipping on us', 300, 'free_shipping', null, null, null, ${start}),
           (${userId}, '10% off', 'Ten percent off an order', 800, 'percentage_discount', 10, null, null, ${start}),
           (${userId}, '$20 off for Gold', 'Twenty dollars off, once, for Gold members', 1500, 'fixed_discount', 20,
            (select id from public.loyalty_tiers where user_id = ${userId} and name = 'Gold'), 1, ${start})`;
  type Item = { at: string; event?: DemoEvent; order?: DemoOrder; referral?: ReferralStep; gift?: GiftStep };
  // Gift steps first: they mark the orders that carry a gift's note attributes.
  const gifts = giftSteps(orders, now);
  const timeline: Item[] = [
    ...events.map((e) => ({ at: e.occurredAt, event: e })),
    ...orders.map((o) => ({ at: o.orderedAt, order: o })),
    ...referralSteps(now).map((r) => ({ at: r.at, referral: r })),
    ...gifts.map((g) => ({ at: g.at, gift: g })),
  ].sort((x, y) => x.at.localeCompare(y.at));
  const friendCodes = new Map<number, string>();
  const winback = demoWinback(now);
  // While the history plays, the store had Klaviyo connected (the seed removes the key at the end,
  // so what the active campaign sends from now on waits, held, for a real key in Settings).
  await sql`insert into public.merchant_credentials (user_id, provider, ciphertext, last4) values (${userId}, 'klaviyo', 'v1.demo-history', 'demo')`;
  const days = new Map<number, Item[]>();
  for (const item of timeline) {
    const day = Math.floor(Date.parse(item.at) / DAY);
    days.set(day, [...(days.get(day) ?? []), item]);
  }
  for (const [day, items] of days) {
    await sql.begin(async (tx) => {
      await tx`select private.evaluate_stages(${userId}, ${new Date(day * DAY)}, 100000)`;
      await tx`select private.loyalty_expire(${new Date(day * DAY)}, 100000), private.loyalty_expire_codes(${new Date(day * DAY)}, 100000)`;
      await winbackDay(tx, userId, day, winback);
      let pending: DemoEvent[] = [];
      const flush = async () => {
        const last = pending[pending.length - 1];
        if (!last) return;
        await tx`select private.record_touchpoints(${userId}, ${jsonb(tx, pending)}, ${new Date(last.occurredAt)})`;
        // A shopper who left an email created an account: the store's backend reports the sign-up.
        const signups = pending.filter((e) => e.type === 'lead_capture');
        if (signups.length > 0) {
          await tx`select private.loyalty_signup(${userId}, s.email, s.at)
                     from unnest(${signups.map((e) => e.email)}::text[], ${signups.map((e) => e.occurredAt)}::timestamptz[]) as s(email, at)`;
        }
        pending = [];
      };
      for (const item of items) {
        if (item.event) pending.push(item.event);
        if (item.order) {
          await flush();
          await tx`select private.apply_order(${userId}, ${jsonb(tx, item.order)}, ${new Date(item.order.orderedAt)})`;
        }
        if (item.referral) {
          await flush();
          await referralStep(tx, userId, item.referral, friendCodes);
        }
        if (item.gift) {
          await flush();
          await giftStep(tx, userId, item.gift);
        }
      }
      await flush();
      // Once a week, at the day's end, two members with points to spare take the dearest open reward they can afford.
      if (day % 7 === 0) {
        await tx`
          select private.loyalty_redeem(${userId}, m.customer_id, r.id, ${new Date((day + 1) * DAY - 1000)})
            from (select customer_id, points_balance from public.loyalty_members
                   where user_id = ${userId} and points_balance >= 300
                   order by md5(customer_id::text || ${day}::text) limit 2) m
            cross join lateral (select id from public.loyalty_rewards
                                 where user_id = ${userId} and min_tier_id is null and points_cost <= m.points_balance
                                 order by points_cost desc limit 1) r`;
      }
    });
  }
  await seedBirthdays(sql, userId, now);
  await sql`delete from public.merchant_credentials where user_id = ${userId} and provider = 'klaviyo'`;
  await sql`select private.evaluate_stages(${userId}, ${now}, 100000)`;
  await sql`select private.loyalty_expire(${now}, 100000), private.loyalty_expire_codes(${now}, 100000)`;
  // What the rollups cron does every few minutes: fold the analytics deltas into the totals.
  await sql`select private.compact_customer_rollups(1000000), private.compact_trends(1000000), private.compact_loyalty(1000000),
                    private.compact_winback(1000000)`;
  await sql`
    insert into public.customer_segments (user_id, name, description, criteria)
    values (${userId}, 'VIPs', 'High-value repeat customers', '{"stages": ["vip"]}'),
           (${userId}, 'Lapsing buyers', 'Bought before, quiet for 60 to 180 days', '{"min_orders": 1, "min_days_since_purchase": 60, "max_days_since_purchase": 180}'),
           (${userId}, 'Growth fans', 'Prefer the growth collection', '{"collections": ["growth"]}')`;
  // One segment at a time, in id order: the order every writer of several segments locks them in.
  for (const { id } of await sql<{ id: string }[]>`select id from public.customer_segments where user_id = ${userId} order by id`) {
    await sql`select public.evaluate_segment(${userId}, ${id}, ${now})`;
  }
  const giftClaimPath = await seedCurrentGifts(sql, userId, now);
  // A shopper has asked the store for their data (Shopify's customers/data_request): open in
  // Settings. Stored encrypted, so only where the app's key is set (npm run dev sets it).
  if (env().APP_ENCRYPTION_KEY) await sql.begin(async (tx) => {
    const [c] = await tx<{ email: string; shopifyCustomerId: string | null }[]>`
      select email, shopify_customer_id from public.customers where user_id = ${userId} and total_orders > 1 order by email limit 1`;
    if (c) await recordDataRequest(tx, userId, 'demo-data-request-1', { email: c.email, shopCustomerId: c.shopifyCustomerId, shopOrderIds: [] });
  });
  return { giftClaimPath };
}

interface DemoCampaign {
  name: string;
  description: string;
  /** Day number (days since 1970) it is activated on, and the one it ends on (null: still running). */
  startDay: number;
  endDay: number | null;
  fields: Record<string, string | number | string[]>;
  id?: string;
}

/**
 * Two win-back campaigns: one that ran from seven to three months ago, with a fifth held back,
 * and one running since six weeks ago for customers who had spent 100 or more.
 */
function demoWinback(now: Date): DemoCampaign[] {
  const today = Math.floor(now.getTime() / DAY);
  return [
    {
      name: 'Spring win-back', description: '15% off for anyone who slipped away', startDay: today - 210, endDay: today - 90,
      fields: { holdoutPercent: 20, incentiveType: 'percentage_discount', incentiveValue: 15, couponDays: 21, attributionDays: 30 },
    },
    {
      name: 'Big spenders, come back', description: '$10 off for at-risk customers who had spent 100 or more', startDay: today - 45, endDay: null,
      fields: { holdoutPercent: 10, incentiveType: 'fixed_discount', incentiveValue: 10, couponDays: 30, attributionDays: 30,
        minLifetimeValue: 100, targetStages: ['at_risk'], sendDelayDays: 3 },
    },
  ];
}

/**
 * One day of win-back in the history, through the real functions: a campaign starts on its day,
 * the cron enrols and ends as it would, and the messages due that day (offers, loyalty moments,
 * gifts' announcements) go out as Klaviyo would take them (the outbox's claim and its record of a 202). A third of those sent open the email,
 * half of those click, and a third of the clickers order with their code within the day: the
 * campaign's own effect, on top of the orders the history already has for both groups.
 */
async function winbackDay(tx: Tx, userId: string, day: number, campaigns: DemoCampaign[]): Promise<void> {
  const start = new Date(day * DAY);
  const end = new Date((day + 1) * DAY - 1000);
  for (const c of campaigns) {
    if (day < c.startDay || c.id) continue;
    const [row] = await tx<{ id: string }[]>`
      insert into public.winback_campaigns ${tx({
        ...c.fields, userId, name: c.name, description: c.description, createdAt: start, updatedAt: start,
        endsAt: c.endDay === null ? null : new Date(c.endDay * DAY),
      })} returning id`;
    c.id = row?.id;
    await tx`select private.winback_activate(${userId}, ${c.id ?? ''}, ${start})`;
  }
  if (campaigns.some((c) => c.id)) await tx`select private.winback_tick(${start}, 100000)`;
  // The worker's two steps for each offer due today: the claim, then the record of Klaviyo's 202.
  const claimed = await tx<{ id: string; at: string }[]>`
    select k.id, k.at from (
      select m.id, greatest(m.due_at, ${start}::timestamptz) as at,
             private.klaviyo_claim(m.user_id, m.id, greatest(m.due_at, ${start}::timestamptz)) ->> 'action' as action
        from public.klaviyo_messages m
       where m.user_id = ${userId} and m.status = 'pending' and m.due_at <= ${end}
    ) k where k.action = 'send'`;
  if (claimed.length === 0) return;
  await tx`select private.klaviyo_result(${userId}, k.id, 'sent', null, null, k.at)
             from unnest(${claimed.map((c) => c.id)}::uuid[], ${claimed.map((c) => c.at)}::timestamptz[]) as k(id, at)`;
  const sent = await tx<{ email: string; recipientId: string; coupon: string | null; sentAt: string; incentiveType: string; incentiveValue: number | null }[]>`
    select c.email, r.id as recipient_id, r.coupon_code as coupon, r.sent_at, w.incentive_type, w.incentive_value
      from public.winback_recipients r
      join public.customers c on c.user_id = r.user_id and c.id = r.customer_id
      join public.winback_campaigns w on w.user_id = r.user_id and w.id = r.campaign_id
     where r.user_id = ${userId} and r.message_id = any (${claimed.map((c) => c.id)}::uuid[]) and r.sent_at is not null`;
  const roll = (email: string, salt: string) => (parseInt(md5ish(`${email}/${salt}`), 16) % 1000) / 1000;
  const touches: { email: string; type: string; channel: string; occurredAt: string; referenceType: string; referenceId: string }[] = [];
  for (const r of sent) {
    if (roll(r.email, 'open') >= 0.34) continue;
    const openedAt = new Date(Date.parse(r.sentAt) + 2 * 3600_000);
    touches.push({ email: r.email, type: 'email_open', channel: 'email', occurredAt: openedAt.toISOString(), referenceType: 'winback', referenceId: r.recipientId });
    if (roll(r.email, 'click') >= 0.5) continue;
    const clickedAt = new Date(openedAt.getTime() + 20 * 60_000);
    touches.push({ email: r.email, type: 'email_click', channel: 'email', occurredAt: clickedAt.toISOString(), referenceType: 'winback', referenceId: r.recipientId });
  }
  if (touches.length) await tx`select private.record_touchpoints(${userId}, ${jsonb(tx, touches)}, ${end})`;
  for (const t of touches.filter((x) => x.type === 'email_click')) {
    const r = sent.find((x) => x.recipientId === t.referenceId);
    if (!r?.coupon || roll(r.email, 'order') >= 0.34) continue;
    const price = 40 + Math.floor(roll(r.email, 'price') * 80);
    const discount = r.incentiveType === 'percentage_discount' ? Math.round(price * (r.incentiveValue ?? 0)) / 100 : (r.incentiveValue ?? 0);
    await tx`select private.apply_order(${userId}, ${jsonb(tx, {
      shopOrderId: `demo-wb-${r.recipientId.slice(0, 8)}`, email: r.email, total: Math.round((price - discount + SHIPPING) * 100) / 100,
      currency: 'USD', orderedAt: new Date(Date.parse(t.occurredAt) + 3600_000).toISOString(),
      lineItems: [{ productId: 'growth-2', quantity: 1, price }], discountCodes: [{ code: r.coupon, amount: discount }], noteAttributes: {},
    })}, ${end})`;
  }
}

/** A stable hex hash of a string (FNV-1a), for deterministic choices in the demo. */
function md5ish(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}

interface ReferralStep {
  at: string;
  n: number;
  kind: 'claim' | 'order' | 'self' | 'existing';
}

/**
 * The program's referrals over its last two months: friends claim a top member's code and most
 * place a first order with the code they were given three days later, a few only claim it, and
 * two attempts are refused (a member's own code, a customer who had bought before).
 */
function referralSteps(now: Date): ReferralStep[] {
  const steps: ReferralStep[] = [];
  for (let n = 1; n <= 24; n++) {
    const claimedAt = new Date(now.getTime() - (60 - 2 * n) * DAY);
    steps.push({ at: claimedAt.toISOString(), n, kind: 'claim' });
    if (n % 4 !== 0) steps.push({ at: new Date(claimedAt.getTime() + 3 * DAY).toISOString(), n, kind: 'order' });
  }
  steps.push({ at: new Date(now.getTime() - 2 * DAY).toISOString(), n: 0, kind: 'self' });
  steps.push({ at: new Date(now.getTime() - 2 * DAY + 3600_000).toISOString(), n: 0, kind: 'existing' });
  return steps;
}

/** One referral step through the real SQL functions, as it happens in the timeline. */
async function referralStep(tx: Tx, userId: string, step: ReferralStep, friendCodes: Map<number, string>): Promise<void> {
  const at = new Date(step.at);
  // The members who refer: the six who have earned most so far.
  const referrers = await tx<{ code: string; email: string }[]>`
    select m.referral_code as code, c.email from public.loyalty_members m
      join public.customers c on c.user_id = m.user_id and c.id = m.customer_id
     where m.user_id = ${userId} order by m.points_earned desc, m.customer_id limit 6`;
  const referrer = referrers[step.n % Math.max(referrers.length, 1)];
  if (!referrer) return;
  const email = `friend${step.n}@demo.test`;
  if (step.kind === 'claim') {
    const [r] = await tx<{ r: { code: string } }[]>`select private.referral_claim(${userId}, ${referrer.code}, ${email}, ${at}) as r`;
    if (r) friendCodes.set(step.n, r.r.code);
    return;
  }
  // As the shop charges it: the lines, less the friend's 10% (or nothing for a code that is not a coupon), plus shipping.
  const price = step.kind === 'order' ? 40 + ((step.n * 37) % 120) : 60;
  const discount = step.kind === 'order' ? Math.round(price * 10) / 100 : 0;
  const code = step.kind === 'order' ? friendCodes.get(step.n) ?? '' : step.kind === 'self' ? referrer.code : (referrers[2]?.code ?? referrer.code);
  const buyer = step.kind === 'order' ? email : step.kind === 'self' ? referrer.email : (referrers[1]?.email ?? referrer.email);
  await tx`select private.apply_order(${userId}, ${jsonb(tx, {
    shopOrderId: `demo-ref-${step.kind}-${step.n}`, email: buyer, total: Math.round((price - discount + 7.5) * 100) / 100, currency: 'USD',
    orderedAt: step.at, lineItems: [{ productId: 'growth-1', quantity: 1, price }],
    discountCodes: [{ code, ...(discount > 0 ? { amount: discount } : {}) }], noteAttributes: {},
  })}, ${at})`;
}

/** A third of the members have a birthday on file; three of them today, who earn their points. */
async function seedBirthdays(sql: Sql, userId: string, now: Date): Promise<void> {
  await sql`
    update public.loyalty_members m
       set birthday = (date '1970-01-01' + (abs(hashtext(m.customer_id::text)) % 14000))::date
     where m.user_id = ${userId} and abs(hashtext(m.customer_id::text)) % 3 = 0`;
  await sql`
    update public.loyalty_members m
       set birthday = make_date(1988, extract(month from ${now}::timestamptz at time zone 'UTC')::int, extract(day from ${now}::timestamptz at time zone 'UTC')::int)
     where m.user_id = ${userId}
       and m.customer_id in (select customer_id from public.loyalty_members where user_id = ${userId} order by customer_id limit 3)`;
  await sql`select private.loyalty_birthdays(${now}, 100000)`;
}
