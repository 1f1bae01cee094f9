import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db, withSystem } from '@/lib/db';
import { applyOrder, at, DAY, track } from '@/tests/helpers/journey';
import { createMerchant } from '@/tests/helpers/merchants';
import { closeRacePools, openRacePools, raceOn, type RacePools } from '@/tests/helpers/race';

let userId: string;
let pools: RacePools;
const T0 = new Date('2026-03-01T00:00:00Z');

beforeAll(async () => {
  userId = (await createMerchant('events')).userId;
  pools = openRacePools(4);
  // A consumer of our own, beside win-back's (registered in its migration), for the same stages.
  await db()`select private.register_stage_consumer('test_winback', array['at_risk', 'churned'])`;
});
afterAll(() => closeRacePools(pools));

interface StageEvent { customerId: string; fromStage: string; toStage: string; triggerType: string; transitionedAt: string }
const take = (limit = 100) => withSystem((tx) => tx<StageEvent[]>`
  select customer_id, from_stage, to_stage, trigger_type, transitioned_at from private.take_stage_events('test_winback', ${limit})`);

describe('stage changes as events', () => {
  it('queues each change into a wanted stage once, in the transaction that made it, and hands each out once in order', async () => {
    await applyOrder(userId, { shopOrderId: 'e-1', email: 'one@example.test', total: 40, orderedAt: T0 });
    await track(userId, [{ email: 'lead@example.test', type: 'lead_capture', occurredAt: T0 }]);
    // Nothing wanted yet: a first order and a lead capture are not at_risk or churned.
    expect(await take()).toEqual([]);

    await withSystem((tx) => tx`select private.evaluate_stages(${userId}, ${at(T0, 31 * DAY)})`);
    await withSystem((tx) => tx`select private.evaluate_stages(${userId}, ${at(T0, 91 * DAY)})`);
    await withSystem((tx) => tx`select private.evaluate_stages(${userId}, ${at(T0, 181 * DAY)})`);
    const events = await take();
    const ids = await db()<{ id: string; email: string }[]>`select id, email from public.customers where user_id = ${userId}`;
    const email = (id: string) => ids.find((c) => c.id === id)?.email;
    // Handed out oldest first: each customer's changes in the order they happened.
    const times = events.map((e) => Date.parse(e.transitionedAt));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    const of = (who: string) => events.filter((e) => email(e.customerId) === who).map((e) => [e.fromStage, e.toStage, e.triggerType]);
    expect(of('lead@example.test')).toEqual([['lead', 'at_risk', 'time_based'], ['at_risk', 'churned', 'time_based']]);
    expect(of('one@example.test')).toEqual([['customer', 'at_risk', 'time_based'], ['at_risk', 'churned', 'time_based']]);
    expect(events).toHaveLength(4);
    expect(await take()).toEqual([]);
  });

  it('puts events back when the consuming transaction fails', async () => {
    await applyOrder(userId, { shopOrderId: 'e-2', email: 'two@example.test', total: 40, orderedAt: T0 });
    await withSystem((tx) => tx`select private.evaluate_stages(${userId}, ${at(T0, 91 * DAY)})`);
    await expect(withSystem(async (tx) => {
      await tx`select * from private.take_stage_events('test_winback', 100)`;
      throw new Error('consumer failed');
    })).rejects.toThrow('consumer failed');
    expect((await take()).map((e) => e.toStage)).toEqual(['at_risk']);
  });

  it('two takers at once never get the same event', async () => {
    for (let i = 0; i < 20; i++) {
      await applyOrder(userId, { shopOrderId: `e-many-${i}`, email: `many${i}@example.test`, total: 10, orderedAt: T0 });
    }
    await withSystem((tx) => tx`select private.evaluate_stages(${userId}, ${at(T0, 91 * DAY)})`);
    const results = await raceOn(pools, 2, (tx) => tx<{ customerId: string }[]>`
      select customer_id from private.take_stage_events('test_winback', 15)`);
    const taken = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.map((e) => e.customerId) : []));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(taken).toHaveLength(20);
    expect(new Set(taken).size).toBe(20);
  });

  it('queues nothing for stages no consumer wants, and nothing at all without consumers', async () => {
    const [q] = await db()<{ n: number; unwanted: number }[]>`
      select (count(*) filter (where e.consumer = 'test_winback'))::int as n,
             (count(*) filter (where not e.to_stage = any (k.to_stages)))::int as unwanted
        from private.stage_events e join private.stage_event_consumers k using (consumer)`;
    // Ours were all taken above; win-back's wait for its cron, each one a stage it asked for.
    expect(q).toEqual({ n: 0, unwanted: 0 });
    const consumers = await db()<{ consumer: string; toStages: string[] }[]>`
      select consumer, to_stages from private.stage_event_consumers order by consumer`;
    expect(consumers).toEqual([{ consumer: 'test_winback', toStages: ['at_risk', 'churned'] }, { consumer: 'winback', toStages: ['at_risk', 'churned'] }]);
    await expect(db()`select private.register_stage_consumer('bad', array['gone'])`).rejects.toThrow(/Unknown stage/);
  });
});
