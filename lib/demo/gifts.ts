import 'server-only';
import type { Sql, Tx } from '@/lib/db';
import { jsonb } from '@/lib/db';
import { claimPath, giftCodeHash, mintGiftCode } from '@/lib/gifts/codes';

const DAY = 24 * 60 * 60 * 1000;
const NAMES = ['Sam Rivera', 'Alex Chen', 'Jo Bauer', 'Kit Osei', 'Dana Wolfe', 'Rae Moreno', 'Tess Iwata', 'Max Duval', 'Lou Park', 'Bea Santos'];
const MESSAGES = [
  'Happy birthday! Something green for your windowsill.',
  'Thank you for everything this year.',
  'For the new flat. Welcome home!',
  'Saw this and thought of you.',
  null,
];

/** What happens to the demo's gifts as the history plays: claims, a cancellation, gifts made from the dashboard. */
export interface GiftStep {
  at: string;
  kind: 'claim' | 'cancel' | 'create';
  /** The gift's order (claim, cancel), or the dashboard gift's recipient index (create). */
  shopOrderId?: string;
  email?: string;
  n?: number;
  order?: Record<string, unknown>;
}

/** The parts of an order the gift steps need; the history's orders carry more. */
export interface GiftableOrder {
  shopOrderId: string;
  orderedAt: string;
  noteAttributes?: Record<string, string>;
}

/**
 * Gifts in the demo's last five months: one order in 25 names a gift recipient (some with a
 * delivery day a few days on), about half the recipients claim a few days after it arrives,
 * one order is cancelled before its gift goes, and the merchant sends three gifts with a value
 * from the dashboard (two claimed). What is older than 90 days and unclaimed has expired.
 */
export function giftSteps(orders: GiftableOrder[], now: Date): GiftStep[] {
  const steps: GiftStep[] = [];
  const recent = orders.filter((o) => Date.parse(o.orderedAt) > now.getTime() - 150 * DAY && Date.parse(o.orderedAt) < now.getTime() - 2 * DAY);
  let n = 0;
  for (const [i, order] of recent.entries()) {
    if (i % 25 !== 7) continue;
    n += 1;
    const name = NAMES[n % NAMES.length] ?? 'Sam Rivera';
    const email = `${name.toLowerCase().replace(' ', '.')}.${n}@demo-giftee.test`;
    const delay = n % 3 === 0 ? 5 : 0;
    const message = MESSAGES[n % MESSAGES.length];
    order.noteAttributes = {
      gift_recipient_email: email, gift_recipient_name: name,
      ...(message ? { gift_message: message } : {}),
      ...(delay ? { gift_delivery_date: new Date(Date.parse(order.orderedAt) + delay * DAY).toISOString().slice(0, 10) } : {}),
    };
    const claimAt = Date.parse(order.orderedAt) + (delay + 2 + (n % 6)) * DAY;
    if (n === 4) steps.push({ at: new Date(Date.parse(order.orderedAt) + DAY).toISOString(), kind: 'cancel', shopOrderId: order.shopOrderId, order: { ...order } });
    else if (n % 2 === 1 && claimAt < now.getTime()) steps.push({ at: new Date(claimAt).toISOString(), kind: 'claim', shopOrderId: order.shopOrderId, email });
  }
  for (const [k, daysAgo] of [40, 25, 9].entries()) {
    const at = now.getTime() - daysAgo * DAY;
    steps.push({ at: new Date(at).toISOString(), kind: 'create', n: k });
    if (k < 2) steps.push({ at: new Date(at + 3 * DAY).toISOString(), kind: 'claim', email: dashboardRecipient(k) });
  }
  return steps;
}

const dashboardRecipient = (k: number) => `thank-you.${k}@demo-giftee.test`;

/** One gift step through the real SQL functions, as it happens in the timeline. */
export async function giftStep(tx: Tx, userId: string, step: GiftStep): Promise<void> {
  const at = new Date(step.at);
  if (step.kind === 'create') {
    const k = step.n ?? 0;
    await tx`select private.create_gift(${userId}, ${jsonb(tx, {
      origin: 'dashboard', recipientEmail: dashboardRecipient(k), recipientName: NAMES[(k + 5) % NAMES.length],
      senderName: 'The Haven team', message: 'Thank you for being one of our first customers.', value: [25, 15, 20][k] ?? 20, expiresInDays: 60,
    })}, ${at})`;
    return;
  }
  if (step.kind === 'cancel') {
    await tx`select private.apply_cancellation(${userId}, ${jsonb(tx, { ...step.order, cancelledAt: step.at })}, ${at})`;
    return;
  }
  // A claim: the recipient followed the link in their email (a code of its own, never shown here).
  const [gift] = step.shopOrderId
    ? await tx<{ id: string; email: string }[]>`
        select id, recipient_email as email from public.gifts where user_id = ${userId} and shop_order_id = ${step.shopOrderId}`
    : await tx<{ id: string; email: string }[]>`
        select id, recipient_email as email from public.gifts where user_id = ${userId} and recipient_email = ${step.email ?? ''}`;
  if (!gift) return;
  const hash = giftCodeHash(mintGiftCode());
  await tx`insert into private.gift_codes (user_id, code_hash, gift_id) values (${userId}, ${hash}, ${gift.id})`;
  await tx`select private.claim_gift(${hash}, ${gift.email}, ${at})`;
}

/**
 * After the history, with no Klaviyo key connected: gifts past their time expire; one gift is
 * announced on a day next week; one waits, held, for a key; and one has a claim link the demo
 * prints, so a visitor can claim it on the public page. Returns that link's path.
 */
export async function seedCurrentGifts(sql: Sql, userId: string, now: Date): Promise<string> {
  await sql`select private.expire_gifts(${now}, 100000)`;
  await sql`select private.create_gift(${userId}, ${sql.json({
    origin: 'dashboard', recipientEmail: 'bea.santos@demo-giftee.test', recipientName: 'Bea Santos', senderName: 'The Haven team',
    message: 'Happy anniversary from all of us!', value: 30, scheduledDeliveryAt: new Date(now.getTime() + 6 * DAY).toISOString(),
  })}, ${now})`;
  await sql`select private.create_gift(${userId}, ${sql.json({
    origin: 'dashboard', recipientEmail: 'kit.osei@demo-giftee.test', recipientName: 'Kit Osei', senderName: 'Nora Quinn', message: 'Get well soon.', value: 15,
  })}, ${now})`;
  const [gift] = await sql<{ id: string }[]>`
    select (private.create_gift(${userId}, ${sql.json({
      origin: 'dashboard', recipientEmail: 'sam.rivera@demo-giftee.test', recipientName: 'Sam Rivera', senderName: 'Ivy Hart',
      message: 'Happy birthday, Sam! Pick something lovely.', value: 25, expiresInDays: 365,
    })}, ${now})).id`;
  const code = mintGiftCode();
  await sql`select private.gift_link(${userId}, ${gift?.id ?? ''}, ${giftCodeHash(code)}, ${now})`;
  // Its announcement would go by email once a key is saved; the link is out already.
  await sql`update public.klaviyo_messages set status = 'cancelled', reason = 'Handed out as a link in the demo'
             where user_id = ${userId} and source = 'gift' and source_id = ${gift?.id ?? ''} and status = 'pending'`;
  return claimPath(code);
}

export const DEMO_GIFT_RECIPIENT = 'sam.rivera@demo-giftee.test';
