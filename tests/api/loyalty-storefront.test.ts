import { beforeAll, describe, expect, it } from 'vitest';
import { GET as memberRoute } from '@/app/api/loyalty/storefront/member/route';
import { POST as redeemRoute } from '@/app/api/loyalty/storefront/redeem/route';
import { POST as referralRoute } from '@/app/api/loyalty/storefront/referrals/route';
import { POST as reviewRoute } from '@/app/api/loyalty/storefront/reviews/route';
import { POST as rotateServerKey } from '@/app/api/settings/server-key/rotate/route';
import { storefrontMemberSchema } from '@/lib/loyalty/schemas';
import { db } from '@/lib/db';
import { call } from '@/tests/helpers/http';
import { applyOrder } from '@/tests/helpers/journey';
import { makeReward, setupLoyalty } from '@/tests/helpers/loyalty';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

type Body = Record<string, unknown> & { error?: string; field?: string };
let a: TestMerchant;
let b: TestMerchant;
let keyA: string;
let keyB: string;
let cheap: string;
let silverOnly: string;

const withKey = (key: string) => ({ headers: { authorization: `Bearer ${key}` }, noOrigin: true });
const rotate = async (m: TestMerchant) =>
  (await call<{ serverKey: string }>(rotateServerKey, '/api/settings/server-key/rotate', { method: 'POST', cookie: m.cookie })).body.serverKey;

beforeAll(async () => {
  a = await createMerchant('storefront-a');
  b = await createMerchant('storefront-b');
  await setupLoyalty(a.userId);
  await setupLoyalty(b.userId);
  await db()`update public.loyalty_programs set review_points = 15 where user_id = ${a.userId}`;
  await db()`update public.merchant_settings set shop_domain = 'shop-a.myshopify.com' where user_id = ${a.userId}`;
  keyA = await rotate(a);
  keyB = await rotate(b);
  await applyOrder(a.userId, { shopOrderId: 's-1', email: 'shopper@example.test', total: 120, orderedAt: new Date() });
  cheap = await makeReward(a.userId, { name: '$5 off', pointsCost: 100 });
  silverOnly = await makeReward(a.userId, { name: 'Silver gift', pointsCost: 50, minTier: 'Silver' });
  await makeReward(a.userId, { name: 'Too dear', pointsCost: 1000 });
});

describe('the storefront API (secret server key)', () => {
  it('shows a member by email: balance, tier, what it can redeem now, and its referral link', async () => {
    const res = await call<Body & { rewards: { name: string }[]; referralCode: string }>(memberRoute, '/api/loyalty/storefront/member?email=Shopper@Example.test', withKey(keyA));
    expect(res.status).toBe(200);
    expect(storefrontMemberSchema.parse(res.body)).toEqual(res.body);
    expect(res.body).toMatchObject({ pointsBalance: 120, tierName: 'Bronze', nextTierName: 'Silver', toNextTier: 380 });
    expect(res.body.rewards.map((r) => r.name)).toEqual(['$5 off']);
    expect(res.body.referralUrl).toBe(`https://shop-a.myshopify.com/?ref=${res.body.referralCode}`);
  });

  it('redeems by email with the same rules, and a review earns once', async () => {
    const ok = await call<Body>(redeemRoute, '/api/loyalty/storefront/redeem', { ...withKey(keyA), body: { email: 'shopper@example.test', rewardId: cheap } });
    expect(ok).toMatchObject({ status: 201, body: { balance: 20, code: expect.stringMatching(/^REWARD-/) } });
    const tier = await call<Body>(redeemRoute, '/api/loyalty/storefront/redeem', { ...withKey(keyA), body: { email: 'shopper@example.test', rewardId: silverOnly } });
    expect(tier).toMatchObject({ status: 422, body: { error: 'This reward is for Silver members and above' } });
    const review = (id: string) => call<Body>(reviewRoute, '/api/loyalty/storefront/reviews', { ...withKey(keyA), body: { email: 'shopper@example.test', reviewId: id } });
    expect((await review('rv-1')).body).toEqual({ points: 15 });
    expect((await review('rv-1')).body).toEqual({ points: 0 });
  });

  it('lets a friend claim a member’s code, once', async () => {
    const member = await call<{ referralCode: string }>(memberRoute, '/api/loyalty/storefront/member?email=shopper@example.test', withKey(keyA));
    const claim = () => call<Body>(referralRoute, '/api/loyalty/storefront/referrals', { ...withKey(keyA), body: { code: member.body.referralCode, email: 'pal@example.test' } });
    const first = await claim();
    expect(first).toMatchObject({ status: 201, body: { status: 'pending', code: expect.stringMatching(/^FRIEND-/) } });
    expect((await claim()).body.code).toBe(first.body.code);
    const self = await call<Body>(referralRoute, '/api/loyalty/storefront/referrals', { ...withKey(keyA), body: { code: member.body.referralCode, email: 'shopper@example.test' } });
    expect(self.status).toBe(422);
  });

  it('with another merchant’s key sees none of A’s members, rewards or codes', async () => {
    expect((await call(memberRoute, '/api/loyalty/storefront/member?email=shopper@example.test', withKey(keyB))).status).toBe(404);
    expect((await call(redeemRoute, '/api/loyalty/storefront/redeem', { ...withKey(keyB), body: { email: 'shopper@example.test', rewardId: cheap } })).status).toBe(404);
    const code = (await call<{ referralCode: string }>(memberRoute, '/api/loyalty/storefront/member?email=shopper@example.test', withKey(keyA))).body.referralCode;
    expect((await call(referralRoute, '/api/loyalty/storefront/referrals', { ...withKey(keyB), body: { code, email: 'x@example.test' } })).status).toBe(404);
  });

  it('refuses a missing or wrong key and bad input', async () => {
    expect((await call(memberRoute, '/api/loyalty/storefront/member?email=shopper@example.test', { noOrigin: true })).status).toBe(401);
    expect((await call(memberRoute, '/api/loyalty/storefront/member?email=shopper@example.test', withKey(`sk_${'x'.repeat(32)}`))).status).toBe(401);
    const bad = await call<Body>(memberRoute, '/api/loyalty/storefront/member?email=not-an-email', withKey(keyA));
    expect(bad).toMatchObject({ status: 400, body: { field: 'email' } });
    const extra = await call<Body>(redeemRoute, '/api/loyalty/storefront/redeem', { ...withKey(keyA), body: { email: 'shopper@example.test', rewardId: cheap, points: -5 } });
    expect(extra.status).toBe(400);
  });
});

describe('a retried redemption', () => {
  it('with the same request id spends once and answers with the first redemption', async () => {
    await applyOrder(a.userId, { shopOrderId: 's-retry', email: 'retry@example.test', total: 300, orderedAt: new Date() });
    const body = { email: 'retry@example.test', rewardId: cheap, requestId: 'checkout-7f3a9c21' };
    const first = await call<Body>(redeemRoute, '/api/loyalty/storefront/redeem', { ...withKey(keyA), body });
    const again = await call<Body>(redeemRoute, '/api/loyalty/storefront/redeem', { ...withKey(keyA), body });
    expect(first).toMatchObject({ status: 201, body: { balance: 200 } });
    expect(again.body.code).toBe(first.body.code);
    expect(again.body.redemptionId).toBe(first.body.redemptionId);
    const [m] = await db()<{ balance: number; n: number }[]>`
      select m.points_balance as balance,
             (select count(*)::int from public.reward_redemptions r where r.user_id = m.user_id and r.customer_id = m.customer_id) as n
        from public.loyalty_members m join public.customers c on c.user_id = m.user_id and c.id = m.customer_id
       where m.user_id = ${a.userId} and c.email = 'retry@example.test'`;
    expect(m).toEqual({ balance: 200, n: 1 });
    const other = await call<Body>(redeemRoute, '/api/loyalty/storefront/redeem', { ...withKey(keyA), body: { ...body, requestId: 'checkout-other-1' } });
    expect(other).toMatchObject({ status: 201, body: { balance: 100 } });
  });
});
