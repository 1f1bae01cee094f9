import 'server-only';
import type { Sql } from '@/lib/db';
import { jsonb } from '@/lib/db';

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
export async function seedHistory(sql: Sql, userId: string, options: { customers: number; months: number; now?: Date }): Promise<void> {
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
  type Item = { at: string; event?: DemoEvent; order?: DemoOrder };
  const timeline: Item[] = [
    ...events.map((e) => ({ at: e.occurredAt, event: e })),
    ...orders.map((o) => ({ at: o.orderedAt, order: o })),
  ].sort((x, y) => x.at.localeCompare(y.at));
  const days = new Map<number, Item[]>();
  for (const item of timeline) {
    const day = Math.floor(Date.parse(item.at) / DAY);
    days.set(day, [...(days.get(day) ?? []), item]);
  }
  for (const [day, items] of days) {
    await sql.begin(async (tx) => {
      await tx`select private.evaluate_stages(${userId}, ${new Date(day * DAY)}, 100000)`;
      let pending: DemoEvent[] = [];
      const flush = async () => {
        const last = pending[pending.length - 1];
        if (!last) return;
        await tx`select private.record_touchpoints(${userId}, ${jsonb(tx, pending)}, ${new Date(last.occurredAt)})`;
        pending = [];
      };
      for (const item of items) {
        if (item.event) pending.push(item.event);
        if (item.order) {
          await flush();
          await tx`select private.apply_order(${userId}, ${jsonb(tx, item.order)}, ${new Date(item.order.orderedAt)})`;
        }
      }
      await flush();
    });
  }
  await sql`select private.evaluate_stages(${userId}, ${now}, 100000)`;
  // What the rollups cron does every few minutes: fold the analytics deltas into the totals.
  await sql`select private.compact_customer_rollups(1000000), private.compact_trends(1000000)`;
  await sql`
    insert into public.customer_segments (user_id, name, description, criteria)
    values (${userId}, 'VIPs', 'High-value repeat customers', '{"stages": ["vip"]}'),
           (${userId}, 'Lapsing buyers', 'Bought before, quiet for 60 to 180 days', '{"min_orders": 1, "min_days_since_purchase": 60, "max_days_since_purchase": 180}'),
           (${userId}, 'Growth fans', 'Prefer the growth collection', '{"collections": ["growth"]}')`;
  await sql`select public.evaluate_segment(user_id, id, ${now}) from public.customer_segments where user_id = ${userId}`;
}
