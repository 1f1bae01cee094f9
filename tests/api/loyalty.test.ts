import { beforeAll, describe, expect, it } from 'vitest';
import { POST as adjustRoute } from '@/app/api/loyalty/members/[customerId]/adjust/route';
import { POST as redeemRoute } from '@/app/api/loyalty/members/[customerId]/redeem/route';
import { GET as memberRoute } from '@/app/api/loyalty/members/[customerId]/route';
import { GET as membersRoute } from '@/app/api/loyalty/members/route';
import { GET as programGet, PATCH as programPatch } from '@/app/api/loyalty/program/route';
import { DELETE as rewardDelete, PATCH as rewardPatch } from '@/app/api/loyalty/rewards/[id]/route';
import { GET as rewardsGet, POST as rewardsPost } from '@/app/api/loyalty/rewards/route';
import { POST as setupRoute } from '@/app/api/loyalty/setup/route';
import { DELETE as tierDelete, PATCH as tierPatch } from '@/app/api/loyalty/tiers/[id]/route';
import { GET as tiersGet, POST as tiersPost } from '@/app/api/loyalty/tiers/route';
import { memberDetailSchema, memberListSchema, programSchema, rewardSchema, tierListSchema } from '@/lib/loyalty/schemas';
import { db } from '@/lib/db';
import { call } from '@/tests/helpers/http';
import { applyOrder } from '@/tests/helpers/journey';
import { customerId } from '@/tests/helpers/loyalty';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

type Body = Record<string, unknown> & { error?: string; field?: string };
let a: TestMerchant;
let b: TestMerchant;
let ann: string;

beforeAll(async () => {
  a = await createMerchant('loyalty-api-a');
  b = await createMerchant('loyalty-api-b');
});

const as = (m: TestMerchant) => ({ cookie: m.cookie });

describe('setting up and configuring the program', () => {
  it('answers 404 before setup, then sets up with defaults and three tiers', async () => {
    expect((await call(programGet, '/api/loyalty/program', as(a))).status).toBe(404);
    const res = await call<Body>(setupRoute, '/api/loyalty/setup', { method: 'POST', ...as(a) });
    expect(res.status).toBe(200);
    expect(programSchema.parse(res.body)).toEqual(res.body);
    expect(res.body).toMatchObject({ enabled: true, pointsPerUnit: 1, pointValue: 0.01, tierBasis: 'points', referralPercent: 10 });
    const tiers = await call<{ tiers: { name: string; members: number }[] }>(tiersGet, '/api/loyalty/tiers', as(a));
    expect(tierListSchema.parse(tiers.body)).toEqual(tiers.body);
    expect(tiers.body.tiers.map((t) => t.name)).toEqual(['Bronze', 'Silver', 'Gold']);
  });

  it('changes named settings only, and refuses bad values and fields it does not know', async () => {
    const ok = await call<Body>(programPatch, '/api/loyalty/program', { method: 'PATCH', ...as(a), body: { pointsPerUnit: 2, expiryMonths: 12, signupPoints: 50 } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ pointsPerUnit: 2, expiryMonths: 12, signupPoints: 50 });
    for (const [body, field] of [
      [{ pointsPerUnit: 0 }, 'pointsPerUnit'],
      [{ expiryMonths: 0 }, 'expiryMonths'],
      [{ friendRewardType: 'percentage', friendRewardValue: 150 }, 'friendRewardValue'],
      [{ tierBasis: 'vibes' }, 'tierBasis'],
    ] as const) {
      const res = await call<Body>(programPatch, '/api/loyalty/program', { method: 'PATCH', ...as(a), body });
      expect(res.status).toBe(400);
      expect(res.body.field).toBe(field);
    }
    const sneaky = await call<Body>(programPatch, '/api/loyalty/program', { method: 'PATCH', ...as(a), body: { userId: b.userId } });
    expect(sneaky.status).toBe(400);
    await call(programPatch, '/api/loyalty/program', { method: 'PATCH', ...as(a), body: { pointsPerUnit: 1 } });
  });
});

describe('tiers and rewards', () => {
  let platinum: string;
  let reward: string;

  it('adds a tier, refuses a taken position, and moves members when thresholds change', async () => {
    await applyOrder(a.userId, { shopOrderId: 'la-1', email: 'ann@example.test', total: 700, orderedAt: new Date() });
    ann = await customerId(a.userId, 'ann@example.test');
    const created = await call<Body>(tiersPost, '/api/loyalty/tiers', { method: 'POST', ...as(a), body: { name: 'Platinum', tierOrder: 3, threshold: 5000, pointsMultiplier: 2 } });
    expect(created.status).toBe(201);
    platinum = String(created.body.id);
    const clash = await call<Body>(tiersPost, '/api/loyalty/tiers', { method: 'POST', ...as(a), body: { name: 'Other', tierOrder: 3, threshold: 1 } });
    expect(clash).toMatchObject({ status: 409, body: { field: 'tierOrder' } });
    const tiers = await call<{ tiers: { id: string; name: string; members: number }[] }>(tiersGet, '/api/loyalty/tiers', as(a));
    expect(tiers.body.tiers.find((t) => t.name === 'Silver')?.members).toBe(1);
    // Platinum from 500 points: Ann (700 earned) moves up at once.
    const patched = await call<Body>(tierPatch, `/api/loyalty/tiers/${platinum}`, { method: 'PATCH', ...as(a), params: { id: platinum }, body: { threshold: 600 } });
    expect(patched.status).toBe(200);
    const member = await call<{ tierName: string }>(memberRoute, `/api/loyalty/members/${ann}`, { ...as(a), params: { customerId: ann } });
    expect(member.body.tierName).toBe('Platinum');
  });

  it('creates, edits and deletes a reward, checking its terms; a tier a reward requires cannot be deleted', async () => {
    const bad = await call<Body>(rewardsPost, '/api/loyalty/rewards', { method: 'POST', ...as(a), body: { name: 'Half off', pointsCost: 100, rewardType: 'percentage_discount' } });
    expect(bad).toMatchObject({ status: 400, body: { field: 'rewardValue' } });
    const created = await call<Body>(rewardsPost, '/api/loyalty/rewards', {
      method: 'POST', ...as(a), body: { name: '$10 off', pointsCost: 200, rewardType: 'fixed_discount', rewardValue: 10, minTierId: platinum },
    });
    expect(created.status).toBe(201);
    expect(rewardSchema.parse(created.body)).toEqual(created.body);
    reward = String(created.body.id);
    const edit = await call<Body>(rewardPatch, `/api/loyalty/rewards/${reward}`, { method: 'PATCH', ...as(a), params: { id: reward }, body: { rewardType: 'percentage_discount', rewardValue: 150 } });
    expect(edit).toMatchObject({ status: 400, body: { field: 'rewardValue' } });
    const blocked = await call<Body>(tierDelete, `/api/loyalty/tiers/${platinum}`, { method: 'DELETE', ...as(a), params: { id: platinum } });
    expect(blocked.status).toBe(409);
    expect(blocked.body.error).toMatch(/\$10 off/);
  });

  it('redeems a reward for a member: 201 with the code and the new balance; refusals say why', async () => {
    const res = await call<Body>(redeemRoute, `/api/loyalty/members/${ann}/redeem`, { method: 'POST', ...as(a), params: { customerId: ann }, body: { rewardId: reward } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ pointsSpent: 200, balance: 500, code: expect.stringMatching(/^REWARD-/) });
    const dear = await call<Body>(rewardsPost, '/api/loyalty/rewards', { method: 'POST', ...as(a), body: { name: 'Dear', pointsCost: 100000, rewardType: 'free_shipping' } });
    const refused = await call<Body>(redeemRoute, `/api/loyalty/members/${ann}/redeem`, { method: 'POST', ...as(a), params: { customerId: ann }, body: { rewardId: String(dear.body.id) } });
    expect(refused).toMatchObject({ status: 409, body: { error: 'Not enough points: the balance is 500, this reward costs 100000' } });
    const unknown = await call<Body>(redeemRoute, `/api/loyalty/members/${ann}/redeem`, { method: 'POST', ...as(a), params: { customerId: ann }, body: { rewardId: '00000000-0000-4000-8000-000000000000' } });
    expect(unknown.status).toBe(404);
  });

  it('adjusts with a reason, gives a bonus, and refuses a zero, a negative bonus or no reason', async () => {
    const adj = await call<Body>(adjustRoute, `/api/loyalty/members/${ann}/adjust`, { method: 'POST', ...as(a), params: { customerId: ann }, body: { points: -50, reason: 'Correction' } });
    expect(adj).toMatchObject({ status: 200, body: { balance: 450 } });
    const bonus = await call<Body>(adjustRoute, `/api/loyalty/members/${ann}/adjust`, { method: 'POST', ...as(a), params: { customerId: ann }, body: { kind: 'bonus', points: 25, reason: 'Thank you' } });
    expect(bonus).toMatchObject({ status: 200, body: { balance: 475 } });
    for (const [body, field] of [
      [{ points: 0, reason: 'x' }, 'points'],
      [{ kind: 'bonus', points: -5, reason: 'x' }, 'points'],
      [{ points: 5, reason: '  ' }, 'reason'],
      [{ points: 5, reason: 'x', seq: 1 }, undefined],
    ] as const) {
      const res = await call<Body>(adjustRoute, `/api/loyalty/members/${ann}/adjust`, { method: 'POST', ...as(a), params: { customerId: ann }, body });
      expect(res.status).toBe(400);
      if (field) expect(res.body.field).toBe(field);
    }
    // Too large a negative adjustment: the balance is the rule.
    const over = await call<Body>(adjustRoute, `/api/loyalty/members/${ann}/adjust`, { method: 'POST', ...as(a), params: { customerId: ann }, body: { points: -10000, reason: 'Oops' } });
    expect(over.status).toBe(409);
  });

  it('lists members by balance and by tier, and shows one with its ledger newest first and its redemptions', async () => {
    await applyOrder(a.userId, { shopOrderId: 'la-2', email: 'bob@example.test', total: 40, orderedAt: new Date() });
    const list = await call<{ members: { email: string; tierName: string }[]; total: number }>(membersRoute, '/api/loyalty/members?sort=balance', as(a));
    expect(memberListSchema.parse(list.body)).toEqual(list.body);
    expect(list.body.members.map((m) => m.email)).toEqual(['ann@example.test', 'bob@example.test']);
    const bronze = (await call<{ tiers: { id: string; name: string }[] }>(tiersGet, '/api/loyalty/tiers', as(a))).body.tiers.find((t) => t.name === 'Bronze');
    const byTier = await call<{ members: { email: string }[]; total: number }>(membersRoute, `/api/loyalty/members?tierId=${bronze?.id}`, as(a));
    expect(byTier.body).toMatchObject({ total: 1, members: [{ email: 'bob@example.test' }] });
    type Page = { members: { email: string }[]; total: number; prev: string | null; next: string | null };
    const first = await call<Page>(membersRoute, '/api/loyalty/members?sort=balance&limit=1', as(a));
    expect(first.body).toMatchObject({ total: 2, prev: null, members: [{ email: 'ann@example.test' }] });
    const second = await call<Page>(membersRoute, `/api/loyalty/members?sort=balance&limit=1&after=${first.body.next}`, as(a));
    expect(second.body).toMatchObject({ next: null, members: [{ email: 'bob@example.test' }] });
    expect((await call<Page>(membersRoute, `/api/loyalty/members?sort=balance&limit=1&before=${second.body.prev}`, as(a))).body.members)
      .toEqual(first.body.members);
    expect((await call<Page>(membersRoute, '/api/loyalty/members?sort=balance&order=asc&limit=1&end=last', as(a))).body.members)
      .toEqual(first.body.members);
    // A cursor of another sort is refused; a search is literal (a % is not a wildcard).
    expect((await call(membersRoute, `/api/loyalty/members?sort=joined&after=${first.body.next}`, as(a))).status).toBe(400);
    expect((await call<Page>(membersRoute, '/api/loyalty/members?search=%25', as(a))).body).toMatchObject({ total: 0, members: [] });
    expect((await call<Page>(membersRoute, '/api/loyalty/members?search=ann%20example', as(a))).body).toMatchObject({ total: 1 });
    const one = await call<{ ledger: { rows: { type: string }[]; total: number }; redemptions: { rewardName: string; status: string }[] }>(
      memberRoute, `/api/loyalty/members/${ann}?limit=2`, { ...as(a), params: { customerId: ann } });
    expect(memberDetailSchema.parse(one.body)).toEqual(one.body);
    expect(one.body.ledger.total).toBe(4);
    expect(one.body.ledger.rows.map((r) => r.type)).toEqual(['earn_bonus', 'adjustment']);
    expect(one.body.redemptions).toMatchObject([{ rewardName: '$10 off', status: 'issued' }]);
  });

  it('deletes a reward by hiding it: its redemption keeps its history', async () => {
    const res = await call<Body>(rewardDelete, `/api/loyalty/rewards/${reward}`, { method: 'DELETE', ...as(a), params: { id: reward } });
    expect(res.status).toBe(200);
    const list = await call<{ rewards: { id: string }[] }>(rewardsGet, '/api/loyalty/rewards', as(a));
    expect(list.body.rewards.some((r) => r.id === reward)).toBe(false);
    const one = await call<{ redemptions: { rewardName: string }[] }>(memberRoute, `/api/loyalty/members/${ann}`, { ...as(a), params: { customerId: ann } });
    expect(one.body.redemptions.map((r) => r.rewardName)).toEqual(['$10 off']);
    // And the tier it required can go now.
    const tiers = await call<{ tiers: { id: string; name: string }[] }>(tiersGet, '/api/loyalty/tiers', as(a));
    const platinum = tiers.body.tiers.find((t) => t.name === 'Platinum')?.id ?? '';
    expect((await call(tierDelete, `/api/loyalty/tiers/${platinum}`, { method: 'DELETE', ...as(a), params: { id: platinum } })).status).toBe(200);
  });
});

describe('another merchant', () => {
  it('cannot read, redeem for, adjust or edit anything of A’s, and sees only its own', async () => {
    await call(setupRoute, '/api/loyalty/setup', { method: 'POST', ...as(b) });
    const aTier = (await call<{ tiers: { id: string }[] }>(tiersGet, '/api/loyalty/tiers', as(a))).body.tiers[0]?.id ?? '';
    const aReward = (await call<{ rewards: { id: string }[] }>(rewardsGet, '/api/loyalty/rewards', as(a))).body.rewards[0]?.id ?? '';
    const before = await db()<{ points: number }[]>`select points_balance as points from public.loyalty_members where user_id = ${a.userId} and customer_id = ${ann}`;
    expect((await call(memberRoute, `/api/loyalty/members/${ann}`, { ...as(b), params: { customerId: ann } })).status).toBe(404);
    expect((await call(redeemRoute, `/api/loyalty/members/${ann}/redeem`, { method: 'POST', ...as(b), params: { customerId: ann }, body: { rewardId: aReward } })).status).toBe(404);
    expect((await call(adjustRoute, `/api/loyalty/members/${ann}/adjust`, { method: 'POST', ...as(b), params: { customerId: ann }, body: { points: 5, reason: 'x' } })).status).toBe(404);
    expect((await call(tierPatch, `/api/loyalty/tiers/${aTier}`, { method: 'PATCH', ...as(b), params: { id: aTier }, body: { name: 'Mine' } })).status).toBe(404);
    expect((await call(rewardDelete, `/api/loyalty/rewards/${aReward}`, { method: 'DELETE', ...as(b), params: { id: aReward } })).status).toBe(404);
    const members = await call<{ total: number }>(membersRoute, '/api/loyalty/members', as(b));
    expect(members.body.total).toBe(0);
    const after = await db()<{ points: number }[]>`select points_balance as points from public.loyalty_members where user_id = ${a.userId} and customer_id = ${ann}`;
    expect(after).toEqual(before);
    const [tier] = await db()<{ name: string }[]>`select name from public.loyalty_tiers where user_id = ${a.userId} and id = ${aTier}`;
    expect(tier?.name).toBe('Bronze');
  });

  it('needs a session and the same origin', async () => {
    expect((await call(membersRoute, '/api/loyalty/members')).status).toBe(401);
    expect((await call(setupRoute, '/api/loyalty/setup', { method: 'POST', ...as(a), headers: { origin: 'https://evil.example' } })).status).toBe(403);
  });
});
