import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db, jsonb, withSystem, withTenant } from '@/lib/db';
import { applyOrder, applyRefund, DAY } from '@/tests/helpers/journey';
import { adjust, brokenLedgers, customerId, ledger, makeReward, member, redeem, setupLoyalty } from '@/tests/helpers/loyalty';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';
import { closeRacePools, openRacePools, raceOn, type RacePools } from '@/tests/helpers/race';

const T0 = new Date('2026-06-01T12:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * DAY);
const cancel = (userId: string, shopOrderId: string, when: Date) =>
  withSystem((tx) => tx`select private.apply_cancellation(${userId}, ${jsonb(tx, { shopOrderId, cancelledAt: when.toISOString() })}, ${when})`);
const order = (userId: string, id: string, email: string, total: number, when = T0) =>
  applyOrder(userId, { shopOrderId: id, email, total, orderedAt: when }, when);

let pools: RacePools;
beforeAll(() => {
  pools = openRacePools(20);
});
afterAll(() => closeRacePools(pools));

describe('setting up the program', () => {
  it('creates the program and three default tiers once (S27)', async () => {
    const m = await createMerchant('loyalty-setup');
    await setupLoyalty(m.userId);
    await setupLoyalty(m.userId);
    const tiers = await db()<{ name: string; tierOrder: number; threshold: number; pointsMultiplier: number }[]>`
      select name, tier_order, threshold, points_multiplier from public.loyalty_tiers where user_id = ${m.userId} order by tier_order`;
    expect(tiers).toEqual([
      { name: 'Bronze', tierOrder: 0, threshold: 0, pointsMultiplier: 1 },
      { name: 'Silver', tierOrder: 1, threshold: 500, pointsMultiplier: 1.25 },
      { name: 'Gold', tierOrder: 2, threshold: 1500, pointsMultiplier: 1.5 },
    ]);
  });

  it('earns nothing before the program is set up', async () => {
    const m = await createMerchant('loyalty-off');
    const r = await order(m.userId, 'off-1', 'off@example.test', 50);
    expect(r).toMatchObject({ effects: { loyalty: { points: 0 } } });
    expect(await member(m.userId, await customerId(m.userId, 'off@example.test'))).toBeUndefined();
  });
});

describe('earning from orders', () => {
  let m: TestMerchant;
  let ann: string;
  beforeAll(async () => {
    m = await createMerchant('loyalty-earn');
    await setupLoyalty(m.userId);
  });

  it('credits one point per unit spent, once per order, and says what it credited (S5, S28)', async () => {
    const first = await order(m.userId, 'e-1', 'ann@example.test', 120.9);
    expect(first).toMatchObject({ effects: { loyalty: { points: 120 } } });
    expect(await order(m.userId, 'e-1', 'ann@example.test', 120.9)).toEqual({ applied: false, reason: 'duplicate_order' });
    ann = await customerId(m.userId, 'ann@example.test');
    expect(await ledger(m.userId, ann)).toEqual([
      { seq: 1, type: 'earn_purchase', points: 120, balanceBefore: 0, balanceAfter: 120, source: expect.stringMatching(/^order:/), shortfall: 0 },
    ]);
    expect(await member(m.userId, ann)).toMatchObject({ pointsBalance: 120, tier: 'Bronze', nextTier: 'Silver', toNextTier: 380 });
  });

  it('moves up a tier by points earned, keeps the distance to the next one, and multiplies later purchases', async () => {
    await order(m.userId, 'e-2', 'ann@example.test', 400, at(1));
    expect(await member(m.userId, ann)).toMatchObject({ pointsBalance: 520, tier: 'Silver', nextTier: 'Gold', toNextTier: 980 });
    const third = await order(m.userId, 'e-3', 'ann@example.test', 100, at(2));
    // Silver multiplies by 1.25: what was credited is what is said.
    expect(third).toMatchObject({ effects: { loyalty: { points: 125 } } });
    const changes = await db()<{ from: string | null; to: string }[]>`
      select f.name as from, t.name as to from public.loyalty_tier_changes c
        left join public.loyalty_tiers f on f.user_id = c.user_id and f.id = c.from_tier_id
        join public.loyalty_tiers t on t.user_id = c.user_id and t.id = c.to_tier_id
       where c.user_id = ${m.userId} and c.customer_id = ${ann} order by c.changed_at`;
    expect(changes).toEqual([{ from: null, to: 'Bronze' }, { from: 'Bronze', to: 'Silver' }]);
  });

  it('takes back half the points for a refund of half the order, and the rest when it is cancelled', async () => {
    await order(m.userId, 'e-4', 'bob@example.test', 200, at(3));
    const bob = await customerId(m.userId, 'bob@example.test');
    await applyRefund(m.userId, 'er-4', 'e-4', 100, at(4));
    expect(await member(m.userId, bob)).toMatchObject({ pointsBalance: 100, pointsEarned: 100 });
    // A replayed refund takes nothing more.
    await applyRefund(m.userId, 'er-4', 'e-4', 100, at(4));
    await cancel(m.userId, 'e-4', at(5));
    expect((await ledger(m.userId, bob)).map((r) => [r.type, r.points, r.balanceAfter])).toEqual([
      ['earn_purchase', 200, 200], ['clawback', -100, 100], ['clawback', -100, 0],
    ]);
  });

  it('never takes a balance below zero: what it cannot take back is recorded as the shortfall', async () => {
    await order(m.userId, 'e-5', 'cat@example.test', 100, at(3));
    const cat = await customerId(m.userId, 'cat@example.test');
    await adjust(m.userId, cat, -80, 'Goodwill reversal');
    await cancel(m.userId, 'e-5', at(6));
    const rows = await ledger(m.userId, cat);
    expect(rows.at(-1)).toMatchObject({ type: 'clawback', points: -20, balanceAfter: 0, shortfall: 80 });
    expect(await member(m.userId, cat)).toMatchObject({ pointsBalance: 0 });
  });

  it('keeps every ledger of the merchant chained and equal to its balance', async () => {
    expect(await brokenLedgers(m.userId)).toEqual([]);
  });
});

describe('the ledger is append-only', () => {
  it('refuses to change or delete a posted row, even for the server; an erased customer takes its ledger along', async () => {
    const m = await createMerchant('loyalty-append');
    await setupLoyalty(m.userId);
    await order(m.userId, 'a-1', 'dee@example.test', 30);
    const dee = await customerId(m.userId, 'dee@example.test');
    await expect(db()`update public.points_transactions set points = 999 where user_id = ${m.userId}`).rejects.toThrow(/append-only/);
    await expect(db()`delete from public.points_transactions where user_id = ${m.userId}`).rejects.toThrow(/append-only/);
    // A row that does not follow the last one is refused.
    await expect(db()`
      insert into public.points_transactions (user_id, customer_id, seq, type, points, balance_before, balance_after)
      values (${m.userId}, ${dee}, 2, 'earn_bonus', 10, 0, 10)`).rejects.toThrow(/follow the previous one/);
    // The API role cannot write the ledger at all.
    await expect(withTenant(m.userId, (tx) => tx`
      insert into public.points_transactions (user_id, customer_id, seq, type, points, balance_before, balance_after)
      values (${m.userId}, ${dee}, 2, 'earn_bonus', 10, 30, 40)`)).rejects.toThrow(/permission denied/);
    await db()`delete from public.customers where user_id = ${m.userId} and id = ${dee}`;
    const [left] = await db()<{ n: number }[]>`select count(*)::int as n from public.points_transactions where user_id = ${m.userId}`;
    expect(left?.n).toBe(0);
  });
});

describe('redeeming rewards', () => {
  let m: TestMerchant;
  let gold: string;
  let bronze: string;
  beforeAll(async () => {
    m = await createMerchant('loyalty-redeem');
    await setupLoyalty(m.userId);
    await order(m.userId, 'r-1', 'gold@example.test', 2000);
    gold = await customerId(m.userId, 'gold@example.test');
    await order(m.userId, 'r-2', 'bronze@example.test', 300);
    bronze = await customerId(m.userId, 'bronze@example.test');
  });

  it('lets a higher tier redeem a reward for a lower one, and refuses a lower tier (S25)', async () => {
    const silverReward = await makeReward(m.userId, { name: '$5 off', pointsCost: 100, minTier: 'Silver' });
    expect(await member(m.userId, gold)).toMatchObject({ tier: 'Gold' });
    const r = await withSystem((tx) => redeem(tx, m.userId, gold, silverReward));
    expect(r).toMatchObject({ pointsSpent: 100, balance: 1900, code: expect.stringMatching(/^REWARD-[1-9A-HJKMNP-Z]{10}$/) });
    await expect(withSystem((tx) => redeem(tx, m.userId, bronze, silverReward))).rejects.toThrow(/for Silver members and above/);
    // The coupon is single use and comes from the coupon module.
    const [coupon] = await db()<{ source: string; usageLimit: number; discountType: string; discountValue: number }[]>`
      select source, usage_limit, discount_type, discount_value from public.coupons where user_id = ${m.userId} and id = ${r?.couponId ?? ''}`;
    expect(coupon).toEqual({ source: 'loyalty', usageLimit: 1, discountType: 'fixed_amount', discountValue: 5 });
  });

  it('holds the per-member limit, the inventory, the date window, the orders needed and the balance', async () => {
    const once = await makeReward(m.userId, { name: 'Once', pointsCost: 10, redemptionLimit: 1 });
    await withSystem((tx) => redeem(tx, m.userId, gold, once));
    await expect(withSystem((tx) => redeem(tx, m.userId, gold, once))).rejects.toThrow(/already redeemed this reward 1 time/);
    const two = await makeReward(m.userId, { name: 'Two left', pointsCost: 10, totalAvailable: 2 });
    await withSystem((tx) => redeem(tx, m.userId, gold, two));
    await withSystem((tx) => redeem(tx, m.userId, bronze, two));
    await expect(withSystem((tx) => redeem(tx, m.userId, gold, two))).rejects.toThrow(/sold out/);
    const later = await makeReward(m.userId, { name: 'Later', pointsCost: 10, startsAt: '2099-01-01T00:00:00Z' });
    await expect(withSystem((tx) => redeem(tx, m.userId, gold, later))).rejects.toThrow(/not available now/);
    const loyalOnly = await makeReward(m.userId, { name: 'Fifth order', pointsCost: 10, minOrders: 5 });
    await expect(withSystem((tx) => redeem(tx, m.userId, gold, loyalOnly))).rejects.toThrow(/needs 5 orders first \(the member has 1\)/);
    const dear = await makeReward(m.userId, { name: 'Dear', pointsCost: 100000 });
    await expect(withSystem((tx) => redeem(tx, m.userId, bronze, dear))).rejects.toThrow(/Not enough points: the balance is 290, this reward costs 100000/);
    // A refused redemption changed nothing.
    expect(await member(m.userId, bronze)).toMatchObject({ pointsBalance: 290, pointsRedeemed: 10 });
    expect(await brokenLedgers(m.userId)).toEqual([]);
  });

  it('marks the reward used when its code is used in an order, and issued again if that order is cancelled', async () => {
    const reward = await makeReward(m.userId, { name: '$3 off', pointsCost: 20, rewardValue: 3 });
    const r = await withSystem((tx) => redeem(tx, m.userId, bronze, reward));
    await applyOrder(m.userId, { shopOrderId: 'r-use', email: 'bronze@example.test', total: 40, orderedAt: new Date(),
      discountCodes: [{ code: r?.code ?? '', amount: 3 }] } as never);
    const status = () => db()<{ status: string }[]>`select status from public.reward_redemptions where user_id = ${m.userId} and id = ${r?.redemptionId ?? ''}`;
    expect(await status()).toEqual([{ status: 'used' }]);
    await cancel(m.userId, 'r-use', new Date());
    expect(await status()).toEqual([{ status: 'issued' }]);
  });

  it('20 redemptions at once against a balance that covers 3: exactly 3 succeed, the rest are refused for the balance', async () => {
    await order(m.userId, 'r-race', 'race@example.test', 35);
    const racer = await customerId(m.userId, 'race@example.test');
    // Twenty different rewards, so only the member's row lock stands between them.
    const rewards = await Promise.all(Array.from({ length: 20 }, (_, i) => makeReward(m.userId, { name: `Ten points ${i}`, pointsCost: 10 })));
    const results = await raceOn(pools, 20, (tx, i) => redeem(tx, m.userId, racer, rewards[i] ?? ''));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
    expect(ok).toHaveLength(3);
    expect(refused).toHaveLength(17);
    for (const reason of refused) expect(reason).toMatch(/^Not enough points: the balance is 5, this reward costs 10$/);
    expect(await member(m.userId, racer)).toMatchObject({ pointsBalance: 5, pointsRedeemed: 30 });
    expect(await brokenLedgers(m.userId)).toEqual([]);
  });

  it('20 members at once for a reward with 3 left: exactly 3 get it, the rest are told it is sold out', async () => {
    const reward = await makeReward(m.userId, { name: 'Three left', pointsCost: 1, totalAvailable: 3 });
    const members = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      await order(m.userId, `r-inv-${i}`, `inv${i}@example.test`, 10);
      return customerId(m.userId, `inv${i}@example.test`);
    }));
    const results = await raceOn(pools, 20, (tx, i) => redeem(tx, m.userId, members[i] ?? '', reward));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(refused).toEqual(Array.from({ length: 17 }, () => 'This reward is sold out'));
    const [r] = await db()<{ totalRedeemed: number; rows: number }[]>`
      select total_redeemed, (select count(*)::int from public.reward_redemptions where user_id = ${m.userId} and reward_id = ${reward}) as rows
        from public.loyalty_rewards where user_id = ${m.userId} and id = ${reward}`;
    expect(r).toEqual({ totalRedeemed: 3, rows: 3 });
  });
});

describe('expiry', () => {
  it('expires what is left of lots past their date, never points already spent, soonest lots first (S26)', async () => {
    const m = await createMerchant('loyalty-expiry');
    await setupLoyalty(m.userId, { expiryMonths: 1 });
    await order(m.userId, 'x-1', 'eve@example.test', 100, T0);
    await order(m.userId, 'x-2', 'eve@example.test', 50, at(20));
    const eve = await customerId(m.userId, 'eve@example.test');
    // 120 spent at day 25: all of the first lot, 20 of the second.
    await adjust(m.userId, eve, -120, 'Spent in store', at(25));
    const expire = (when: Date) => withSystem((tx) => tx<{ r: { members: number; points: number } }[]>`
      select private.loyalty_expire(${when}, 1000) as r`).then((rows) => rows[0]?.r);
    // The first lot's date passes: nothing of it is left, so nothing expires.
    expect(await expire(at(32))).toEqual({ members: 0, points: 0 });
    // The second lot's date passes: its 30 remaining points expire.
    expect(await expire(at(52))).toEqual({ members: 1, points: 30 });
    expect(await expire(at(52))).toEqual({ members: 0, points: 0 });
    expect(await member(m.userId, eve)).toMatchObject({ pointsBalance: 0, pointsExpired: 30 });
    expect(await brokenLedgers(m.userId)).toEqual([]);
  });
});

describe('tenants', () => {
  it('cannot post to, redeem for or read another merchant’s members', async () => {
    const a = await createMerchant('loyalty-tenant-a');
    const b = await createMerchant('loyalty-tenant-b');
    await setupLoyalty(a.userId);
    await setupLoyalty(b.userId);
    await order(a.userId, 'ta-1', 'a@example.test', 100);
    const aCustomer = await customerId(a.userId, 'a@example.test');
    const bReward = await makeReward(b.userId, { name: 'B reward', pointsCost: 1 });
    // B's user id with A's customer: the customer is not B's.
    await expect(adjust(b.userId, aCustomer, 50, 'steal')).rejects.toThrow(/Customer not found/);
    await expect(withSystem((tx) => redeem(tx, b.userId, aCustomer, bReward))).rejects.toThrow(/Customer not found/);
    // A's own reward id under B's merchant is not found either.
    const aReward = await makeReward(a.userId, { name: 'A reward', pointsCost: 1 });
    await expect(withSystem((tx) => redeem(tx, b.userId, aCustomer, aReward))).rejects.toThrow(/Reward not found/);
    const seen = await withTenant(b.userId, (tx) => tx`select 1 from public.points_transactions where user_id = ${a.userId}`);
    expect(seen).toHaveLength(0);
    expect(await member(a.userId, aCustomer)).toMatchObject({ pointsBalance: 100 });
  });
});

describe('random interleavings on several connections', () => {
  it('keep every ledger chained, equal to its balance and lots, never negative', async () => {
    const m = await createMerchant('loyalty-property');
    await setupLoyalty(m.userId, { expiryMonths: 12 });
    const emails = ['p0@example.test', 'p1@example.test', 'p2@example.test'];
    for (const [i, e] of emails.entries()) await order(m.userId, `seed-${i}`, e, 200);
    const ids = await Promise.all(emails.map((e) => customerId(m.userId, e)));
    const reward = await makeReward(m.userId, { name: 'Any', pointsCost: 30 });
    // A seeded pseudo-random sequence, so a failure can be replayed.
    let seed = 20261201;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let orders = 0;
    for (let round = 0; round < 6; round++) {
      const ops = Array.from({ length: 12 }, () => {
        const who = rand(3);
        const kind = rand(6);
        const id = `p-${round}-${orders++}`;
        return { who, kind, id, amount: 10 + rand(90) };
      });
      const results = await raceOn(pools, ops.length, async (tx, i): Promise<unknown> => {
        const op = ops[i];
        if (!op) throw new Error('no op');
        const customer = ids[op.who] ?? '';
        switch (op.kind) {
          case 0: return await tx`select private.apply_order(${m.userId}, ${tx.json({ shopOrderId: op.id, email: emails[op.who] ?? '', total: op.amount, orderedAt: T0.toISOString() })}, ${T0})`;
          case 1: return await redeem(tx, m.userId, customer, reward);
          case 2: return await tx`select private.loyalty_adjust(${m.userId}, ${customer}, ${op.amount % 2 ? op.amount : -op.amount}, 'property', ${m.userId})`;
          case 3: return await tx`select private.apply_refund(${m.userId}, ${tx.json({ shopRefundId: `rf-${op.id}`, shopOrderId: `seed-${op.who}`, amount: op.amount / 10 })}, ${T0})`;
          case 4: return await tx`select private.apply_cancellation(${m.userId}, ${tx.json({ shopOrderId: `p-${Math.max(0, round - 1)}-${rand(12)}`, cancelledAt: T0.toISOString() })}, ${T0})`;
          default: return await tx`select private.loyalty_expire(${at(400)}, 100)`;
        }
      });
      // Refusals are the rules speaking (not enough points), never a broken invariant.
      for (const r of results) {
        if (r.status === 'rejected') expect(String((r.reason as Error).message)).toMatch(/^Not enough points/);
      }
      expect(await brokenLedgers(m.userId)).toEqual([]);
    }
    const [n] = await db()<{ rows: number }[]>`select count(*)::int as rows from public.points_transactions where user_id = ${m.userId}`;
    expect(n?.rows).toBeGreaterThan(20);
  });
});

describe('fixes an outside review asked for', () => {
  it('a free product is its price off an order that has the product, never the whole cart', async () => {
    const m = await createMerchant('loyalty-free-product');
    await setupLoyalty(m.userId);
    await order(m.userId, 'fp-1', 'fp@example.test', 500);
    const fp = await customerId(m.userId, 'fp@example.test');
    const [reward] = await db()<{ id: string }[]>`
      insert into public.loyalty_rewards (user_id, name, points_cost, reward_type, reward_value, reward_product_id)
      values (${m.userId}, 'Free socks', 100, 'free_product', 12, 'socks-1') returning id`;
    const r = await withSystem((tx) => redeem(tx, m.userId, fp, reward?.id ?? ''));
    const [coupon] = await db()<{ discountType: string; discountValue: number; productIds: string[] }[]>`
      select discount_type, discount_value, product_ids from public.coupons where user_id = ${m.userId} and id = ${r?.couponId ?? ''}`;
    expect(coupon).toEqual({ discountType: 'fixed_amount', discountValue: 12, productIds: ['socks-1'] });
    await expect(db()`insert into public.loyalty_rewards (user_id, name, points_cost, reward_type, reward_product_id)
                      values (${m.userId}, 'No price', 100, 'free_product', 'socks-1')`).rejects.toThrow(/check/);
  });

  it('a refund takes back the points its own order earned, so it cannot trade expiring points for fresh ones', async () => {
    const m = await createMerchant('loyalty-own-lot');
    await setupLoyalty(m.userId, { expiryMonths: 1 });
    await order(m.userId, 'ol-1', 'ol@example.test', 100, T0);
    await order(m.userId, 'ol-2', 'ol@example.test', 50, at(20));
    await applyRefund(m.userId, 'olr-2', 'ol-2', 50, at(21));
    const ol = await customerId(m.userId, 'ol@example.test');
    // The first order's 100 points are still there, and expire on their date.
    const expired = await withSystem((tx) => tx<{ r: { points: number } }[]>`select private.loyalty_expire(${at(32)}, 100) as r`);
    expect(expired[0]?.r.points).toBe(100);
    expect(await member(m.userId, ol)).toMatchObject({ pointsBalance: 0, pointsExpired: 100 });
    expect(await brokenLedgers(m.userId)).toEqual([]);
  });

  it('a tier reached by spend follows an order that earns no points', async () => {
    const m = await createMerchant('loyalty-spend-tier');
    await setupLoyalty(m.userId, { tierBasis: 'spend' });
    await order(m.userId, 'st-1', 'st@example.test', 499.75, T0);
    const st = await customerId(m.userId, 'st@example.test');
    expect(await member(m.userId, st)).toMatchObject({ tier: 'Bronze', toNextTier: 0.25 });
    await order(m.userId, 'st-2', 'st@example.test', 0.5, at(1));
    expect(await member(m.userId, st)).toMatchObject({ tier: 'Silver', pointsBalance: 499 });
  });
});
