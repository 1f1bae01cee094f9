import { db, withSystem } from '@/lib/db';
import { makeGift } from '@/tests/helpers/gifts';
import { applyOrder, applyRefund } from '@/tests/helpers/journey';

/**
 * A fixed data set for a shopper's export and erasure: Sam in every module (journey, coupons,
 * loyalty and referrals, win-back, the outbox, gifts sent and received), through the real
 * functions, and another shopper beside them.
 */
export const SAM = 'sam.shopper@example.test';
export const OTHER = 'other.shopper@example.test';
/** The gift Sam's order sends, to someone who is not a customer. */
export const SAMS_FRIEND = 'friend.of.sam@example.test';
/** The friend Sam refers. */
export const SAMS_PAL = 'pal.of.sam@example.test';
/** What identifies Sam, wherever it is stored: none of it may survive Sam's erasure. */
export const SAM_TRACES = [SAM, 'Samwise', 'Gamgee', '+44 7700 900123', 'shop-cust-777', 'Mozilla/5.0 (Sam)', '203.0.113.77',
  'For you, from Samwise', 'Happy day, Samwise', '1990-04-06'];
/** What identifies the other shopper: all of it must survive Sam's erasure. */
export const OTHER_TRACES = [OTHER, 'Otto', 'Mozilla/5.0 (Otto)', 'Enjoy, Otto'];

type Rows = Record<string, unknown>[];
export interface ShopperExport {
  email: string;
  customerId: string | null;
  exportedAt: string;
  modules: Record<string, Record<string, Rows>>;
}

export const exportOf = async (userId: string, email: string) =>
  (await db()<{ e: ShopperExport }[]>`select private.shopper_export(${userId}, ${email}) as e`)[0]?.e as ShopperExport;
/** Every table's rows of the export, whichever module gave them. */
export const tables = (e: ShopperExport): Record<string, Rows> => Object.assign({}, ...Object.values(e.modules));

const day = (n: number) => new Date(Date.now() - n * 86_400_000);

export async function seedShoppers(u: string): Promise<{ samId: string; otherId: string }> {
  await withSystem(async (tx) => {
    await tx`select private.loyalty_setup(${u})`;
    await tx`insert into public.coupons (user_id, code, discount_type, discount_value) values (${u}, 'SAVE10', 'percentage', 10)`;
  });
  await withSystem((tx) => tx`select private.record_touchpoints(${u}, ${tx.json([
    { email: SAM, type: 'page_view', channel: 'organic', occurredAt: day(30).toISOString(),
      metadata: { path: '/plants', userAgent: 'Mozilla/5.0 (Sam)', ip: '203.0.113.77' } },
    { email: SAM, type: 'lead_capture', channel: 'organic', occurredAt: day(29).toISOString() },
    { email: OTHER, type: 'page_view', channel: 'organic', occurredAt: day(30).toISOString(), metadata: { userAgent: 'Mozilla/5.0 (Otto)' } },
  ])}, ${day(29)})`);
  await db()`insert into public.leads (user_id, email, first_name, last_name, source, metadata)
             values (${u}, ${SAM}, 'Samwise', 'Gamgee', 'popup', '{"form": "newsletter"}')`;
  await applyOrder(u, {
    shopOrderId: 'sam-1', email: SAM, total: 80, orderedAt: day(20), firstName: 'Samwise', shopCustomerId: 'shop-cust-777',
    lineItems: [{ productId: 'p-1', quantity: 1, price: 80 }], discountCodes: [{ code: 'SAVE10', amount: 8 }],
    noteAttributes: { gift_recipient_email: SAMS_FRIEND, gift_message: 'For you, from Samwise' },
  } as never, day(20));
  await applyRefund(u, 'sam-refund-1', 'sam-1', 10, day(19));
  await applyOrder(u, {
    shopOrderId: 'other-1', email: OTHER, total: 50, orderedAt: day(20), firstName: 'Otto',
    discountCodes: [{ code: 'SAVE10', amount: 5 }],
  } as never, day(20));
  const [sam] = await db()<{ id: string; referralCode: string }[]>`
    select c.id, m.referral_code from public.customers c join public.loyalty_members m on m.user_id = c.user_id and m.customer_id = c.id
     where c.user_id = ${u} and c.email = ${SAM}`;
  const [other] = await db()<{ id: string }[]>`select id from public.customers where user_id = ${u} and email = ${OTHER}`;
  const samId = sam?.id ?? '';
  await db()`update public.customers set last_name = 'Gamgee', phone = '+44 7700 900123' where user_id = ${u} and id = ${samId}`;
  await db()`update public.loyalty_members set birthday = '1990-04-06' where user_id = ${u} and customer_id = ${samId}`;
  await withSystem(async (tx) => {
    await tx`select private.referral_claim(${u}, ${sam?.referralCode ?? ''}, ${SAMS_PAL}, ${day(10)})`;
    const [reward] = await tx<{ id: string }[]>`
      insert into public.loyalty_rewards (user_id, name, points_cost, reward_type, reward_value) values (${u}, '$1 off', 10, 'fixed_discount', 1) returning id`;
    await tx`select private.loyalty_redeem(${u}, ${samId}, ${reward?.id ?? ''}, ${day(9)})`;
    const [segment] = await tx<{ id: string }[]>`
      insert into public.customer_segments (user_id, name, criteria) values (${u}, 'Buyers', '{"min_orders": 1}') returning id`;
    await tx`select public.evaluate_segment(${u}, ${segment?.id ?? ''}, now())`;
    const [campaign] = await tx<{ id: string }[]>`insert into public.winback_campaigns (user_id, name) values (${u}, 'Come back') returning id`;
    await tx`
      insert into public.winback_recipients (user_id, campaign_id, customer_id, arm, status, eligible_at, send_at, enrolled_at)
      values (${u}, ${campaign?.id ?? ''}, ${samId}, 'control', 'control', now(), now(), now())`;
    await tx`insert into public.klaviyo_messages (user_id, source, customer_id, metric, properties)
             values (${u}, 'test', ${samId}, 'Hello', '{"first_name": "Samwise"}')`;
    await tx`select public.log_activity(${u}, 'customer.updated', 'customer', ${samId}, '{"field": "phone", "was": "Samwise Gamgee"}'::jsonb)`;
  });
  // Sam is also given a gift (from the dashboard), and so is the other shopper.
  await makeGift(u, { recipientEmail: SAM, recipientName: 'Samwise', senderName: 'A friend', message: 'Happy day, Samwise' });
  await makeGift(u, { recipientEmail: OTHER, recipientName: 'Otto', senderName: 'A friend', message: 'Enjoy, Otto' });
  return { samId, otherId: other?.id ?? '' };
}
