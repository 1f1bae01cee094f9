import { beforeAll, describe, expect, it } from 'vitest';
import { GET as exportRoute } from '@/app/api/customers/[id]/export/route';
import { call } from '@/tests/helpers/http';
import { db } from '@/lib/db';
import { EXPORT_TABLES } from '@/lib/privacy/schemas';
import { COLUMNS } from '@/tests/db/personal-data';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { exportOf, OTHER, SAM, SAMS_FRIEND, SAMS_PAL, seedShoppers, type ShopperExport, tables } from '@/tests/helpers/shoppers';

const text = (e: ShopperExport) => JSON.stringify(e);

// Tables that hold a customer id or personal data but are the system's own bookkeeping, not
// something stored about the shopper (a queue entry that points at them until it is processed).
const BOOKKEEPING: Record<string, string> = {
  'private.klaviyo_deletions': 'an erasure\'s request to Klaviyo, made after the data is gone',
  'private.klaviyo_list_changes': 'a queued list change, gone once synced',
  'private.klaviyo_profile_changes': 'a queued profile sync, gone once sent',
  'public.shopper_requests': 'the shop\'s requests about them, recorded without their data',
  'private.segment_changes': 'a queued segment check, gone once the segments job has taken it',
  'private.stage_events': 'a queued stage change for a consumer, gone once taken',
  'private.stage_reviews': 'when the stage machine looks at them again',
};

let m: TestMerchant;
let samId = '';

beforeAll(async () => {
  m = await createMerchant('privacy-export');
  samId = (await seedShoppers(m.userId)).samId;
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
    // The tables the Settings page offers as CSV are those the modules export.
    expect(Object.keys(t).sort()).toEqual([...EXPORT_TABLES].sort());
    expect(counts.touchpoints).toBeGreaterThanOrEqual(3);
    expect(counts.stage_transitions).toBeGreaterThanOrEqual(2);
    expect(counts.points_transactions).toBeGreaterThanOrEqual(2);
    // By record (a message about Sam) and by address (the gift announced to Sam).
    expect(counts.klaviyo_messages).toBe(2);
    expect(t.gifts?.map((g) => g.role).sort()).toEqual(['recipient', 'sender']);
    // What concerns someone else is left out: the friend Sam referred, the sender of a gift to Sam.
    expect(t.referrals?.[0]).toMatchObject({ role: 'referrer', status: 'pending' });
    expect(text(e)).not.toContain(SAMS_PAL);
    expect(t.gifts?.find((g) => g.role === 'recipient')).toMatchObject({ from: 'A friend' });
    expect(t.gifts?.find((g) => g.role === 'recipient')).not.toHaveProperty('sender_email');
    expect(t.gifts?.find((g) => g.role === 'sender')).not.toHaveProperty('claimed_by_customer_id');
    expect(t.coupon_uses?.[0]).toMatchObject({ code: 'SAVE10', customer_email: SAM });
    expect(text(e)).not.toContain(OTHER);
    expect(text(e)).not.toContain('Otto');
    expect(text(e)).not.toContain('search_text');
  });

  it('gives a referred friend their referral without the member who referred them', async () => {
    const t = tables(await exportOf(m.userId, SAMS_PAL));
    expect(t.referrals).toHaveLength(1);
    expect(t.referrals?.[0]).toMatchObject({ role: 'friend', friend_email: SAMS_PAL });
    expect(t.referrals?.[0]).not.toHaveProperty('referrer_id');
    expect(t.referrals?.[0]).not.toHaveProperty('code');
  });

  it('finds a shopper who never became a customer by their email (a gift\u2019s recipient)', async () => {
    const e = await exportOf(m.userId, SAMS_FRIEND);
    expect(e.customerId).toBeNull();
    const t = tables(e);
    expect(t.gifts).toMatchObject([{ role: 'recipient', message: 'For you, from Samwise' }]);
    expect(t.klaviyo_messages).toHaveLength(1);
    // The announcement says who it is from as the recipient was told: the buyer's first name.
    expect(t.klaviyo_messages?.[0]?.properties).toMatchObject({ sender_name: 'Samwise', sender_first_name: 'Samwise' });
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
