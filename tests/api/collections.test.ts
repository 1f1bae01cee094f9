import { beforeAll, describe, expect, it } from 'vitest';
import { DELETE as deleteOne, PATCH as patchOne } from '@/app/api/collections/[slug]/route';
import { GET as getProducts, PUT as putProducts } from '@/app/api/collections/products/route';
import { GET as list, POST as create } from '@/app/api/collections/route';
import { POST as createCoupon } from '@/app/api/coupons/route';
import { GET as analytics } from '@/app/api/customers/analytics/route';
import { GET as customers } from '@/app/api/customers/route';
import { POST as createSegment } from '@/app/api/segments/route';
import type { CollectionList } from '@/lib/collections/schemas';
import type { CustomerList, JourneyAnalytics } from '@/lib/customers/schemas';
import { db } from '@/lib/db';
import { call } from '@/tests/helpers/http';
import { applyOrder, track } from '@/tests/helpers/journey';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

let a: TestMerchant;
let b: TestMerchant;
const NOW = new Date();
const ago = (h: number) => new Date(NOW.getTime() - h * 3600_000);

beforeAll(async () => {
  a = await createMerchant('catalogue');
  b = await createMerchant('other');
});

const slugs = async (m: TestMerchant) =>
  (await call<CollectionList>(list, '/api/collections', { cookie: m.cookie })).body.collections.map((c) => c.slug);

describe('collections are merchant data', () => {
  it('starts a new merchant with the three example collections', async () => {
    expect(await slugs(a)).toEqual(['grounding', 'wholeness', 'growth']);
  });

  it('lets a merchant replace them with four of its own', async () => {
    for (const slug of ['grounding', 'wholeness', 'growth']) {
      expect((await call(deleteOne, `/api/collections/${slug}`, { method: 'DELETE', cookie: a.cookie, params: { slug } })).status).toBe(200);
    }
    for (const name of ['Rings', 'Necklaces', 'Gift Sets', 'Zoë Édition']) {
      expect((await call(create, '/api/collections', { cookie: a.cookie, body: { name } })).status).toBe(201);
    }
    expect(await slugs(a)).toEqual(['rings', 'necklaces', 'gift-sets', 'zoe-edition']);
    expect(await slugs(b)).toEqual(['grounding', 'wholeness', 'growth']);
  });

  it('refuses a duplicate slug, a bad slug and an empty name with field-named 400/409s', async () => {
    const dup = await call(create, '/api/collections', { cookie: a.cookie, body: { name: 'Rings again', slug: 'rings' } });
    expect(dup).toMatchObject({ status: 409, body: { field: 'slug' } });
    expect((await call(create, '/api/collections', { cookie: a.cookie, body: { name: 'X', slug: 'Not A Slug!' } })).status).toBe(400);
    expect((await call(create, '/api/collections', { cookie: a.cookie, body: { name: '   ' } })).body).toMatchObject({ field: 'name' });
    expect((await call(create, '/api/collections', { cookie: a.cookie, body: { name: '!!!' } })).body).toMatchObject({ field: 'slug' });
    expect((await call(putProducts, '/api/collections/products', { method: 'PUT', cookie: a.cookie,
      body: { mappings: [{ productId: 'p1', collection: 'growth' }] } })).body).toMatchObject({ field: 'mappings' });
  });

  it('counts affinity, orders, analytics, filters, segments and coupons for all four', async () => {
    const put = await call(putProducts, '/api/collections/products', { method: 'PUT', cookie: a.cookie, body: { mappings: [
      { productId: 'ring-1', collection: 'rings' }, { productId: 'neck-1', collection: 'necklaces' },
      { productId: 'gift-1', collection: 'gift-sets' }, { productId: 'zoe-1', collection: 'zoe-edition' },
    ] } });
    expect(put.status).toBe(200);
    expect((await call(getProducts, '/api/collections/products', { cookie: a.cookie })).body).toMatchObject({ mappings: expect.arrayContaining([
      { productId: 'zoe-1', collection: 'zoe-edition' }]) });

    await track(a.userId, [
      { email: 'r@example.test', type: 'cart_add', occurredAt: ago(5), collection: 'rings' },
      { email: 'n@example.test', type: 'pin_save', occurredAt: ago(5), collection: 'necklaces' },
      { email: 'n@example.test', type: 'page_view', occurredAt: ago(4), collection: 'rings' },
      { email: 'x@example.test', type: 'page_view', occurredAt: ago(4), collection: 'growth' },
    ], NOW);
    await applyOrder(a.userId, { shopOrderId: 'g-1', email: 'g@example.test', total: 90, orderedAt: ago(3),
      lineItems: [{ productId: 'gift-1', quantity: 2, price: 30 }, { productId: 'ring-1', quantity: 1, price: 30 }] }, NOW);
    await applyOrder(a.userId, { shopOrderId: 'z-1', email: 'z@example.test', total: 40, orderedAt: ago(2),
      lineItems: [{ productId: 'zoe-1', quantity: 1, price: 40 }] }, NOW);

    const rows = await db()<{ email: string; primaryCollection: string | null; collectionScores: Record<string, number> }[]>`
      select email, primary_collection, collection_scores from public.customers where user_id = ${a.userId} order by email`;
    expect(rows.map((r) => [r.email, r.primaryCollection, r.collectionScores])).toEqual([
      ['g@example.test', 'gift-sets', { 'gift-sets': 10 }],
      ['n@example.test', 'necklaces', { necklaces: 2, rings: 0.5 }],
      ['r@example.test', 'rings', { rings: 3 }],
      // "growth" is not this merchant's collection: the event is kept, with no collection.
      ['x@example.test', null, {}],
      ['z@example.test', 'zoe-edition', { 'zoe-edition': 10 }],
    ]);
    const [tp] = await db()<{ collection: string | null }[]>`
      select t.collection from public.touchpoints t join public.customers c on c.user_id = t.user_id and c.id = t.customer_id
       where c.user_id = ${a.userId} and c.email = 'x@example.test'`;
    expect(tp?.collection).toBeNull();

    const stats = await call<JourneyAnalytics>(analytics, '/api/customers/analytics', { cookie: a.cookie });
    expect(stats.body.collectionDistribution).toEqual({ rings: 1, necklaces: 1, 'gift-sets': 1, 'zoe-edition': 1 });
    const filtered = await call<CustomerList>(customers, '/api/customers?collection=zoe-edition', { cookie: a.cookie });
    expect(filtered.body.customers.map((c) => c.email)).toEqual(['z@example.test']);

    const seg = await call<{ id: string; customerCount: number }>(createSegment, '/api/segments', { cookie: a.cookie,
      body: { name: 'Jewellery', criteria: { collections: ['rings', 'necklaces'] } } });
    expect(seg).toMatchObject({ status: 201, body: { customerCount: 2 } });
    const badSeg = await call(createSegment, '/api/segments', { cookie: a.cookie, body: { name: 'Old', criteria: { collections: ['growth'] } } });
    expect(badSeg).toMatchObject({ status: 400, body: { field: 'criteria.collections' } });
    expect((await call(createCoupon, '/api/coupons', { cookie: a.cookie,
      body: { code: 'ZOE10', discountType: 'percentage', discountValue: 10, collections: ['zoe-edition'] } })).status).toBe(201);
    expect((await call(createCoupon, '/api/coupons', { cookie: b.cookie,
      body: { code: 'ZOE10', discountType: 'percentage', discountValue: 10, collections: ['zoe-edition'] } })).body).toMatchObject({
      field: 'collections' });
  });

  it('renames without touching scores, and removes one leaving nothing behind', async () => {
    const renamed = await call(patchOne, '/api/collections/rings', { method: 'PATCH', cookie: a.cookie, params: { slug: 'rings' }, body: { name: 'Fine rings' } });
    expect(renamed).toMatchObject({ status: 200, body: { slug: 'rings', name: 'Fine rings', products: 1 } });

    await call(createSegment, '/api/segments', { cookie: a.cookie, body: { name: 'Zoë fans', criteria: { collections: ['zoe-edition'] } } });
    const gone = await call(deleteOne, '/api/collections/zoe-edition', { method: 'DELETE', cookie: a.cookie, params: { slug: 'zoe-edition' } });
    expect(gone).toMatchObject({ status: 200, body: { deleted: 'zoe-edition' } });
    const [z] = await db()<{ primaryCollection: string | null; collectionScores: Record<string, number> }[]>`
      select primary_collection, collection_scores from public.customers where user_id = ${a.userId} and email = 'z@example.test'`;
    expect(z).toEqual({ primaryCollection: null, collectionScores: {} });
    const [m] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.product_collections where user_id = ${a.userId} and collection = 'zoe-edition'`;
    expect(m?.n).toBe(0);
    const [coupon] = await db()<{ status: string; collections: string[] }[]>`
      select status, collections from public.coupons where user_id = ${a.userId} and code = 'ZOE10'`;
    expect(coupon).toEqual({ status: 'paused', collections: [] });
    const [seg] = await db()<{ isActive: boolean; criteria: Record<string, unknown> }[]>`
      select is_active, criteria from public.customer_segments where user_id = ${a.userId} and name = 'Zoë fans'`;
    expect(seg).toEqual({ isActive: false, criteria: {} });
    const stats = await call<JourneyAnalytics>(analytics, '/api/customers/analytics', { cookie: a.cookie });
    expect(stats.body.collectionDistribution).toEqual({ rings: 1, necklaces: 1, 'gift-sets': 1 });
  });

  it("keeps merchants apart: B cannot rename or remove A's collection", async () => {
    const r = await call(patchOne, '/api/collections/rings', { method: 'PATCH', cookie: b.cookie, params: { slug: 'rings' }, body: { name: 'Mine' } });
    expect(r.status).toBe(404);
    expect((await call(deleteOne, '/api/collections/rings', { method: 'DELETE', cookie: b.cookie, params: { slug: 'rings' } })).status).toBe(404);
    expect(await slugs(a)).toContain('rings');
  });
});
