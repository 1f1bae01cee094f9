import { beforeAll, describe, expect, it } from 'vitest';
import { GET as analytics } from '@/app/api/customers/analytics/route';
import { GET as journey } from '@/app/api/customers/[id]/journey/route';
import { PATCH as patchCustomer } from '@/app/api/customers/[id]/route';
import { GET as list } from '@/app/api/customers/route';
import type { CustomerList, Journey, JourneyAnalytics } from '@/lib/customers/schemas';
import { CUSTOMER_EXPORT_BATCH } from '@/lib/customers/service';
import { db } from '@/lib/db';
import { call } from '@/tests/helpers/http';
import { applyOrder, DAY, track } from '@/tests/helpers/journey';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

let a: TestMerchant;
let b: TestMerchant;
const now = new Date();
const ago = (days: number) => new Date(now.getTime() - days * DAY);

beforeAll(async () => {
  a = await createMerchant('cust-a');
  b = await createMerchant('cust-b');
  // Emails with characters that break naive filters.
  const emails = ['percent%off@example.test', 'comma,name@example.test', 'paren(x)@example.test', "o'brien@example.test",
    'under_score@example.test', 'plain@example.test'];
  for (const [i, email] of emails.entries()) {
    await applyOrder(a.userId, { shopOrderId: `a-${i}`, email, total: 10 * (i + 1), orderedAt: ago(10 + i) });
  }
  await applyOrder(a.userId, { shopOrderId: 'a-repeat', email: 'plain@example.test', total: 500, orderedAt: ago(5) });
  await track(a.userId, [
    { email: 'lead@example.test', type: 'lead_capture', occurredAt: ago(3) },
    { email: 'visitor@example.test', type: 'page_view', occurredAt: ago(2), collection: 'growth' },
  ]);
  await applyOrder(b.userId, { shopOrderId: 'b-1', email: 'b-only@example.test', total: 99, orderedAt: ago(1) });
  await applyOrder(b.userId, { shopOrderId: 'b-2', email: 'zoe.moreau.1728@example.test', total: 40, orderedAt: ago(1), firstName: 'Zoë' });
  await applyOrder(b.userId, { shopOrderId: 'b-3', email: 'zoe.martin.17@example.test', total: 40, orderedAt: ago(1), firstName: 'Zoé' });
});

const listA = (qs: string, m: TestMerchant = a) => call<CustomerList>(list, `/api/customers${qs}`, { cookie: m.cookie });

describe('GET /api/customers', () => {
  it('lists the merchant’s customers by lifetime value with a total', async () => {
    const res = await listA('');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(8);
    expect(res.body.customers[0]?.email).toBe('plain@example.test');
    expect(res.body.customers.map((c) => c.email)).not.toContain('b-only@example.test');
  });

  it.each([
    ['%', ['percent%off@example.test']],
    [',', ['comma,name@example.test']],
    ['(', ['paren(x)@example.test']],
    ["'", ["o'brien@example.test"]],
    ['_', ['under_score@example.test']],
    ['"', []],
    ['\\', []],
    ['email.ilike.*', []],
  ])('searches for %j literally, with no error', async (search, expected) => {
    const res = await listA(`?search=${encodeURIComponent(search)}`);
    expect(res.status).toBe(200);
    expect(res.body.customers.map((c) => c.email).sort()).toEqual(expected);
  });

  it.each([
    ['zoë', ['zoe.martin.17@example.test', 'zoe.moreau.1728@example.test']],
    ['ZOE', ['zoe.martin.17@example.test', 'zoe.moreau.1728@example.test']],
    ['moreau 1728', ['zoe.moreau.1728@example.test']],
    ['1728   Moreau', ['zoe.moreau.1728@example.test']],
    ['zoé 17', ['zoe.martin.17@example.test', 'zoe.moreau.1728@example.test']],
    ['moreau martin', []],
    // Fullwidth ％ folds to % and must still be a literal character, not a wildcard.
    ['％', []],
    ['＿', []],
  ])('finds %j ignoring accents and case, every word required', async (search, expected) => {
    const res = await listA(`?search=${encodeURIComponent(search)}`, b);
    expect(res.status).toBe(200);
    expect(res.body.customers.map((c) => c.email).sort()).toEqual(expected);
    expect(res.body.total).toBe(expected.length);
    // A page of one counts every match too, and so does a page after the last match.
    const one = await listA(`?search=${encodeURIComponent(search)}&limit=1&sort=email&order=asc`, b);
    expect(one.body.total).toBe(expected.length);
    if (one.body.next) {
      const rest = await listA(`?search=${encodeURIComponent(search)}&limit=5&sort=email&order=asc&after=${one.body.next}`, b);
      expect(rest.body).toMatchObject({ total: expected.length, next: null });
      expect(rest.body.customers).toHaveLength(expected.length - 1);
    }
  });

  it('finds a customer by a name changed after they were first seen', async () => {
    const [c] = await db()<{ id: string }[]>`select id from public.customers where user_id = ${b.userId} and email = 'zoe.martin.17@example.test'`;
    const id = c?.id ?? '';
    await call(patchCustomer, `/api/customers/${id}`, { method: 'PATCH', cookie: b.cookie, params: { id }, body: { lastName: 'Lefèvre' } });
    const res = await listA(`?search=${encodeURIComponent('lefevre')}`, b);
    expect(res.body.customers.map((x) => x.email)).toEqual(['zoe.martin.17@example.test']);
  });

  it('exports far more rows than one page: every row once, in the list order, for each sort both ways (ties and missing purchases across pages)', async () => {
    const big = await createMerchant('cust-export');
    const n = CUSTOMER_EXPORT_BATCH * 2 + 537;
    await db()`
      insert into public.customers (user_id, email, lifetime_value, total_orders, last_purchase_at, created_at)
      select ${big.userId}, 'bulk' || lpad(g::text, 5, '0') || '@example.test', g % 7, g % 3,
             case when g % 3 <> 0 then timestamptz '2026-06-01' + make_interval(days => g % 5) end, timestamptz '2026-01-01' + make_interval(hours => g % 11)
        from generate_series(1, ${n}) g`;
    const columns = { ltv: 'lifetime_value', orders: 'total_orders', created: 'created_at', recent_purchase: 'last_purchase_at', email: 'email' } as const;
    for (const sort of Object.keys(columns) as (keyof typeof columns)[]) {
      for (const order of ['asc', 'desc'] as const) {
        const res = await call<string>(list, `/api/customers?format=csv&sort=${sort}&order=${order}`, { cookie: big.cookie });
        expect(res.status).toBe(200);
        const emails = res.body.trim().split('\n').slice(1).map((l) => l.split(',')[0]);
        const dir = order === 'asc' ? db()`asc` : db()`desc`;
        const nulls = order === 'asc' ? db()`nulls first` : db()`nulls last`;
        const expected = await db()<{ email: string }[]>`
          select email from public.customers where user_id = ${big.userId}
           order by ${db()(columns[sort])} ${dir} ${sort === 'recent_purchase' ? nulls : db()``}${sort === 'email' ? db()`` : db()`, id ${dir}`}`;
        expect({ sort, order, rows: emails.length, unique: new Set(emails).size }).toEqual({ sort, order, rows: n, unique: n });
        expect({ sort, order, same: emails.join() === expected.map((r) => r.email).join() }).toEqual({ sort, order, same: true });
      }
    }
  });

  it('a download whose client stops reading holds no database connection, and the app goes on answering', async () => {
    const slow = await createMerchant('cust-stall');
    await db()`insert into public.customers (user_id, email) select ${slow.userId}, 's' || g || '@example.test' from generate_series(1, ${CUSTOMER_EXPORT_BATCH * 3}) g`;
    const readers = await Promise.all(Array.from({ length: 12 }, async () => {
      const res = await list(new Request('http://localhost:3000/api/customers?format=csv', { headers: { host: 'localhost:3000', cookie: slow.cookie } }), { params: Promise.resolve({}) });
      const reader = res.body?.getReader();
      await reader?.read();
      await reader?.read();
      return reader;
    }));
    // Twelve stalled downloads, more than the pool's connections: none is inside a transaction.
    const [open] = await db()<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null`;
    expect(open?.n).toBe(0);
    const page = await call<CustomerList>(list, '/api/customers', { cookie: a.cookie });
    expect(page.status).toBe(200);
    await Promise.all(readers.map((r) => r?.cancel()));
  });

  it('exports the filtered list as CSV in the list order, one merchant only', async () => {
    const res = await call<string>(list, '/api/customers?format=csv&sort=ltv&order=desc', { cookie: a.cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="customers-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = res.body.trim().split('\n');
    expect(lines[0]).toBe('email,first_name,last_name,stage,total_orders,lifetime_value,average_order_value,primary_collection,last_purchase_at,email_subscribed,created_at');
    expect(lines).toHaveLength(9);
    expect(lines[1]?.startsWith('plain@example.test,')).toBe(true);
    expect(res.body).not.toContain('b-only@example.test');
    const searched = await call<string>(list, `/api/customers?format=csv&search=${encodeURIComponent('zoë')}`, { cookie: b.cookie });
    expect(searched.body.trim().split('\n').slice(1).map((l) => l.split(',')[0]).sort()).toEqual(['zoe.martin.17@example.test', 'zoe.moreau.1728@example.test']);
  });

  it('filters by stage and collection, sorts and paginates', async () => {
    const leads = await listA('?stage=lead');
    expect(leads.body.customers.map((c) => c.email)).toEqual(['lead@example.test']);
    expect(leads.body.total).toBe(1);
    const growth = await listA('?collection=growth');
    expect(growth.body.customers.map((c) => c.email)).toEqual(['visitor@example.test']);
    expect(growth.body.total).toBe(1);
    // The totals come from the rollups: they equal a count of the rows, filter by filter.
    const [counts] = await db()<{ all: number; customers: number; leadGrowth: number }[]>`
      select count(*)::int as all, count(*) filter (where stage = 'customer')::int as customers,
             count(*) filter (where stage = 'lead' and primary_collection = 'growth')::int as lead_growth
        from public.customers where user_id = ${a.userId}`;
    expect((await listA('')).body.total).toBe(counts?.all);
    expect((await listA('?stage=customer')).body.total).toBe(counts?.customers);
    expect((await listA('?stage=lead&collection=growth')).body.total).toBe(counts?.leadGrowth);
  });

  it('pages by cursor: next and previous, the last page, and each end knows it is one', async () => {
    const first = await listA('?sort=email&order=asc&limit=3');
    expect(first.body).toMatchObject({ total: 8, limit: 3, prev: null });
    const second = await listA(`?sort=email&order=asc&limit=3&after=${first.body.next}`);
    const third = await listA(`?sort=email&order=asc&limit=3&after=${second.body.next}`);
    const emails = [first, second, third].flatMap((p) => p.body.customers.map((c) => c.email));
    expect(emails).toHaveLength(8);
    expect(emails).toEqual([...emails].sort());
    expect(third.body.next).toBeNull();
    const last = await listA('?sort=email&order=asc&limit=3&end=last');
    expect(last.body.customers.map((c) => c.email)).toEqual(emails.slice(5));
    expect(last.body.next).toBeNull();
    const back = await listA(`?sort=email&order=asc&limit=3&before=${second.body.prev}`);
    expect(back.body.customers.map((c) => c.email)).toEqual(emails.slice(0, 3));
    expect(back.body.prev).toBeNull();
  });

  it('takes another merchant\'s cursor as a position in one\'s own list only: nothing of theirs comes back', async () => {
    const ofA = await listA('?sort=email&order=asc&limit=2');
    const asB = await listA(`?sort=email&order=asc&limit=50&after=${ofA.body.next}`, b);
    expect(asB.status).toBe(200);
    const idsOf = async (m: TestMerchant) => new Set((await db()<{ id: string }[]>`select id from public.customers where user_id = ${m.userId}`).map((r) => r.id));
    const [mineB, mineA] = [await idsOf(b), await idsOf(a)];
    expect(asB.body.customers.length).toBeGreaterThan(0);
    expect(asB.body.customers.filter((c) => !mineB.has(c.id) || mineA.has(c.id))).toEqual([]);
    expect(asB.body.total).toBe(mineB.size);
  });

  it('answers a cursor whose rows have gone with an empty page and the total, not an error', async () => {
    const m = await createMerchant('cust-gone');
    await db()`insert into public.customers (user_id, email) select ${m.userId}, 'g' || g || '@example.test' from generate_series(1, 6) g`;
    const first = await listA('?sort=email&order=asc&limit=3', m);
    await db()`delete from public.customers where user_id = ${m.userId} and email > ${first.body.customers.at(-1)?.email ?? ''}`;
    const gone = await listA(`?sort=email&order=asc&limit=3&after=${first.body.next}`, m);
    expect(gone.status).toBe(200);
    expect(gone.body).toMatchObject({ customers: [], total: 3, prev: null, next: null });
    // The page the list falls back to (the last) still says there is nothing after it.
    expect((await listA('?sort=email&order=asc&limit=3&end=last', m)).body).toMatchObject({ total: 3, prev: null, next: null });
  });

  it.each([
    ['?limit=101', 'limit'], ['?stage=royalty', 'stage'], ['?sort=random', 'sort'],
    ['?after=not-a-cursor', 'after'], ['?before=%00', 'before'], ['?after=abc&end=last', 'end'], ['?end=first', 'end'],
  ])('answers 400 for %s', async (qs, field) => {
    const res = await listA(qs);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ field });
  });

  it('refuses a cursor of another sort, or one whose value is not the sort\'s type, with a 400', async () => {
    const byEmail = await listA('?sort=email&order=asc&limit=2');
    expect((await listA(`?sort=ltv&after=${byEmail.body.next}`)).status).toBe(400);
    expect((await listA(`?sort=email&order=desc&after=${byEmail.body.next}`)).status).toBe(400);
    const forged = (value: unknown) => Buffer.from(JSON.stringify(['ltv-desc', value, '00000000-0000-4000-8000-000000000000'])).toString('base64url');
    for (const value of ['12.50', '1e999', 'abc', "1); drop table customers; --", null, 12]) {
      const res = await listA(`?after=${forged(value)}`);
      expect({ value, status: res.status }).toEqual({ value, status: 400 });
    }
    expect((await listA(`?after=${forged('1250')}`)).status).toBe(200);
  });
});

describe('GET /api/customers: keyset pages while customers arrive', () => {
  it('walks every sort both ways, forwards and backwards, and lists each customer once while rows are being inserted', async () => {
    const m = await createMerchant('cust-keyset');
    await db()`
      insert into public.customers (user_id, email, lifetime_value, total_orders, last_purchase_at, created_at)
      select ${m.userId}, 'k' || lpad(g::text, 4, '0') || '@example.test', g % 4, g % 3,
             case when g % 4 <> 0 then timestamptz '2026-06-01' + make_interval(days => g % 3) end, timestamptz '2026-01-01' + make_interval(hours => g % 5)
        from generate_series(1, 120) g`;
    const original = new Set((await db()<{ email: string }[]>`select email from public.customers where user_id = ${m.userId}`).map((r) => r.email));
    const columns = { ltv: 'lifetime_value', orders: 'total_orders', created: 'created_at', recent_purchase: 'last_purchase_at', email: 'email' } as const;
    let added = 0;
    // Each page, two customers arrive: one at the very start of every order (it must not push a
    // row already shown onto the next page, as OFFSET would), one at the very end.
    const arrive = async () => {
      added += 1;
      await db()`
        insert into public.customers (user_id, email, lifetime_value, total_orders, last_purchase_at, created_at) values
          (${m.userId}, ${`a${String(added).padStart(4, '0')}@example.test`}, 1000 + ${added}, 100 + ${added}, now() + make_interval(days => ${added}), now() + make_interval(days => ${added})),
          (${m.userId}, ${`~z${String(added).padStart(4, '0')}@example.test`}, 0, 0, null, timestamptz '2000-01-01' - make_interval(days => ${added}))`;
    };
    for (const sort of Object.keys(columns) as (keyof typeof columns)[]) {
      for (const order of ['asc', 'desc'] as const) {
        for (const way of ['forwards', 'backwards'] as const) {
          const seen: string[] = [];
          let qs = way === 'forwards' ? '' : '&end=last';
          let ended = false;
          for (let pages = 0; pages < 40; pages++) {
            const res = await listA(`?sort=${sort}&order=${order}&limit=17${qs}`, m);
            expect(res.status).toBe(200);
            const emails = res.body.customers.map((c) => c.email);
            if (way === 'forwards') seen.push(...emails);
            else seen.unshift(...emails);
            await arrive();
            const cursor = way === 'forwards' ? res.body.next : res.body.prev;
            if (cursor === null) {
              ended = true;
              break;
            }
            qs = `&${way === 'forwards' ? 'after' : 'before'}=${cursor}`;
          }
          const label = `${sort} ${order} ${way}`;
          expect({ label, ended }).toEqual({ label, ended: true });
          expect({ label, repeated: seen.length - new Set(seen).size }).toEqual({ label, repeated: 0 });
          expect({ label, missing: [...original].filter((e) => !seen.includes(e)) }).toEqual({ label, missing: [] });
          // In the list's order, as the database sorts everything now.
          const dir = order === 'asc' ? db()`asc` : db()`desc`;
          const nulls = order === 'asc' ? db()`nulls first` : db()`nulls last`;
          const all = await db()<{ email: string }[]>`
            select email from public.customers where user_id = ${m.userId}
             order by ${db()(columns[sort])} ${dir} ${sort === 'recent_purchase' ? nulls : db()``}${sort === 'email' ? db()`` : db()`, id ${dir}`}`;
          const shown = new Set(seen);
          expect({ label, ordered: all.map((r) => r.email).filter((e) => shown.has(e)).join() === seen.join() }).toEqual({ label, ordered: true });
          // The next walk starts from the same 120 customers.
          await db()`delete from public.customers where user_id = ${m.userId} and email !~ '^k'`;
        }
      }
    }
  });
});

describe('GET /api/customers/[id]/journey', () => {
  it('returns the customer, paginated touchpoints and stage history with reasons', async () => {
    const [c] = await db()<{ id: string }[]>`select id from public.customers where user_id = ${a.userId} and email = 'plain@example.test'`;
    const id = c?.id ?? '';
    const first = await call<Journey>(journey, `/api/customers/${id}/journey?limit=1`, { cookie: a.cookie, params: { id } });
    expect(first.status).toBe(200);
    expect(first.body.customer).toMatchObject({ email: 'plain@example.test', stage: 'vip', totalOrders: 2, lifetimeValue: 560 });
    expect(first.body.touchpoints).toHaveLength(1);
    expect(first.body.touchpoints[0]).toMatchObject({ type: 'purchase', referenceId: 'a-repeat', value: 500 });
    expect(first.body.transitions[0]).toMatchObject({ toStage: 'vip', rule: 'vip_value', triggerType: 'purchase' });
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await call<Journey>(journey, `/api/customers/${id}/journey?limit=1&before=${first.body.nextCursor}`, { cookie: a.cookie, params: { id } });
    expect(second.body.touchpoints[0]).toMatchObject({ referenceId: 'a-5' });
    expect(second.body.nextCursor).toBeNull();
  });

  it('pages through touchpoints of the same millisecond, each exactly once', async () => {
    const [c] = await db()<{ id: string }[]>`select id from public.customers where user_id = ${a.userId} and email = 'lead@example.test'`;
    const id = c?.id ?? '';
    await db()`
      insert into public.touchpoints (user_id, customer_id, type, channel, occurred_at)
      select ${a.userId}, ${id}, 'page_view', 'direct', '2026-01-01T10:00:00.123000Z'::timestamptz + make_interval(secs => g / 1000000.0)
        from generate_series(1, 5) g`;
    const seen: string[] = [];
    let before: string | null = '';
    while (before !== null) {
      const page: { status: number; body: Journey } = await call<Journey>(journey, `/api/customers/${id}/journey?limit=2${before ? `&before=${before}` : ''}`, { cookie: a.cookie, params: { id } });
      seen.push(...page.body.touchpoints.map((t) => t.id));
      before = page.body.nextCursor;
    }
    const [all] = await db()<{ n: number }[]>`select count(*)::int as n from public.touchpoints where user_id = ${a.userId} and customer_id = ${id}`;
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toHaveLength(all?.n ?? -1);
  });

  it("answers 404 for B asking for A's customer, and 400 for a bad id or cursor", async () => {
    const [c] = await db()<{ id: string }[]>`select id from public.customers where user_id = ${a.userId} limit 1`;
    const id = c?.id ?? '';
    expect((await call(journey, `/api/customers/${id}/journey`, { cookie: b.cookie, params: { id } })).status).toBe(404);
    expect((await call(journey, '/api/customers/x/journey', { cookie: a.cookie, params: { id: 'x' } })).status).toBe(400);
    const badCursor = await call(journey, `/api/customers/${id}/journey?before=garbage`, { cookie: a.cookie, params: { id } });
    expect(badCursor).toMatchObject({ status: 400, body: { field: 'before' } });
  });
});

describe('PATCH /api/customers/[id]', () => {
  it('changes names and flags only; stage, counters and tenant in the body are ignored', async () => {
    const [c] = await db()<{ id: string }[]>`select id from public.customers where user_id = ${a.userId} and email = 'lead@example.test'`;
    const id = c?.id ?? '';
    const res = await call<Record<string, unknown>>(patchCustomer, `/api/customers/${id}`, {
      method: 'PATCH', cookie: a.cookie, params: { id },
      body: { firstName: 'Lea', emailSubscribed: false, stage: 'vip', totalOrders: 99, lifetimeValue: 1e6, userId: b.userId },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ firstName: 'Lea', emailSubscribed: false, stage: 'lead', totalOrders: 0, lifetimeValue: 0 });
    expect((await call(patchCustomer, `/api/customers/${id}`, { method: 'PATCH', cookie: a.cookie, params: { id }, body: {} })).status).toBe(400);
    const byB = await call(patchCustomer, `/api/customers/${id}`, { method: 'PATCH', cookie: b.cookie, params: { id }, body: { firstName: 'Hacked' } });
    expect(byB.status).toBe(404);
    const [after] = await db()<{ firstName: string }[]>`select first_name from public.customers where id = ${id}`;
    expect(after?.firstName).toBe('Lea');
  });
});

describe('GET /api/customers/analytics', () => {
  it('computes distribution, funnel and KPIs in SQL, per merchant', async () => {
    const res = await call<JourneyAnalytics>(analytics, '/api/customers/analytics', { cookie: a.cookie });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      totalCustomers: 8,
      conversionFunnel: { visitors: 8, leads: 7, customers: 6, repeat: 1 },
      stageDistribution: { visitor: 1, lead: 1, customer: 5, vip: 1, at_risk: 0 },
      collectionDistribution: { growth: 1 },
      totalRevenue: 710,
      // 710 over all 8 people, and over the 6 who have ordered (118.333.. rounded to cents).
      avgLifetimeValue: 88.75,
      avgLifetimeValuePerBuyer: 118.33,
    });
    const other = await call<JourneyAnalytics>(analytics, '/api/customers/analytics', { cookie: b.cookie });
    expect(other.body).toMatchObject({ totalCustomers: 3, totalRevenue: 179 });
  });
});
