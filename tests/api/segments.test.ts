import { beforeAll, describe, expect, it } from 'vitest';
import { GET as cron } from '@/app/api/cron/[job]/route';
import { POST as evaluate } from '@/app/api/segments/[id]/evaluate/route';
import { GET as members } from '@/app/api/segments/[id]/members/route';
import { DELETE as del, GET as getOne, PATCH as patch } from '@/app/api/segments/[id]/route';
import { POST as preview } from '@/app/api/segments/preview/route';
import { GET as list, POST as create } from '@/app/api/segments/route';
import { db, withSystem, withTenant } from '@/lib/db';
import type { Segment, SegmentMembers } from '@/lib/segments/schemas';
import { call } from '@/tests/helpers/http';
import { applyOrder, DAY, track } from '@/tests/helpers/journey';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

let a: TestMerchant;
let b: TestMerchant;
const now = new Date();
const ago = (days: number) => new Date(now.getTime() - days * DAY);

beforeAll(async () => {
  a = await createMerchant('seg-a');
  b = await createMerchant('seg-b');
  for (let i = 0; i < 30; i++) {
    const email = `s${i}@example.test`;
    await applyOrder(a.userId, { shopOrderId: `s-${i}`, email, total: 20 * (i + 1), orderedAt: ago(i * 7) }, now);
    if (i % 3 === 0) await applyOrder(a.userId, { shopOrderId: `s-${i}-b`, email, total: 15, orderedAt: ago(i * 7) }, now);
  }
  await track(a.userId, [{ email: 'lead-only@example.test', type: 'lead_capture', occurredAt: ago(1) }], now);
  await applyOrder(b.userId, { shopOrderId: 'b-1', email: 'b@example.test', total: 900, orderedAt: ago(1) }, now);
});

const createSeg = (m: TestMerchant, body: unknown) => call<Segment & { field?: string; error?: string }>(create, '/api/segments', { cookie: m.cookie, body });

/** The criteria as a plain SQL query, written independently of segment_member_ids. */
async function plainQuery(userId: string, minOrders: number, minDays: number, maxDays: number, stages: string[]) {
  const rows = await db()<{ id: string }[]>`
    select id from public.customers
     where user_id = ${userId} and total_orders >= ${minOrders} and stage = any(${stages})
       and last_purchase_at <= now() - ${`${minDays} days`}::interval
       and last_purchase_at >= now() - ${`${maxDays} days`}::interval`;
  return rows.map((r) => r.id).sort();
}

async function memberIds(segmentId: string) {
  const rows = await db()<{ customerId: string }[]>`
    select customer_id from public.segment_memberships where segment_id = ${segmentId} and removed_at is null`;
  return rows.map((r) => r.customerId).sort();
}

describe('segments', () => {
  it('membership after create equals a plain SQL query of the criteria, days since purchase included', async () => {
    const criteria = { min_orders: 1, min_days_since_purchase: 14, max_days_since_purchase: 120, stages: ['customer', 'repeat', 'at_risk'] };
    const res = await createSeg(a, { name: 'Lapsing', criteria });
    expect(res.status).toBe(201);
    const expected = await plainQuery(a.userId, 1, 14, 120, criteria.stages);
    expect(expected.length).toBeGreaterThan(5);
    expect(await memberIds(res.body.id)).toEqual(expected);
    expect(res.body.customerCount).toBe(expected.length);
    const live = await call<{ count: number }>(preview, '/api/segments/preview', { cookie: a.cookie, body: { criteria } });
    expect(live.body.count).toBe(expected.length);
  });

  it('re-adds a removed member who matches again, without a unique violation', async () => {
    const seg = await createSeg(a, { name: 'Big spenders', criteria: { min_ltv: 500 } });
    const id = seg.body.id;
    const before = await memberIds(id);
    const [target] = await db()<{ id: string; lifetimeValue: number }[]>`
      select id, lifetime_value from public.customers where id = any(${before}) order by id limit 1`;
    await withSystem((tx) => tx`update public.customers set lifetime_value = 1 where id = ${target?.id ?? ''}`);
    const out = await call<{ added: number; removed: number; total: number }>(evaluate, `/api/segments/${id}/evaluate`, { method: 'POST', cookie: a.cookie, params: { id } });
    expect(out.body).toMatchObject({ added: 0, removed: 1, total: before.length - 1 });
    await withSystem((tx) => tx`update public.customers set lifetime_value = ${target?.lifetimeValue ?? '0'} where id = ${target?.id ?? ''}`);
    const back = await call<{ added: number; removed: number; total: number }>(evaluate, `/api/segments/${id}/evaluate`, { method: 'POST', cookie: a.cookie, params: { id } });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ added: 1, removed: 0, total: before.length });
    expect(await memberIds(id)).toEqual(before);
  });

  it('lists, reads, patches (re-evaluating) and deletes; members page and CSV', async () => {
    const seg = await createSeg(a, { name: 'Repeaters', description: 'two or more', criteria: { min_orders: 2 } });
    const id = seg.body.id;
    expect((await call<{ segments: Segment[] }>(list, '/api/segments', { cookie: a.cookie })).body.segments.map((s) => s.id)).toContain(id);
    expect((await call<Segment>(getOne, `/api/segments/${id}`, { cookie: a.cookie, params: { id } })).body.name).toBe('Repeaters');
    const page = await call<SegmentMembers>(members, `/api/segments/${id}/members?limit=2`, { cookie: a.cookie, params: { id } });
    expect(page.body.total).toBe(10);
    expect(page.body.members).toHaveLength(2);
    expect(page.body.prev).toBeNull();
    // Every member once by cursor, newest first; the last page is the same rows read from the end.
    const seen = [...page.body.members];
    for (let next = page.body.next; next !== null;) {
      const more = await call<SegmentMembers>(members, `/api/segments/${id}/members?limit=2&after=${next}`, { cookie: a.cookie, params: { id } });
      seen.push(...more.body.members);
      next = more.body.next;
    }
    expect(new Set(seen.map((m) => m.id)).size).toBe(10);
    expect(seen.map((m) => m.addedAt)).toEqual([...seen.map((m) => m.addedAt)].sort().reverse());
    const last = await call<SegmentMembers>(members, `/api/segments/${id}/members?limit=2&end=last`, { cookie: a.cookie, params: { id } });
    expect(last.body.members.map((m) => m.id)).toEqual(seen.slice(-2).map((m) => m.id));
    expect(last.body).toMatchObject({ next: null });
    const back = await call<SegmentMembers>(members, `/api/segments/${id}/members?limit=2&before=${last.body.prev}`, { cookie: a.cookie, params: { id } });
    expect(back.body.members.map((m) => m.id)).toEqual(seen.slice(-4, -2).map((m) => m.id));
    expect((await call(members, `/api/segments/${id}/members?after=${page.body.next}&end=last`, { cookie: a.cookie, params: { id } })).status).toBe(400);
    const csv = await call<string>(members, `/api/segments/${id}/members?format=csv`, { cookie: a.cookie, params: { id } });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.body.split('\n')[0]).toBe('email,first_name,last_name,stage,total_orders,lifetime_value,last_purchase_at,added_at');
    expect(csv.body.trim().split('\n')).toHaveLength(11);

    const patched = await call<Segment>(patch, `/api/segments/${id}`, { method: 'PATCH', cookie: a.cookie, params: { id }, body: { criteria: { min_orders: 2, min_ltv: 400 } } });
    expect(patched.body.customerCount).toBeLessThan(10);
    expect((await call(del, `/api/segments/${id}`, { method: 'DELETE', cookie: a.cookie, params: { id } })).status).toBe(204);
    expect((await call(getOne, `/api/segments/${id}`, { cookie: a.cookie, params: { id } })).status).toBe(404);
  });

  it.each([
    [{ name: '', criteria: {} }, 'name'],
    [{ name: 'x', criteria: { stages: ['royalty'] } }, 'criteria.stages.0'],
    [{ name: 'x', criteria: { min_ltv: 10, max_ltv: 5 } }, 'criteria.min_ltv'],
    [{ name: 'x', criteria: { min_days_since_purchase: -1 } }, 'criteria.min_days_since_purchase'],
    [{ name: 'x', criteria: { unknown_rule: 1 } }, 'criteria'],
  ])('rejects %j with 400 naming the field', async (body, field) => {
    const res = await createSeg(a, body);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });

  it('ignores ids, tenant and counters in the body', async () => {
    const res = await createSeg(a, { name: 'Sneaky', criteria: { min_orders: 99 }, id: '00000000-0000-4000-8000-000000000000', userId: b.userId, customerCount: 5000 });
    expect(res.status).toBe(201);
    expect(res.body.id).not.toBe('00000000-0000-4000-8000-000000000000');
    expect(res.body.customerCount).toBe(0);
    const [row] = await db()<{ userId: string }[]>`select user_id from public.customer_segments where id = ${res.body.id}`;
    expect(row?.userId).toBe(a.userId);
  });

  it("keeps tenants apart: B cannot read, evaluate, export, change or delete A's segment", async () => {
    const seg = await createSeg(a, { name: 'Private', criteria: {} });
    const id = seg.body.id;
    const opts = { cookie: b.cookie, params: { id } };
    expect((await call(getOne, `/api/segments/${id}`, opts)).status).toBe(404);
    expect((await call(evaluate, `/api/segments/${id}/evaluate`, { ...opts, method: 'POST' })).status).toBe(404);
    expect((await call(members, `/api/segments/${id}/members?format=csv`, opts)).status).toBe(404);
    expect((await call(patch, `/api/segments/${id}`, { ...opts, method: 'PATCH', body: { name: 'Mine' } })).status).toBe(404);
    expect((await call(del, `/api/segments/${id}`, { ...opts, method: 'DELETE' })).status).toBe(404);
    expect((await call<{ segments: Segment[] }>(list, '/api/segments', { cookie: b.cookie })).body.segments).toEqual([]);
    // B's preview counts only B's customers, whatever the criteria.
    expect((await call<{ count: number }>(preview, '/api/segments/preview', { cookie: b.cookie, body: { criteria: {} } })).body.count).toBe(1);
    // Calling the SQL function directly as B (Supabase's REST surface) is refused: only the server counts.
    const direct = await withTenant(b.userId, (tx) => tx`select count(*)::int as n from public.segment_member_ids(${a.userId}, '{}'::jsonb)`)
      .then(() => 'ran', (e: { code?: string }) => e.code);
    expect(direct).toBe('42501');
    expect((await call<Segment>(getOne, `/api/segments/${id}`, { cookie: a.cookie, params: { id } })).body.name).toBe('Private');
  });

  it('the segments and stages cron jobs run over every merchant, bounded', async () => {
    const auth = { authorization: `Bearer ${process.env.CRON_SECRET}` };
    const seg = await call(cron, '/api/cron/segments', { params: { job: 'segments' }, headers: auth });
    expect(seg).toMatchObject({ status: 200, body: { job: 'segments', steps: expect.any(Number), behind: 0 } });
    const stages = await call(cron, '/api/cron/stages', { params: { job: 'stages' }, headers: auth });
    expect(stages).toMatchObject({ status: 200, body: { job: 'stages', checked: expect.any(Number), changed: expect.any(Number) } });
  });

  it('refuses malformed criteria written straight to the table (the API is not the only door on Supabase)', async () => {
    const code = await withTenant(b.userId, (tx) => tx`
      insert into public.customer_segments (user_id, name, criteria) values (${b.userId}, 'Broken', '{"min_orders": "x"}')`)
      .then(() => 'inserted', (e: { code?: string }) => e.code);
    expect(code).toBe('23514');
  });
});
