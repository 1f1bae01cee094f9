import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATCH as segmentPatch } from '@/app/api/segments/[id]/route';
import { GET as segmentsGet } from '@/app/api/segments/route';
import { db, withSystem, withTenant } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { drainJobs } from '@/lib/jobs/queue';
import { syncSegmentList } from '@/lib/klaviyo/lists';
import type { SegmentList } from '@/lib/segments/schemas';
import { createSegment } from '@/lib/segments/service';
import { updateIntegrations } from '@/lib/settings/integrations';
import { call } from '@/tests/helpers/http';
import { applyOrder } from '@/tests/helpers/journey';
import { busiestSecond, KlaviyoStandIn } from '@/tests/helpers/klaviyo';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

const KEY_A = 'pk_test_lists_a_0123456789';
const KEY_B = 'pk_test_lists_b_0123456789';
let klaviyo: KlaviyoStandIn;
const drain = () => drainJobs(process.env.DATABASE_URL ?? '', { concurrency: 2, deadlineMs: 20_000 });
/** Jobs are due 2 s after the change that queued them (changes batch up): wait, then run them. */
const syncNow = async () => {
  await new Promise((r) => setTimeout(r, 2200));
  await drain();
};

beforeAll(async () => {
  klaviyo = await new KlaviyoStandIn({ keys: [KEY_A, KEY_B] }).start();
  process.env.KLAVIYO_API_URL = klaviyo.url;
  reloadEnv();
});
afterAll(() => klaviyo.stop());

async function merchantWith(key: string | null, buyers: { email: string; orders: number }[]) {
  const m = await createMerchant('lists');
  if (key) await withTenant(m.userId, (tx) => updateIntegrations(tx, m.userId, { klaviyoApiKey: key }));
  let n = 0;
  for (const b of buyers) {
    for (let i = 0; i < b.orders; i++) {
      n += 1;
      await applyOrder(m.userId, { shopOrderId: `${m.userId.slice(0, 6)}-${n}`, email: b.email, total: 30, orderedAt: new Date(Date.now() - n * 3600_000) });
    }
  }
  return m;
}

const segmentOf = (m: TestMerchant, name: string, minOrders: number) =>
  withTenant(m.userId, (tx) => createSegment(tx, m.userId, { name, criteria: { min_orders: minOrders }, isDynamic: true }));
const turnSyncOn = (m: TestMerchant, id: string) =>
  call<{ syncEnabled: boolean }>(segmentPatch, `/api/segments/${id}`, { method: 'PATCH', cookie: m.cookie, params: { id }, body: { syncEnabled: true } });

describe('segments mirrored to Klaviyo lists', () => {
  it('adds the members, then adds and removes the right profiles after re-evaluation; another merchant\'s segment never reaches the list', async () => {
    const a = await merchantWith(KEY_A, [{ email: 'ann@a.test', orders: 2 }, { email: 'bob@a.test', orders: 2 }, { email: 'cy@a.test', orders: 1 }]);
    const b = await merchantWith(KEY_B, [{ email: 'dee@b.test', orders: 2 }]);
    const segA = await segmentOf(a, 'Repeat buyers', 2);
    const segB = await segmentOf(b, 'Repeat buyers', 2);
    expect((await turnSyncOn(a, segA.id)).body).toMatchObject({ syncEnabled: true });
    await turnSyncOn(b, segB.id);
    await syncNow();
    expect(klaviyo.listMembers(KEY_A)).toEqual({ 'Repeat buyers (Haven Hub)': ['ann@a.test', 'bob@a.test'] });
    expect(klaviyo.listMembers(KEY_B)).toEqual({ 'Repeat buyers (Haven Hub)': ['dee@b.test'] });
    const [row] = await db()<{ klaviyoSegmentId: string; lastSyncedAt: string | null; klaviyoSyncedCount: number }[]>`
      select klaviyo_segment_id, last_synced_at, klaviyo_synced_count from public.customer_segments where id = ${segA.id}`;
    expect(row?.klaviyoSegmentId).toMatch(/^[0-9a-f]{6}$/);
    expect(row?.lastSyncedAt).not.toBeNull();
    expect(row?.klaviyoSyncedCount).toBe(2);

    // Cy orders again (joins), Bob's orders are cancelled (leaves): one re-evaluation, one sync.
    await applyOrder(a.userId, { shopOrderId: 'a-cy-2', email: 'cy@a.test', total: 30, orderedAt: new Date() });
    const bobOrders = await db()<{ shopOrderId: string }[]>`
      select o.shop_order_id from public.orders o where o.user_id = ${a.userId} and o.email = 'bob@a.test'`;
    for (const o of bobOrders) {
      await withSystem((tx) => tx`select private.apply_cancellation(${a.userId}, ${tx.json({ shopOrderId: o.shopOrderId, cancelledAt: new Date().toISOString() })})`);
    }
    await withSystem((tx) => tx`select public.evaluate_segment(${a.userId}, ${segA.id})`);
    await syncNow();
    expect(klaviyo.listMembers(KEY_A)).toEqual({ 'Repeat buyers (Haven Hub)': ['ann@a.test', 'cy@a.test'] });
    expect(klaviyo.listMembers(KEY_B)).toEqual({ 'Repeat buyers (Haven Hub)': ['dee@b.test'] });
    // Bob's Klaviyo profile id was looked up by email once, and kept.
    const [bob] = await db()<{ klaviyoProfileId: string | null }[]>`select klaviyo_profile_id from public.customers where user_id = ${a.userId} and email = 'bob@a.test'`;
    expect(bob?.klaviyoProfileId).toMatch(/^01P/);
    // Nothing is left waiting, and no request ever carried B's emails with A's key.
    const [left] = await db()<{ n: number }[]>`select count(*)::int as n from private.klaviyo_list_changes where user_id = ${a.userId}`;
    expect(left?.n).toBe(0);
    expect(klaviyo.requests.filter((r) => r.apiKey === KEY_A && JSON.stringify(r.body ?? '').includes('@b.test'))).toHaveLength(0);
  });

  it('says on the segment that no key is saved, and syncs once one is', async () => {
    const m = await merchantWith(null, [{ email: 'eve@c.test', orders: 1 }]);
    const seg = await segmentOf(m, 'Buyers', 1);
    await turnSyncOn(m, seg.id);
    await syncNow();
    const [s] = await db()<{ klaviyoSyncError: string | null }[]>`select klaviyo_sync_error from public.customer_segments where id = ${seg.id}`;
    expect(s?.klaviyoSyncError).toBe('No Klaviyo API key: the list is updated once one is saved in Settings');
    klaviyo.keys.add('pk_test_lists_c_0123456789');
    await withTenant(m.userId, (tx) => updateIntegrations(tx, m.userId, { klaviyoApiKey: 'pk_test_lists_c_0123456789' }));
    await syncNow();
    expect(klaviyo.listMembers('pk_test_lists_c_0123456789')).toEqual({ 'Buyers (Haven Hub)': ['eve@c.test'] });
    const [after] = await db()<{ klaviyoSyncError: string | null }[]>`select klaviyo_sync_error from public.customer_segments where id = ${seg.id}`;
    expect(after?.klaviyoSyncError).toBeNull();
  });

  it('drops, unsent, a change whose shopper was erased or deleted after it was queued', async () => {
    const key = 'pk_test_lists_e_0123456789';
    klaviyo.keys.add(key);
    const m = await merchantWith(key, [{ email: 'gus@e.test', orders: 1 }, { email: 'hal@e.test', orders: 1 }]);
    const seg = await segmentOf(m, 'Buyers', 1);
    // Queued while an erasure of Hal was under way: the erasure deleted his changes before this
    // one committed (the queue holds no lock on him), and a change of a customer since deleted.
    await db().begin(async (tx) => {
      await tx`update public.customer_segments set sync_enabled = true where user_id = ${m.userId} and id = ${seg.id}`;
      await tx`update public.customers set erased_at = now(), email = 'erased-hal@erased.invalid', first_name = null, last_name = null,
                    phone = null, shopify_customer_id = null, klaviyo_profile_id = null, email_subscribed = false, sms_subscribed = false
                where user_id = ${m.userId} and email = 'hal@e.test'`;
      await tx`insert into private.klaviyo_list_changes (user_id, segment_id, customer_id, op) values (${m.userId}, ${seg.id}, gen_random_uuid(), 'add')`;
    });
    const [queued] = await db()<{ n: number }[]>`select count(*)::int as n from private.klaviyo_list_changes where user_id = ${m.userId}`;
    expect(queued?.n).toBe(3);
    await syncNow();
    expect(klaviyo.listMembers(key)).toEqual({ 'Buyers (Haven Hub)': ['gus@e.test'] });
    expect(klaviyo.requests.filter((r) => r.apiKey === key && JSON.stringify(r.body ?? '').includes('erased'))).toHaveLength(0);
    const [left] = await db()<{ n: number }[]>`select count(*)::int as n from private.klaviyo_list_changes where user_id = ${m.userId}`;
    expect(left?.n).toBe(0);
  });

  it('queues nothing for segments without sync', async () => {
    const m = await merchantWith(KEY_A, [{ email: 'fay@d.test', orders: 1 }]);
    await segmentOf(m, 'Quiet', 1);
    const [n] = await db()<{ n: number }[]>`select count(*)::int as n from private.klaviyo_list_changes where user_id = ${m.userId}`;
    expect(n?.n).toBe(0);
  });
});

describe('a segment larger than a batch, mirrored to Klaviyo', () => {
  const MEMBERS = 10_500;

  /** MEMBERS customers with two orders each (made in SQL: the orders themselves are not the point). */
  async function bigSegment(key: string) {
    klaviyo.keys.add(key);
    const m = await merchantWith(key, []);
    await db()`
      insert into public.customers (user_id, email, total_orders, lifetime_value, stage)
      select ${m.userId}, 'big' || g || '@scale.test', 2, 60, 'repeat' from generate_series(1, ${MEMBERS}) g`;
    const seg = await segmentOf(m, 'Big repeat buyers', 2);
    expect(seg.customerCount).toBe(MEMBERS);
    await turnSyncOn(m, seg.id);
    return { m, seg, payload: { u: m.userId, s: seg.id } };
  }
  const progressOf = async (m: TestMerchant, id: string) => {
    const res = await call<SegmentList>(segmentsGet, '/api/segments', { cookie: m.cookie });
    const s = res.body.segments.find((x) => x.id === id);
    return { done: s?.klaviyoSyncDone, left: s?.klaviyoSyncLeft, synced: s?.klaviyoSyncedCount };
  };
  const imports = (key: string) => klaviyo.sent('/api/profile-bulk-import-jobs').filter((r) => r.apiKey === key)
    .map((r) => (r.body as { data: { attributes: { profiles: { data: unknown[] } } } }).data.attributes.profiles.data.length);

  it('sends 10,000 a batch, shows how far it has come, and takes the members off again under Klaviyo\'s limits', async () => {
    const KEY = 'pk_test_lists_scale_a_0123456789';
    const { m, seg, payload } = await bigSegment(KEY);
    const agains: number[] = [];
    // One batch, as a run that stops after it: the segment says how far the list has come.
    await syncSegmentList(payload, async (ms) => { agains.push(ms); }, { runMs: 0 });
    expect(agains).toEqual([0]);
    expect(await progressOf(m, seg.id)).toMatchObject({ done: 10_000, left: MEMBERS - 10_000 });
    expect(Object.values(klaviyo.listMembers(KEY))[0]).toHaveLength(10_000);

    await syncNow();
    expect(imports(KEY)).toEqual([10_000, MEMBERS - 10_000]);
    expect(Object.values(klaviyo.listMembers(KEY))[0]).toHaveLength(MEMBERS);
    expect(await progressOf(m, seg.id)).toEqual({ done: MEMBERS, left: 0, synced: MEMBERS });

    // Everyone leaves: their Klaviyo ids are looked up 100 at a time and taken off 1,000 at a
    // time, each endpoint paced under its documented limits (Get Profiles 75 a second, Remove
    // Profiles from List 10), so Klaviyo never has to refuse a request.
    const limitedBefore = klaviyo.rateLimited;
    await db()`update public.customers set total_orders = 1, lifetime_value = 30 where user_id = ${m.userId}`;
    await withSystem((tx) => tx`select public.evaluate_segment(${m.userId}, ${seg.id})`);
    await syncNow();
    expect(Object.values(klaviyo.listMembers(KEY))[0]).toEqual([]);
    const mine = klaviyo.requests.filter((r) => r.apiKey === KEY);
    expect(mine.filter((r) => r.path === '/api/profiles')).toHaveLength(Math.ceil(MEMBERS / 100));
    expect(mine.filter((r) => r.method === 'DELETE')).toHaveLength(Math.ceil(MEMBERS / 1000));
    expect(klaviyo.rateLimited - limitedBefore).toBe(0);
    expect(busiestSecond(mine, 'GET /api/profiles')).toBeLessThanOrEqual(75);
    expect(busiestSecond(mine, 'DELETE /api/lists/:id/relationships/profiles')).toBeLessThanOrEqual(10);
    expect(await progressOf(m, seg.id)).toEqual({ done: MEMBERS, left: 0, synced: 0 });
    const [left] = await db()<{ n: number }[]>`select count(*)::int as n from private.klaviyo_list_changes where user_id = ${m.userId}`;
    expect(left?.n).toBe(0);
  }, 90_000);

  it('resumes after Klaviyo fails mid-way: the batch it had taken is not sent again', async () => {
    const KEY = 'pk_test_lists_scale_b_0123456789';
    const { m, seg, payload } = await bigSegment(KEY);
    await syncSegmentList(payload, async () => {}, { runMs: 0 });
    klaviyo.script.push({ status: 503 });
    await expect(syncSegmentList(payload, async () => {}, { runMs: 0 })).rejects.toThrow(/503/);
    expect(await progressOf(m, seg.id)).toMatchObject({ done: 10_000, left: MEMBERS - 10_000 });
    await syncNow();
    // The failed import is the only one sent twice; the list holds everyone once.
    expect(imports(KEY)).toEqual([10_000, MEMBERS - 10_000, MEMBERS - 10_000]);
    expect(Object.values(klaviyo.listMembers(KEY))[0]).toHaveLength(MEMBERS);
    expect(await progressOf(m, seg.id)).toEqual({ done: MEMBERS, left: 0, synced: MEMBERS });
  }, 90_000);
  it('turning sync off starts the figures again: turned back on, the round counts only its own queue', async () => {
    const KEY = 'pk_test_lists_scale_c_0123456789';
    const { m, seg, payload } = await bigSegment(KEY);
    await syncSegmentList(payload, async () => {}, { runMs: 0 });
    expect(await progressOf(m, seg.id)).toMatchObject({ done: 10_000, left: MEMBERS - 10_000 });
    const off = await call<{ syncEnabled: boolean }>(segmentPatch, `/api/segments/${seg.id}`, { method: 'PATCH', cookie: m.cookie, params: { id: seg.id }, body: { syncEnabled: false } });
    expect(off.body.syncEnabled).toBe(false);
    expect(await progressOf(m, seg.id)).toMatchObject({ done: 0, left: 0 });
    await turnSyncOn(m, seg.id);
    await syncSegmentList(payload, async () => {}, { runMs: 0 });
    expect(await progressOf(m, seg.id)).toMatchObject({ done: 10_000, left: MEMBERS - 10_000 });
  }, 90_000);
});

describe('one segment\'s list, run by run', () => {
  it('keeps a change that committed while its batch was at Klaviyo, even with a smaller id than the batch\'s last', async () => {
    const KEY = 'pk_test_lists_late_0123456789';
    klaviyo.keys.add(KEY);
    const m = await merchantWith(KEY, [{ email: 'ann@late.test', orders: 2 }, { email: 'bob@late.test', orders: 2 }, { email: 'cy@late.test', orders: 2 }]);
    const seg = await segmentOf(m, 'Late', 2);
    await turnSyncOn(m, seg.id);
    // Bob's change is written by a transaction that commits late: its id (taken when written)
    // sits between the others, and it lands while the batch without it is at Klaviyo.
    const [bob] = await db()<{ id: string; customerId: string }[]>`
      delete from private.klaviyo_list_changes k using public.customers c
       where k.user_id = ${m.userId} and c.user_id = k.user_id and c.id = k.customer_id and c.email = 'bob@late.test'
      returning k.id::text, k.customer_id`;
    klaviyo.onRequest = async (r) => {
      if (r.path !== '/api/profile-bulk-import-jobs') return;
      klaviyo.onRequest = null;
      await db()`
        insert into private.klaviyo_list_changes (id, user_id, segment_id, customer_id, op) overriding system value
        values (${bob?.id ?? '0'}, ${m.userId}, ${seg.id}, ${bob?.customerId ?? ''}, 'add')`;
    };
    const payload = { u: m.userId, s: seg.id };
    await syncSegmentList(payload, async () => {}, { runMs: 0 });
    expect(Object.values(klaviyo.listMembers(KEY))[0]).toEqual(['ann@late.test', 'cy@late.test']);
    const [waiting] = await db()<{ n: number }[]>`select count(*)::int as n from private.klaviyo_list_changes where user_id = ${m.userId}`;
    expect(waiting?.n).toBe(1);
    await syncSegmentList(payload, async () => {}, { runMs: 0 });
    expect(Object.values(klaviyo.listMembers(KEY))[0]).toEqual(['ann@late.test', 'bob@late.test', 'cy@late.test']);
  });

  it('stops among a batch\'s lookups when its time is up, keeps the ids it found, and the next run goes on from there', async () => {
    const KEY = 'pk_test_lists_time_0123456789';
    klaviyo.keys.add(KEY);
    const m = await merchantWith(KEY, []);
    await db()`
      insert into public.customers (user_id, email, total_orders, lifetime_value, stage)
      select ${m.userId}, 'time' || g || '@scale.test', 2, 60, 'repeat' from generate_series(1, 250) g`;
    const seg = await segmentOf(m, 'Timed', 2);
    await turnSyncOn(m, seg.id);
    const payload = { u: m.userId, s: seg.id };
    await syncSegmentList(payload, async () => {});
    expect(Object.values(klaviyo.listMembers(KEY))[0]).toHaveLength(250);
    await db()`update public.customers set total_orders = 1, lifetime_value = 30 where user_id = ${m.userId}`;
    await withSystem((tx) => tx`select public.evaluate_segment(${m.userId}, ${seg.id})`);
    const lookups = () => klaviyo.requests.filter((r) => r.apiKey === KEY && r.path === '/api/profiles').length;
    const known = async () => (await db()<{ n: number }[]>`
      select count(*)::int as n from public.customers where user_id = ${m.userId} and klaviyo_profile_id is not null`)[0]?.n;
    const agains: number[] = [];
    // A run with no time left sends one request, then hands on.
    await syncSegmentList(payload, async (ms) => { agains.push(ms); }, { runMs: 0 });
    expect({ agains, lookups: lookups(), known: await known() }).toEqual({ agains: [0], lookups: 1, known: 100 });
    await syncSegmentList(payload, async (ms) => { agains.push(ms); }, { runMs: 0 });
    expect({ agains, lookups: lookups(), known: await known() }).toEqual({ agains: [0, 0], lookups: 2, known: 200 });
    await syncSegmentList(payload, async () => {});
    expect(lookups()).toBe(3);
    expect(Object.values(klaviyo.listMembers(KEY))[0]).toEqual([]);
  });

  it('puts a segment\'s runs in one queue of its own, which the job queue runs one job at a time', async () => {
    const m = await merchantWith(KEY_A, [{ email: 'q@queue.test', orders: 2 }]);
    const seg = await segmentOf(m, 'Queued', 2);
    await turnSyncOn(m, seg.id);
    const jobs = await db()<{ queueName: string | null; key: string | null }[]>`
      select queue_name, key from graphile_worker.jobs where key = ${`klaviyo-list:${seg.id}`}`;
    expect(jobs).toEqual([{ queueName: `klaviyo-list:${seg.id}`, key: `klaviyo-list:${seg.id}` }]);
  });
});
