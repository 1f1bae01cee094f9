import { makeWorkerUtils, type WorkerUtils } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATCH as patchRoute } from '@/app/api/customers/[id]/route';
import { POST as eraseRoute } from '@/app/api/customers/[id]/erase/route';
import { cohorts, trends } from '@/lib/analytics/service';
import { cohortsQuery, trendsQuery } from '@/lib/analytics/schemas';
import { listCoupons } from '@/lib/coupons/service';
import { journeyAnalytics } from '@/lib/customers/service';
import { db, withSystem, withTenant } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { claimGift, giftStats } from '@/lib/gifts/service';
import { drainJobs } from '@/lib/jobs/queue';
import { loyaltyDashboard, referralStats } from '@/lib/loyalty/dashboard';
import { updateIntegrations } from '@/lib/settings/integrations';
import { call } from '@/tests/helpers/http';
import { linkFor, makeGift } from '@/tests/helpers/gifts';
import { applyOrder } from '@/tests/helpers/journey';
import { KlaviyoStandIn } from '@/tests/helpers/klaviyo';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { closeRacePools, openRacePools } from '@/tests/helpers/race';
import { exportOf, OTHER, OTHER_TRACES, SAM, SAM_TRACES, SAMS_FRIEND, seedShoppers, type ShopperExport } from '@/tests/helpers/shoppers';

const KEY = 'pk_test_privacy_erase_01';
const url = () => process.env.DATABASE_URL ?? '';
let klaviyo: KlaviyoStandIn;
let utils: WorkerUtils;
/** Run the queue now, whatever its jobs' due times (Klaviyo deletions wait two minutes). */
async function runJobsNow(): Promise<void> {
  const due = await db()<{ id: string }[]>`select id::text from graphile_worker.jobs`;
  if (due.length) await utils.rescheduleJobs(due.map((j) => j.id), { runAt: new Date() });
  await drainJobs(url(), { concurrency: 2, deadlineMs: 15_000 });
}

interface Erasure {
  customerId: string | null;
  modules: Record<string, Record<string, number>>;
}
const erase = async (userId: string, email: string | null, shopCustomerId: string | null = null, orders: string[] = []) =>
  (await db()<{ e: Erasure }[]>`select private.shopper_erase(${userId}, ${email}, ${shopCustomerId}, ${orders}::text[]) as e`)[0]?.e as Erasure;
const changed = (e: Erasure) => Object.values(e.modules).flatMap((t) => Object.values(t)).reduce((a, b) => a + b, 0);

/**
 * Every text, varchar, json, jsonb and array column of every table of ours (and the job
 * queue's), searched for each value: where each one is still found, as `table.column: value`.
 */
async function traces(values: string[]): Promise<string[]> {
  const columns = await db()<{ schema: string; table: string; column: string }[]>`
    select n.nspname as schema, c.relname as table, a.attname as column
      from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      join pg_type t on t.oid = a.atttypid
     where n.nspname in ('public', 'private', 'graphile_worker', '_private_graphile_worker') and c.relkind in ('r', 'p')
       and a.attnum > 0 and not a.attisdropped
       and (t.typname in ('text', 'varchar', 'bpchar', 'json', 'jsonb', 'citext') or t.typcategory = 'A')
     order by 1, 2, 3`;
  const found: string[] = [];
  for (const c of columns) {
    const rows = await db()<{ v: string }[]>`
      select v from unnest(${values}::text[]) v
       where exists (select 1 from ${db()(c.schema)}.${db()(c.table)} x where position(lower(v) in lower(x.${db()(c.column)}::text)) > 0)`;
    for (const r of rows) found.push(`${c.schema}.${c.table}.${c.column}: ${r.v}`);
  }
  return found;
}

const gifts = new Map<string, Record<string, number>>();
/** What the merchant's pages show: the dashboard, trends, cohorts, coupons, loyalty, referrals, gifts. */
async function figures(userId: string) {
  return withTenant(userId, async (tx) => {
    const g = await giftStats(tx, userId);
    gifts.set(userId, g.byStatus);
    const coupons = await listCoupons(tx, userId, { stats: true, limit: 50, offset: 0 });
    return {
      journey: await journeyAnalytics(tx, userId),
      trends: await trends(tx, userId, trendsQuery.parse({ days: 60 })),
      cohorts: await cohorts(tx, userId, cohortsQuery.parse({})),
      coupons: coupons.coupons.map((c) => ({ code: c.code, uses: c.usageCount, given: c.totalDiscountAmount, orders: c.totalOrders })),
      loyalty: await loyaltyDashboard(tx, userId),
      referrals: await referralStats(tx, userId),
      coupons_stats: coupons.stats,
      gifts: { total: g.total, announced: g.announced, valueClaimed: g.valueClaimed },
    };
  });
}

/** The figures without who each row names (an erased customer is shown by their placeholder now). */
const anonymous = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(anonymous)
    : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'email').map(([k, x]) => [k, anonymous(x)]))
    : v;
const withoutTime = (e: ShopperExport) => ({ ...e, exportedAt: null });

let m: TestMerchant;
let samId = '';
let otherId = '';
beforeAll(async () => {
  klaviyo = await new KlaviyoStandIn({ keys: [KEY] }).start();
  process.env.KLAVIYO_API_URL = klaviyo.url;
  reloadEnv();
  m = await createMerchant('privacy-erase');
  await withTenant(m.userId, (tx) => updateIntegrations(tx, m.userId, { klaviyoApiKey: KEY }));
  ({ samId, otherId } = await seedShoppers(m.userId));
  utils = await makeWorkerUtils({ connectionString: url() });
  // Let what the seed queued for Klaviyo go first, so Sam has a profile there to delete.
  await runJobsNow();
});
afterAll(async () => {
  await utils.release();
  await klaviyo.stop();
});

describe('erasing one shopper, everywhere (customers/redact)', () => {
  it('leaves none of their values in any column of any table, keeps the figures, and leaves the other shopper whole', async () => {
    expect(await traces(SAM_TRACES)).not.toEqual([]);
    const before = await figures(m.userId);
    const otherBefore = withoutTime(await exportOf(m.userId, OTHER));

    const e = await erase(m.userId, `  ${SAM.toUpperCase()} `, 'shop-cust-777', ['sam-1']);
    expect(e.customerId).toBe(samId);
    expect(e.modules).toMatchObject({
      journey: { customers: 1, orders: 1, touchpoints: 1, leads: 1, activity_log: 1 },
      coupons: { coupon_uses: 1 },
      loyalty: { loyalty_members: 1, referrals: 0 },
      klaviyo: { klaviyo_deletions: 1 },
      gifts: { gifts: 2 },
    });

    // Nothing of Sam's is left but the request to Klaviyo, which holds the email until sent.
    expect(await traces(SAM_TRACES)).toEqual([`private.klaviyo_deletions.email: ${SAM}`]);
    const otherLeft = await traces(OTHER_TRACES);
    for (const v of OTHER_TRACES) expect(otherLeft.some((t) => t.endsWith(`: ${v}`)), v).toBe(true);
    expect(withoutTime(await exportOf(m.userId, OTHER))).toEqual(otherBefore);

    // The figures are those of before; the gift to Sam, which can no longer reach them, is cancelled.
    const byStatusBefore = gifts.get(m.userId) ?? {};
    const after = await figures(m.userId);
    expect(anonymous(after)).toEqual(anonymous(before));
    expect(gifts.get(m.userId)?.cancelled).toBe((byStatusBefore.cancelled ?? 0) + 1);

    // The record stays, erased: no name, no way to reach them, unsubscribed, but its counters kept.
    const [c] = await db()<Record<string, unknown>[]>`
      select email, first_name, last_name, phone, shopify_customer_id, email_subscribed, erased_at is not null as erased,
             total_orders, lifetime_value::float8 as ltv
        from public.customers where user_id = ${m.userId} and id = ${samId}`;
    expect(c).toEqual({ email: `erased-${samId}@erased.invalid`, firstName: null, lastName: null, phone: null, shopifyCustomerId: null,
      emailSubscribed: false, erased: true, totalOrders: 1, ltv: 70 });
    // The gift Sam's order sent stays the friend's to claim (the friend's address is the friend's), without Sam's name or words.
    const [sent] = await db()<{ recipientEmail: string; message: string | null; senderName: string | null; status: string }[]>`
      select recipient_email, message, sender_name, status from public.gifts where user_id = ${m.userId} and recipient_email = ${SAMS_FRIEND}`;
    expect(sent).toEqual({ recipientEmail: SAMS_FRIEND, message: null, senderName: null, status: 'delivered' });
  });

  it('asks Klaviyo to delete the profile once, then holds the email nowhere', async () => {
    const jobs = await db()<{ id: string }[]>`select id::text from graphile_worker.jobs where task_identifier = 'klaviyo_delete'`;
    expect(jobs).toHaveLength(1);
    await runJobsNow();
    expect(klaviyo.sent('/api/data-privacy-deletion-jobs')).toHaveLength(1);
    expect(klaviyo.account(KEY).deleted).toEqual([SAM]);
    expect(klaviyo.account(KEY).profiles.has(SAM)).toBe(false);
    expect(await traces(SAM_TRACES)).toEqual([]);
    const [d] = await db()<{ status: string; email: string | null }[]>`select status, email from private.klaviyo_deletions where user_id = ${m.userId}`;
    expect(d).toEqual({ status: 'sent', email: null });
  });

  it('changes nothing and asks Klaviyo nothing when the same request comes again', async () => {
    const snapshot = async () => (await db()<{ h: string }[]>`
      select md5(string_agg(t, '|' order by t)) as h from (
        select c::text as t from public.customers c where user_id = ${m.userId}
        union all select o::text from public.orders o where user_id = ${m.userId}
        union all select g::text from public.gifts g where user_id = ${m.userId}
        union all select k::text from public.klaviyo_messages k where user_id = ${m.userId}
        union all select d::text from private.klaviyo_deletions d where user_id = ${m.userId}) x`)[0]?.h;
    const before = await snapshot();
    const again = await erase(m.userId, SAM, 'shop-cust-777', ['sam-1']);
    expect(changed(again), JSON.stringify(again.modules)).toBe(0);
    expect(await snapshot()).toBe(before);
    const [jobs] = await db()<{ n: number }[]>`select count(*)::int as n from graphile_worker.jobs where task_identifier = 'klaviyo_delete'`;
    expect(jobs?.n).toBe(0);
  });

  it('erases a shopper who never was a customer (a gift\u2019s recipient) by their email', async () => {
    const e = await erase(m.userId, SAMS_FRIEND);
    expect(e.customerId).toBeNull();
    expect(await traces([SAMS_FRIEND])).toEqual([`private.klaviyo_deletions.email: ${SAMS_FRIEND}`]);
  });

  it('stays inside the merchant: another merchant\u2019s erasure of the same email changes nothing here', async () => {
    const b = await createMerchant('privacy-erase-b');
    const before = withoutTime(await exportOf(m.userId, OTHER));
    expect(changed(await erase(b.userId, OTHER, null, ['other-1']))).toBe(0);
    expect(withoutTime(await exportOf(m.userId, OTHER))).toEqual(before);
    expect(otherId).not.toBe('');
    await expect(erase(m.userId, '  ')).rejects.toMatchObject({ code: 'HH400' });
  });
});

describe('what an erasure also reaches', () => {
  it('finds the shopper by the shop\'s id when the shop knows them by a newer email', async () => {
    const x = await createMerchant('privacy-erase-moved');
    await applyOrder(x.userId, { shopOrderId: 'mv-1', email: 'old.addr@example.test', total: 30, orderedAt: new Date(), shopCustomerId: 'shop-cust-42', firstName: 'Mo' });
    const e = await erase(x.userId, 'new.addr@example.test', 'shop-cust-42', ['mv-1']);
    expect(e.customerId).not.toBeNull();
    expect(await traces(['old.addr@example.test', 'shop-cust-42'])).toEqual([]);
  });

  it('leaves no trace of a referred friend in the referrer\'s ledger, nor of a gift\'s people in the coupon its claim made', async () => {
    const x = await createMerchant('privacy-erase-reach');
    await withSystem((tx) => tx`select private.loyalty_setup(${x.userId})`);
    await applyOrder(x.userId, { shopOrderId: 'rf-1', email: 'referrer@example.test', total: 40, orderedAt: new Date() });
    const [member] = await db()<{ code: string }[]>`select referral_code as code from public.loyalty_members where user_id = ${x.userId}`;
    await withSystem((tx) => tx`select private.referral_claim(${x.userId}, ${member?.code ?? ''}, 'friend.person@example.test', now())`);
    await applyOrder(x.userId, { shopOrderId: 'rf-2', email: 'friend.person@example.test', total: 60, orderedAt: new Date(),
      discountCodes: [{ code: member?.code ?? '' }] } as never);
    const [converted] = await db()<{ status: string }[]>`select status from public.referrals where user_id = ${x.userId}`;
    expect(converted?.status).toBe('converted');

    const giftId = await makeGift(x.userId, { recipientEmail: 'gina.recipient@example.test', senderName: 'Sandy Sender', value: 20 });
    const code = await linkFor(x.userId, giftId);
    await withSystem((tx) => claimGift(tx, code, 'gina.recipient@example.test'));

    expect(await traces(['friend.person@example.test', 'gina.recipient@example.test'])).not.toEqual([]);
    const before = await db()<{ n: number }[]>`select coalesce(sum(points), 0)::int as n from public.points_transactions where user_id = ${x.userId}`;
    await erase(x.userId, 'friend.person@example.test');
    await erase(x.userId, 'gina.recipient@example.test');
    expect(await traces(['friend.person@example.test', 'gina.recipient@example.test'])).toEqual([]);
    // The ledger's figures did not move; only what a row said.
    expect(await db()<{ n: number }[]>`select coalesce(sum(points), 0)::int as n from public.points_transactions where user_id = ${x.userId}`).toEqual(before);
    // Nothing said to Klaviyo, nor to be said, names them; and an erased record cannot be subscribed again.
    await expect(db()`update public.customers set email_subscribed = true where user_id = ${x.userId} and erased_at is not null`)
      .rejects.toMatchObject({ code: '23514' });
  });
});

describe('an erasure racing an order for the same shopper', () => {
  it('takes the customer first: an order being applied commits first and is erased with the rest', async () => {
    const r = await createMerchant('privacy-erase-race');
    const email = 'racer@example.test';
    await applyOrder(r.userId, { shopOrderId: 'race-0', email, total: 20, orderedAt: new Date() });
    const pools = openRacePools(2);
    try {
      // The order's transaction holds the customer (as apply_order does) while the erasure starts.
      const order = pools.pool.begin(async (tx) => {
        await tx`select private.apply_order(${r.userId}, ${tx.json({ shopOrderId: 'race-1', email, total: 30, orderedAt: new Date().toISOString(), lineItems: [] })}, now())`;
        await new Promise((res) => setTimeout(res, 300));
      });
      await new Promise((res) => setTimeout(res, 100));
      const erasure = pools.pool.begin((tx) => tx`select private.shopper_erase(${r.userId}, ${email})`);
      await Promise.all([order, erasure]);
    } finally {
      await closeRacePools(pools);
    }
    const left = await db()<{ shopOrderId: string }[]>`
      select shop_order_id from public.orders where user_id = ${r.userId} and email = ${email}`;
    expect(left).toEqual([]);
    const [n] = await db()<{ n: number }[]>`select count(*)::int as n from public.orders where user_id = ${r.userId} and email like 'erased-%'`;
    expect(n?.n).toBe(2);
  });
});

describe('the job queue of a merchant with a Klaviyo key', () => {
  it('keeps a refused deletion with its reason and sends it when a key is saved again', async () => {
    const k = await createMerchant('privacy-erase-key');
    // A key Klaviyo refuses (401), as one revoked in Klaviyo would be.
    await withTenant(k.userId, (tx) => updateIntegrations(tx, k.userId, { klaviyoApiKey: 'pk_revoked_key_000000001' }));
    await applyOrder(k.userId, { shopOrderId: 'key-1', email: 'keyed@example.test', total: 20, orderedAt: new Date() });
    await withSystem((tx) => tx`select private.shopper_erase(${k.userId}, 'keyed@example.test')`);
    await runJobsNow();
    const [failed] = await db()<{ status: string; email: string | null; reason: string }[]>`
      select status, email, reason from private.klaviyo_deletions where user_id = ${k.userId}`;
    expect(failed).toMatchObject({ status: 'failed', email: 'keyed@example.test', reason: expect.stringContaining('401') });
    await withTenant(k.userId, (tx) => updateIntegrations(tx, k.userId, { klaviyoApiKey: KEY }));
    await runJobsNow();
    const [sent] = await db()<{ status: string; email: string | null }[]>`select status, email from private.klaviyo_deletions where user_id = ${k.userId}`;
    expect(sent).toEqual({ status: 'sent', email: null });
  });
});

describe('the merchant erases a customer from their page', () => {
  it('erases on confirmation, records who did it, refuses a second time and any edit after, and gives others nothing', async () => {
    const p = await createMerchant('privacy-erase-route');
    await applyOrder(p.userId, { shopOrderId: 'page-1', email: 'paige@example.test', total: 40, orderedAt: new Date(), firstName: 'Paige' });
    const [c] = await db()<{ id: string }[]>`select id from public.customers where user_id = ${p.userId} and email = 'paige@example.test'`;
    const id = c?.id ?? '';
    const path = `/api/customers/${id}/erase`;
    const b = await createMerchant('privacy-erase-route-b');

    // Refused, and nothing changes: no login, another merchant, no confirmation, a field that is not ours to send.
    expect((await call(eraseRoute, path, { body: { confirm: true }, params: { id } })).status).toBe(401);
    expect((await call(eraseRoute, path, { cookie: b.cookie, body: { confirm: true }, params: { id } })).status).toBe(404);
    expect((await call(eraseRoute, path, { cookie: p.cookie, body: {}, params: { id } })).status).toBe(400);
    expect((await call(eraseRoute, path, { cookie: p.cookie, body: { confirm: true, email: 'x@example.test' }, params: { id } })).status).toBe(400);
    expect((await call(eraseRoute, '/api/customers/x/erase', { cookie: p.cookie, body: { confirm: true }, params: { id: 'x' } })).status).toBe(400);
    const [still] = await db()<{ email: string }[]>`select email from public.customers where user_id = ${p.userId} and id = ${id}`;
    expect(still?.email).toBe('paige@example.test');

    const res = await call<{ customerId: string; modules: Record<string, Record<string, number>> }>(eraseRoute, path,
      { cookie: p.cookie, body: { confirm: true }, params: { id } });
    expect(res.status).toBe(200);
    expect(res.body.customerId).toBe(id);
    expect(res.body.modules.journey).toMatchObject({ customers: 1, orders: 1 });
    const [logged] = await db()<{ details: { by: string } }[]>`
      select details from public.activity_log where user_id = ${p.userId} and action = 'customer.erased' and entity_id = ${id}`;
    expect(logged?.details.by).toBe('merchant');
    expect(JSON.stringify(logged)).not.toContain('paige');

    expect((await call(eraseRoute, path, { cookie: p.cookie, body: { confirm: true }, params: { id } })).status).toBe(409);
    const edit = await call(patchRoute, `/api/customers/${id}`, { method: 'PATCH', cookie: p.cookie, body: { firstName: 'Paige' }, params: { id } });
    expect(edit.status).toBe(409);
    // Not by the REST API's column grants either: the table refuses a name on an erased record.
    await expect(db()`update public.customers set first_name = 'Paige' where user_id = ${p.userId} and id = ${id}`)
      .rejects.toMatchObject({ code: '23514' });
  });
});
