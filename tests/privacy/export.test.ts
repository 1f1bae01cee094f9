import { beforeAll, describe, expect, it } from 'vitest';
import { GET as exportRoute } from '@/app/api/customers/[id]/export/route';
import { call } from '@/tests/helpers/http';
import { db, withSystem } from '@/lib/db';
import { COLUMNS } from '@/tests/db/personal-data';
import { makeGift } from '@/tests/helpers/gifts';
import { applyOrder, applyRefund } from '@/tests/helpers/journey';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

type Rows = Record<string, unknown>[];
interface ShopperExport {
  email: string;
  customerId: string | null;
  modules: Record<string, Record<string, Rows>>;
}

const exportOf = async (userId: string, email: string) =>
  (await db()<{ e: ShopperExport }[]>`select private.shopper_export(${userId}, ${email}) as e`)[0]?.e as ShopperExport;
const text = (e: ShopperExport) => JSON.stringify(e);
/** Every table's rows of the export, whichever module gave them. */
const tables = (e: ShopperExport): Record<string, Rows> => Object.assign({}, ...Object.values(e.modules));

// Tables that hold a customer id or personal data but are the system's own bookkeeping, not
// something stored about the shopper (a queue entry that points at them until it is processed).
const BOOKKEEPING: Record<string, string> = {
  'private.klaviyo_list_changes': 'a queued list change, gone once synced',
  'private.klaviyo_profile_changes': 'a queued profile sync, gone once sent',
  'private.stage_events': 'a queued stage change for a consumer, gone once taken',
  'private.stage_reviews': 'when the stage machine looks at them again',
};

let m: TestMerchant;
let samId = '';
const SAM = 'sam.shopper@example.test';
const OTHER = 'other.shopper@example.test';

/** One shopper in every module, through the real functions, and another beside them. */
beforeAll(async () => {
  m = await createMerchant('privacy-export');
  const u = m.userId;
  const day = (n: number) => new Date(Date.now() - n * 86_400_000);
  await withSystem(async (tx) => {
    await tx`select private.loyalty_setup(${u})`;
    await tx`insert into public.coupons (user_id, code, discount_type, discount_value) values (${u}, 'SAVE10', 'percentage', 10)`;
  });
  await withSystem((tx) => tx`select private.record_touchpoints(${u}, ${tx.json([
    { email: SAM, type: 'page_view', channel: 'organic', occurredAt: day(30).toISOString(), metadata: { path: '/plants' } },
    { email: SAM, type: 'lead_capture', channel: 'organic', occurredAt: day(29).toISOString() },
    { email: OTHER, type: 'page_view', channel: 'organic', occurredAt: day(30).toISOString() },
  ])}, ${day(29)})`);
  await db()`insert into public.leads (user_id, email, first_name, source) values (${u}, ${SAM}, 'Sam', 'popup')`;
  await applyOrder(u, {
    shopOrderId: 'sam-1', email: SAM, total: 80, orderedAt: day(20), firstName: 'Sam',
    lineItems: [{ productId: 'p-1', quantity: 1, price: 80 }], discountCodes: [{ code: 'SAVE10', amount: 8 }],
    noteAttributes: { gift_recipient_email: 'friend.of.sam@example.test', gift_message: 'For you, from Sam' },
  } as never, day(20));
  await applyRefund(u, 'sam-refund-1', 'sam-1', 10, day(19));
  await applyOrder(u, { shopOrderId: 'other-1', email: OTHER, total: 50, orderedAt: day(20), firstName: 'Otto' } as never, day(20));
  const [sam] = await db()<{ id: string; referralCode: string }[]>`
    select c.id, m.referral_code from public.customers c join public.loyalty_members m on m.user_id = c.user_id and m.customer_id = c.id
     where c.user_id = ${u} and c.email = ${SAM}`;
  samId = sam?.id ?? '';
  await withSystem(async (tx) => {
    await tx`select private.referral_claim(${u}, ${sam?.referralCode ?? ''}, 'pal.of.sam@example.test', ${day(10)})`;
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
    await tx`insert into public.klaviyo_messages (user_id, source, customer_id, metric) values (${u}, 'test', ${samId}, 'Hello Sam')`;
    await tx`select public.log_activity(${u}, 'customer.updated', 'customer', ${samId}, '{"field": "phone"}'::jsonb)`;
  });
  // Sam is also given a gift (from the dashboard), and so is the other shopper.
  await makeGift(u, { recipientEmail: SAM, senderName: 'A friend', message: 'Happy day' });
  await makeGift(u, { recipientEmail: OTHER, senderName: 'A friend' });
});

describe('one shopper\u2019s data, from every module', () => {
  it('holds every row of theirs from every module, found by record or by email, and nothing of anyone else\u2019s', async () => {
    const e = await exportOf(m.userId, `  ${SAM.toUpperCase()} `);
    expect(e).toMatchObject({ email: SAM, customerId: samId });
    expect(Object.keys(e.modules).sort()).toEqual(['coupons', 'gifts', 'journey', 'klaviyo', 'loyalty', 'winback']);
    const t = tables(e);
    const counts = Object.fromEntries(Object.entries(t).map(([k, rows]) => [k, rows.length]));
    expect(counts).toMatchObject({
      customers: 1, orders: 1, order_lines: 1, order_discount_codes: 1, order_refunds: 1, leads: 1, segment_memberships: 1, activity_log: 1,
      coupon_uses: 1, loyalty_members: 1, reward_redemptions: 1, referrals: 1, winback_recipients: 1, gifts: 2,
    });
    expect(counts.touchpoints).toBeGreaterThanOrEqual(3);
    expect(counts.stage_transitions).toBeGreaterThanOrEqual(2);
    expect(counts.points_transactions).toBeGreaterThanOrEqual(2);
    // By record (a message about Sam) and by address (the gift announced to Sam).
    expect(counts.klaviyo_messages).toBe(2);
    expect(t.gifts?.map((g) => g.role).sort()).toEqual(['recipient', 'sender']);
    // What concerns someone else is left out: the friend Sam referred, the sender of a gift to Sam.
    expect(t.referrals?.[0]).toMatchObject({ role: 'referrer', status: 'pending' });
    expect(text(e)).not.toContain('pal.of.sam@example.test');
    expect(t.gifts?.find((g) => g.role === 'recipient')).toMatchObject({ from: 'A friend' });
    expect(t.gifts?.find((g) => g.role === 'recipient')).not.toHaveProperty('sender_email');
    expect(t.gifts?.find((g) => g.role === 'sender')).not.toHaveProperty('claimed_by_customer_id');
    expect(t.coupon_uses?.[0]).toMatchObject({ code: 'SAVE10', customer_email: SAM });
    expect(text(e)).not.toContain(OTHER);
    expect(text(e)).not.toContain('Otto');
    expect(text(e)).not.toContain('search_text');
  });

  it('gives a referred friend their referral without the member who referred them', async () => {
    const t = tables(await exportOf(m.userId, 'pal.of.sam@example.test'));
    expect(t.referrals).toHaveLength(1);
    expect(t.referrals?.[0]).toMatchObject({ role: 'friend', friend_email: 'pal.of.sam@example.test' });
    expect(t.referrals?.[0]).not.toHaveProperty('referrer_id');
    expect(t.referrals?.[0]).not.toHaveProperty('code');
  });

  it('finds a shopper who never became a customer by their email (a gift\u2019s recipient)', async () => {
    const e = await exportOf(m.userId, 'friend.of.sam@example.test');
    expect(e.customerId).toBeNull();
    const t = tables(e);
    expect(t.gifts).toMatchObject([{ role: 'recipient', message: 'For you, from Sam' }]);
    expect(t.klaviyo_messages).toHaveLength(1);
    // The announcement says who it is from as the recipient was told: the buyer's first name.
    expect(t.klaviyo_messages?.[0]?.properties).toMatchObject({ sender_name: 'Sam', sender_first_name: 'Sam' });
    expect(t.klaviyo_messages?.[0]?.properties).not.toHaveProperty('order_id');
    expect(t.customers).toEqual([]);
    expect(JSON.stringify(e)).not.toContain(SAM);
  });

  it('covers every table that holds a customer or personal data, or says why not', async () => {
    const withCustomer = await db()<{ table: string }[]>`
      select distinct n.nspname || '.' || c.relname as table
        from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('public', 'private') and c.relkind in ('r', 'p') and a.attname = 'customer_id' and not a.attisdropped`;
    const holding = new Set([...withCustomer.map((r) => r.table), ...Object.entries(COLUMNS).filter(([, c]) => c.personal.length > 0).map(([t]) => t)]);
    const exported = new Set(Object.keys(tables(await exportOf(m.userId, SAM))).map((t) => `public.${t}`));
    const missing = [...holding].filter((t) => !exported.has(t) && !BOOKKEEPING[t]).sort();
    expect(missing).toEqual([]);
  });

  it('refuses an export without an email and stays inside the merchant', async () => {
    await expect(exportOf(m.userId, '  ')).rejects.toMatchObject({ code: 'HH400' });
    const other = await createMerchant('privacy-export-b');
    const e = await exportOf(other.userId, SAM);
    expect(e.customerId).toBeNull();
    expect(Object.values(tables(e)).every((rows) => rows.length === 0)).toBe(true);
  });
});

describe('the merchant exports a customer\u2019s data from their page', () => {
  it('downloads the same export as a file, records who took it, and gives another merchant nothing', async () => {
    const res = await call<ShopperExport>(exportRoute, `/api/customers/${samId}/export`, { cookie: m.cookie, params: { id: samId } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="customer-${samId}-data.json"`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ email: SAM, customerId: samId });
    expect(Object.keys(tables(res.body))).toEqual(Object.keys(tables(await exportOf(m.userId, SAM))));
    const [logged] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.activity_log where user_id = ${m.userId} and action = 'customer.exported' and entity_id = ${samId}`;
    expect(logged?.n).toBe(1);

    const b = await createMerchant('privacy-export-route-b');
    expect((await call(exportRoute, `/api/customers/${samId}/export`, { cookie: b.cookie, params: { id: samId } })).status).toBe(404);
    expect((await call(exportRoute, `/api/customers/${samId}/export`, { params: { id: samId } })).status).toBe(401);
    expect((await call(exportRoute, '/api/customers/x/export', { cookie: m.cookie, params: { id: 'x' } })).status).toBe(400);
  });
});
