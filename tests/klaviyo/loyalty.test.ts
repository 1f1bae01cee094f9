import { makeWorkerUtils, type WorkerUtils } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db, withSystem, withTenant } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { drainJobs } from '@/lib/jobs/queue';
import { updateIntegrations } from '@/lib/settings/integrations';
import { applyOrder } from '@/tests/helpers/journey';
import { KlaviyoStandIn } from '@/tests/helpers/klaviyo';
import { customerId, makeReward, setupLoyalty } from '@/tests/helpers/loyalty';
import { createMerchant } from '@/tests/helpers/merchants';

const KEY = 'pk_test_loyalty_moments_01';
let klaviyo: KlaviyoStandIn;
let utils: WorkerUtils;
const url = () => process.env.DATABASE_URL ?? '';
beforeAll(async () => {
  klaviyo = await new KlaviyoStandIn({ keys: [KEY] }).start();
  process.env.KLAVIYO_API_URL = klaviyo.url;
  reloadEnv();
  utils = await makeWorkerUtils({ connectionString: url() });
});
afterAll(async () => {
  await utils.release();
  await klaviyo.stop();
});

type Attributes = { metric: { data: { attributes: { name: string } } }; profile: { data: { attributes: { email: string } } }; properties: Record<string, unknown> };
const eventsTo = (email: string) =>
  klaviyo.sent().map((r) => (r.body as { data: { attributes: Attributes } }).data.attributes)
    .filter((a) => a.profile.data.attributes.email === email)
    .map((a) => ({ metric: a.metric.data.attributes.name, properties: a.properties }));

describe('loyalty in Klaviyo', () => {
  it('sends points earned, a reward issued and a tier reached as events, for a merchant with a key', async () => {
    const m = await createMerchant('moments');
    await withTenant(m.userId, (tx) => updateIntegrations(tx, m.userId, { klaviyoApiKey: KEY }));
    await setupLoyalty(m.userId);
    await applyOrder(m.userId, { shopOrderId: 'mo-1', email: 'mo@example.test', total: 620, orderedAt: new Date() });
    const reward = await makeReward(m.userId, { name: '$5 off', pointsCost: 100 });
    const who = await customerId(m.userId, 'mo@example.test');
    await withSystem((tx) => tx`select private.loyalty_redeem(${m.userId}, ${who}, ${reward})`);
    await drainJobs(url(), { concurrency: 2, deadlineMs: 15_000 });
    const events = eventsTo('mo@example.test');
    expect(events).toEqual(expect.arrayContaining([
      { metric: 'Points Earned', properties: expect.objectContaining({ points: 620, way: 'purchase', balance: 620 }) },
      { metric: 'Tier Reached', properties: expect.objectContaining({ tier: 'Silver', multiplier: 1.25 }) },
      { metric: 'Reward Issued', properties: expect.objectContaining({ reward: '$5 off', points_spent: 100, code: expect.stringMatching(/^REWARD-/) }) },
    ]));
  });

  it('keeps each member\'s points, tier, referral code and stage on their Klaviyo profile, in bulk', async () => {
    const m = await createMerchant('profiles');
    await withTenant(m.userId, (tx) => updateIntegrations(tx, m.userId, { klaviyoApiKey: KEY }));
    await db()`update public.merchant_settings set shop_domain = 'profiles-shop.myshopify.com' where user_id = ${m.userId}`;
    await setupLoyalty(m.userId);
    await applyOrder(m.userId, { shopOrderId: 'pr-1', email: 'pro@example.test', total: 80, orderedAt: new Date() });
    // The job waits half a minute for changes to batch up; run it now.
    const jobs = await db()<{ id: string }[]>`select id::text from graphile_worker.jobs where key = ${`klaviyo-profiles:${m.userId}`}`;
    expect(jobs).toHaveLength(1);
    await utils.rescheduleJobs(jobs.map((j) => j.id), { runAt: new Date() });
    await drainJobs(url(), { concurrency: 2, deadlineMs: 15_000 });
    const [member] = await db()<{ referralCode: string }[]>`
      select referral_code from public.loyalty_members where user_id = ${m.userId}`;
    expect(klaviyo.accounts.get(KEY)?.properties.get('pro@example.test')).toEqual({
      hh_stage: 'customer', hh_points_balance: 80, hh_tier: 'Bronze', hh_referral_code: member?.referralCode,
      hh_referral_link: `https://profiles-shop.myshopify.com/?ref=${member?.referralCode}`,
    });
    const [left] = await db()<{ n: number }[]>`select count(*)::int as n from private.klaviyo_profile_changes where user_id = ${m.userId}`;
    expect(left?.n).toBe(0);
  });

  it('queues nothing for a merchant without Klaviyo: orders do not pile up messages', async () => {
    const m = await createMerchant('no-klaviyo');
    await setupLoyalty(m.userId);
    await applyOrder(m.userId, { shopOrderId: 'nk-1', email: 'nk@example.test', total: 50, orderedAt: new Date() });
    const [n] = await db()<{ messages: number; profiles: number }[]>`
      select (select count(*)::int from public.klaviyo_messages where user_id = ${m.userId}) as messages,
             (select count(*)::int from private.klaviyo_profile_changes where user_id = ${m.userId}) as profiles`;
    expect(n).toEqual({ messages: 0, profiles: 0 });
  });
});
