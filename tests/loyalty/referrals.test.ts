import { beforeAll, describe, expect, it } from 'vitest';
import { db, jsonb, withSystem } from '@/lib/db';
import { applyOrder, applyRefund, DAY, track } from '@/tests/helpers/journey';
import { customerId, ledger, makeReward, member, redeem, setupLoyalty, brokenLedgers } from '@/tests/helpers/loyalty';
import { call } from '@/tests/helpers/http';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { closeRacePools, openRacePools, raceOn } from '@/tests/helpers/race';

const T0 = new Date('2026-05-01T12:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * DAY);
type Order = { shopOrderId: string; email: string; total: number; orderedAt: Date; discountCodes?: { code: string; amount?: number }[]; noteAttributes?: Record<string, string> };
const order = (userId: string, o: Order) =>
  withSystem(async (tx) => {
    const [r] = await tx<{ r: Record<string, unknown> }[]>`
      select private.apply_order(${userId}, ${jsonb(tx, { ...o, orderedAt: o.orderedAt.toISOString(), lineItems: [] })}, ${o.orderedAt}) as r`;
    return r?.r ?? {};
  });
const claim = (userId: string, code: string, email: string) =>
  withSystem(async (tx) => {
    const [r] = await tx<{ r: { referralId: string; code: string; status: string } }[]>`select private.referral_claim(${userId}, ${code}, ${email}, ${T0}) as r`;
    return r?.r;
  });
const referrals = (userId: string) => db()<{ friendEmail: string; status: string; rejectionReason: string | null; orderRevenue: number | null; pointsGiven: number; friendCode: string | null }[]>`
  select friend_email, status, rejection_reason, order_revenue, points_given, friend_code from public.referrals
   where user_id = ${userId} order by created_at, friend_email`;

let shared: TestMerchant | undefined;
const referralMerchant = (): TestMerchant => {
  if (!shared) throw new Error('the referrals cases run first');
  return shared;
};

describe('referrals', () => {
  let m: TestMerchant;
  let ann: string;
  let code: string;
  beforeAll(async () => {
    m = await createMerchant('referrals');
    shared = m;
    await setupLoyalty(m.userId);
    await applyOrder(m.userId, { shopOrderId: 'ann-1', email: 'ann@example.test', total: 100, orderedAt: T0 });
    await applyOrder(m.userId, { shopOrderId: 'bob-1', email: 'bob@example.test', total: 100, orderedAt: T0 });
    ann = await customerId(m.userId, 'ann@example.test');
    code = (await member(m.userId, ann))?.referralCode ?? '';
  });

  it('gives the friend a coupon on claiming the link, and the referrer 10% of the friend’s first order when it arrives', async () => {
    const claimed = await claim(m.userId, code.toLowerCase(), 'Friend@Example.test');
    expect(claimed).toMatchObject({ status: 'pending', code: expect.stringMatching(/^FRIEND-/) });
    // Claiming again returns the same coupon.
    expect(await claim(m.userId, code, 'friend@example.test')).toEqual(claimed);
    const r = await order(m.userId, { shopOrderId: 'f-1', email: 'friend@example.test', total: 250, orderedAt: at(1),
      discountCodes: [{ code: claimed?.code ?? '', amount: 25 }] });
    expect(r).toMatchObject({ effects: { referrals: { referral: 'converted', points: 25 }, coupons: { accepted: 1 } } });
    expect((await ledger(m.userId, ann)).at(-1)).toMatchObject({ type: 'earn_referral', points: 25, source: expect.stringMatching(/^referral:/) });
    expect(await referrals(m.userId)).toEqual([
      { friendEmail: 'friend@example.test', status: 'converted', rejectionReason: null, orderRevenue: 250, pointsGiven: 25, friendCode: claimed?.code },
    ]);
  });

  it('converts an order that carries the code as a discount code or a note attribute, and rewards the friend for a next order', async () => {
    await order(m.userId, { shopOrderId: 'f-2', email: 'dan@example.test', total: 80, orderedAt: at(2), discountCodes: [{ code, amount: 0 }] });
    await order(m.userId, { shopOrderId: 'f-3', email: 'eve@example.test', total: 60, orderedAt: at(2), noteAttributes: { referral_code: code.toLowerCase() } });
    const rows = (await referrals(m.userId)).filter((r) => r.friendEmail !== 'friend@example.test');
    expect(rows).toEqual([
      { friendEmail: 'dan@example.test', status: 'converted', rejectionReason: null, orderRevenue: 80, pointsGiven: 8, friendCode: expect.stringMatching(/^FRIEND-/) },
      { friendEmail: 'eve@example.test', status: 'converted', rejectionReason: null, orderRevenue: 60, pointsGiven: 6, friendCode: expect.stringMatching(/^FRIEND-/) },
    ]);
  });

  it('refuses self-referral, a friend who already bought and a second order by the same friend, keeping the reason', async () => {
    const before = (await member(m.userId, ann))?.pointsBalance;
    await order(m.userId, { shopOrderId: 'x-self', email: 'ann@example.test', total: 50, orderedAt: at(3), discountCodes: [{ code }] });
    await order(m.userId, { shopOrderId: 'x-bob', email: 'bob@example.test', total: 50, orderedAt: at(3), discountCodes: [{ code }] });
    await order(m.userId, { shopOrderId: 'x-again', email: 'dan@example.test', total: 50, orderedAt: at(4), discountCodes: [{ code }] });
    const rejected = (await referrals(m.userId)).filter((r) => r.status === 'rejected').map((r) => [r.friendEmail, r.rejectionReason]);
    expect(rejected).toEqual([
      ['ann@example.test', 'self_referral'],
      ['bob@example.test', 'existing_customer'],
      ['dan@example.test', 'already_referred'],
    ]);
    // Ann's own order earned her purchase points, and no referral points.
    expect((await member(m.userId, ann))?.pointsBalance).toBe((before ?? 0) + 50);
    // The claim refuses the same cases before any coupon is issued.
    await expect(claim(m.userId, code, 'ann@example.test')).rejects.toThrow(/cannot refer yourself/);
    await expect(claim(m.userId, code, 'Ann+deals@example.test')).rejects.toThrow(/cannot refer yourself/);
    await expect(claim(m.userId, code, 'bob@example.test')).rejects.toThrow(/already ordered/);
    await expect(claim(m.userId, code, 'dan@example.test')).rejects.toThrow(/already been referred/);
    await expect(claim(m.userId, 'NOPE1234', 'new@example.test')).rejects.toThrow(/Referral code not found/);
  });

  it('does not convert a claim by its email alone: a stranger’s order under a claimed email stays theirs', async () => {
    await claim(m.userId, code, 'squat@example.test');
    await order(m.userId, { shopOrderId: 'sq-1', email: 'squat@example.test', total: 90, orderedAt: at(3) });
    expect((await referrals(m.userId)).find((r) => r.friendEmail === 'squat@example.test')?.status).toBe('pending');
  });

  it('makes one referral for a friend who claims from ten tabs at once', async () => {
    const pools = openRacePools(10);
    try {
      const results = await raceOn(pools, 10, (tx) => tx<{ r: { code: string } }[]>`
        select private.referral_claim(${m.userId}, ${code}, 'tabs@example.test', ${T0}) as r`.then((rows) => rows[0]?.r.code));
      const codes = results.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)));
      expect(new Set(codes).size).toBe(1);
      expect(codes[0]).toMatch(/^FRIEND-/);
    } finally {
      await closeRacePools(pools);
    }
    expect((await referrals(m.userId)).filter((r) => r.friendEmail === 'tabs@example.test')).toHaveLength(1);
  });

  it('takes the referral points back in proportion to a refund of the friend’s order, and the rest on cancellation', async () => {
    await order(m.userId, { shopOrderId: 'f-4', email: 'fay@example.test', total: 300, orderedAt: at(5), discountCodes: [{ code }] });
    const balance = (await member(m.userId, ann))?.pointsBalance ?? 0;
    await applyRefund(m.userId, 'rf-4', 'f-4', 150, at(6));
    expect((await member(m.userId, ann))?.pointsBalance).toBe(balance - 15);
    await withSystem((tx) => tx`select private.apply_cancellation(${m.userId}, ${jsonb(tx, { shopOrderId: 'f-4', cancelledAt: at(7).toISOString() })}, ${at(7)})`);
    expect((await member(m.userId, ann))?.pointsBalance).toBe(balance - 30);
    const fay = (await referrals(m.userId)).find((r) => r.friendEmail === 'fay@example.test');
    expect(fay).toMatchObject({ status: 'reversed', pointsGiven: 0 });
    // The reward coupon the friend was given for a next order is withdrawn with the referral.
    const [coupon] = await db()<{ status: string }[]>`select status from public.coupons where user_id = ${m.userId} and code = ${fay?.friendCode ?? ''}`;
    expect(coupon?.status).toBe('archived');
    expect(await brokenLedgers(m.userId)).toEqual([]);
  });
});

describe('referral figures', () => {
  it('are counted from the referral rows: equal to the hand count of the cases above', async () => {
    const { GET: statsRoute } = await import('@/app/api/loyalty/referrals/stats/route');
    const { GET: listRoute } = await import('@/app/api/loyalty/referrals/route');
    const m = referralMerchant();
    const res = await call<Record<string, unknown>>(statsRoute, '/api/loyalty/referrals/stats', { cookie: m.cookie });
    expect(res.status).toBe(200);
    // Standing: friend, dan, eve (converted), squat, tabs (pending), fay (reversed); refused: ann, bob, dan's second order.
    expect(res.body).toEqual({
      totalReferrals: 6, pendingReferrals: 2, convertedReferrals: 3, reversedReferrals: 1, rejectedReferrals: 3,
      rejectedByReason: { self_referral: 1, existing_customer: 1, already_referred: 1 },
      conversionRate: 0.5, totalRevenueGenerated: 390, pointsGiven: 39,
      topReferrers: [{ customerId: expect.any(String), email: 'ann@example.test', referrals: 6, conversions: 3, revenue: 390 }],
    });
    const pending = await call<{ referrals: { friendEmail: string }[]; total: number }>(listRoute, '/api/loyalty/referrals?status=pending', { cookie: m.cookie });
    expect(pending.body.total).toBe(2);
    expect(pending.body.referrals.map((r) => r.friendEmail).sort()).toEqual(['squat@example.test', 'tabs@example.test']);
    const other = await call<{ totalReferrals: number }>(statsRoute, '/api/loyalty/referrals/stats', { cookie: (await createMerchant('referrals-other')).cookie });
    expect(other.body.totalReferrals).toBe(0);
  });
});

describe('other ways to earn', () => {
  let m: TestMerchant;
  beforeAll(async () => {
    m = await createMerchant('loyalty-ways');
    await setupLoyalty(m.userId);
    await db()`update public.loyalty_programs set signup_points = 50, birthday_points = 100, review_points = 20 where user_id = ${m.userId}`;
  });

  it('signing up (reported by the merchant’s backend) earns the signup points once; a public lead capture earns nothing', async () => {
    await track(m.userId, [{ email: 'lead@example.test', type: 'lead_capture', occurredAt: T0 }]);
    const lead = await customerId(m.userId, 'lead@example.test');
    expect(await member(m.userId, lead)).toBeUndefined();
    const signup = (email: string) => withSystem((tx) => tx<{ n: number }[]>`select private.loyalty_signup(${m.userId}, ${email}, ${T0}) as n`).then((r) => r[0]?.n);
    expect(await signup('New@Example.test')).toBe(50);
    expect(await signup('new@example.test')).toBe(0);
    const id = await customerId(m.userId, 'new@example.test');
    expect((await ledger(m.userId, id)).map((r) => [r.type, r.points, r.source])).toEqual([['earn_signup', 50, 'signup']]);
  });

  it('a review earns once per review; a bonus counts towards tiers', async () => {
    const review = (id: string) => withSystem((tx) => tx<{ n: number }[]>`select private.loyalty_review(${m.userId}, 'NEW@example.test', ${id}, ${T0}) as n`).then((r) => r[0]?.n);
    expect(await review('rev-1')).toBe(20);
    expect(await review('rev-1')).toBe(0);
    await expect(withSystem((tx) => tx`select private.loyalty_review(${m.userId}, 'nobody@example.test', 'rev-2')`)).rejects.toThrow(/No customer/);
    const id = await customerId(m.userId, 'new@example.test');
    await withSystem((tx) => tx`select private.loyalty_bonus(${m.userId}, ${id}, 500, 'Launch party', ${m.userId})`);
    expect(await member(m.userId, id)).toMatchObject({ pointsBalance: 570, pointsEarned: 570, tier: 'Silver' });
  });

  it('a birthday earns once a year, in the store’s time zone; 29 February counts on the 28th in other years', async () => {
    const id = await customerId(m.userId, 'new@example.test');
    const birthdays = (when: string) => withSystem((tx) => tx<{ n: number }[]>`select private.loyalty_birthdays(${new Date(when)}, 1000) as n`).then((r) => r[0]?.n);
    await db()`update public.loyalty_members set birthday = '1990-07-14' where user_id = ${m.userId} and customer_id = ${id}`;
    expect(await birthdays('2026-07-13T12:00:00Z')).toBe(0);
    expect(await birthdays('2026-07-14T12:00:00Z')).toBe(1);
    expect(await birthdays('2026-07-14T18:00:00Z')).toBe(0);
    expect(await birthdays('2027-07-14T12:00:00Z')).toBe(1);
    await db()`update public.loyalty_members set birthday = '2000-02-29' where user_id = ${m.userId} and customer_id = ${id}`;
    expect(await birthdays('2029-02-28T12:00:00Z')).toBe(1);
    expect(await birthdays('2028-02-28T12:00:00Z')).toBe(0);
    expect(await birthdays('2028-02-29T12:00:00Z')).toBe(1);
    expect((await ledger(m.userId, id)).filter((r) => r.type === 'earn_birthday').map((r) => r.source)).toEqual([
      'birthday:2026', 'birthday:2027', 'birthday:2029', 'birthday:2028',
    ]);
  });

  it('an unused reward code expires at its end', async () => {
    const id = await customerId(m.userId, 'new@example.test');
    const reward = await makeReward(m.userId, { name: 'Soon gone', pointsCost: 10 });
    const r = await withSystem((tx) => redeem(tx, m.userId, id, reward, T0));
    const expire = (when: Date) => withSystem((tx) => tx<{ n: number }[]>`select private.loyalty_expire_codes(${when}, 100) as n`).then((x) => x[0]?.n);
    expect(await expire(at(89))).toBe(0);
    expect(await expire(at(91))).toBe(1);
    const [row] = await db()<{ status: string }[]>`select status from public.reward_redemptions where user_id = ${m.userId} and id = ${r?.redemptionId ?? ''}`;
    expect(row?.status).toBe('expired');
  });
});
