import { beforeAll, describe, expect, it } from 'vitest';
import { createMerchant } from '@/tests/helpers/merchants';
import { applyOrder, applyRefund, at, customer, DAY, evaluateStages, isoAt, track, transitions } from '@/tests/helpers/journey';

let userId: string;
const T0 = new Date('2026-01-10T12:00:00Z');
let n = 0;
const email = () => `stage${++n}@example.test`;
const SEC = 1000;

beforeAll(async () => {
  userId = (await createMerchant('stages')).userId;
});

// Every edge of the stage machine (private.stage_rules), including the timed ones at their
// exact boundaries. Time is a parameter, so these are deterministic.
describe('stage machine', () => {
  it('visitor: a storefront event creates a visitor, who never churns by time', async () => {
    const e = email();
    await track(userId, [{ email: e, type: 'page_view', occurredAt: T0 }]);
    expect((await customer(userId, e)).stage).toBe('visitor');
    await evaluateStages(userId, at(T0, 1000 * DAY));
    expect((await customer(userId, e)).stage).toBe('visitor');
    expect(await transitions(userId, e)).toEqual([]);
  });

  it('visitor -> lead on lead capture, and lead stays observable', async () => {
    const e = email();
    await track(userId, [{ email: e, type: 'page_view', occurredAt: T0 }]);
    await track(userId, [{ email: e, type: 'lead_capture', occurredAt: at(T0, 60 * SEC) }]);
    const c = await customer(userId, e);
    expect(c.stage).toBe('lead');
    expect(c.becameLeadAt).toEqual(isoAt(T0, 60 * SEC));
    expect(await transitions(userId, e)).toMatchObject([
      { fromStage: 'visitor', toStage: 'lead', triggerType: 'engagement', rule: 'lead_captured', reason: 'Left an email address' },
    ]);
    // An email open is not engagement (mail clients open mail); the lead stays a lead.
    await track(userId, [{ email: e, type: 'email_open', occurredAt: at(T0, DAY) }]);
    expect((await customer(userId, e)).stage).toBe('lead');
  });

  it('lead -> prospect only on a later engagement; within one batch the lead stage is still logged', async () => {
    const e = email();
    await track(userId, [
      { email: e, type: 'lead_capture', occurredAt: T0 },
      { email: e, type: 'quiz_complete', occurredAt: at(T0, 5 * SEC) },
    ]);
    expect((await customer(userId, e)).stage).toBe('prospect');
    expect((await transitions(userId, e)).map((t) => [t.fromStage, t.toStage, t.rule, t.transitionedAt])).toEqual([
      ['visitor', 'lead', 'lead_captured', T0.toISOString()],
      ['lead', 'prospect', 'prospect_engaged', at(T0, 5 * SEC).toISOString()],
    ]);
  });

  it('lead -> at_risk after exactly 30 days without activity, not a second earlier', async () => {
    const e = email();
    await track(userId, [{ email: e, type: 'lead_capture', occurredAt: T0 }]);
    expect((await customer(userId, e)).stageReviewAt).toEqual(isoAt(T0, 30 * DAY));
    await evaluateStages(userId, at(T0, 30 * DAY - SEC));
    expect((await customer(userId, e)).stage).toBe('lead');
    await evaluateStages(userId, at(T0, 30 * DAY));
    const c = await customer(userId, e);
    expect(c.stage).toBe('at_risk');
    expect(c.becameAtRiskAt).toEqual(isoAt(T0, 30 * DAY));
    expect((await transitions(userId, e)).at(-1)).toMatchObject({ triggerType: 'time_based', rule: 'at_risk_lead_30d' });
    // Engaging again brings the lead back (and, engaging after capture, as a prospect).
    await track(userId, [{ email: e, type: 'page_view', occurredAt: at(T0, 31 * DAY) }]);
    expect((await customer(userId, e)).stage).toBe('prospect');
  });

  it('prospect -> customer -> repeat -> vip by orders and value, stamping became_* and AOV', async () => {
    const e = email();
    await track(userId, [
      { email: e, type: 'lead_capture', occurredAt: T0 },
      { email: e, type: 'cart_add', occurredAt: at(T0, SEC) },
    ]);
    await applyOrder(userId, { shopOrderId: `${e}-1`, email: e, total: 100, orderedAt: at(T0, DAY) });
    let c = await customer(userId, e);
    expect(c).toMatchObject({ stage: 'customer', totalOrders: 1, lifetimeValue: 100, averageOrderValue: 100 });
    expect(c.becameCustomerAt).toEqual(isoAt(T0, DAY));

    await applyOrder(userId, { shopOrderId: `${e}-2`, email: e, total: 150, orderedAt: at(T0, 2 * DAY) });
    c = await customer(userId, e);
    expect(c).toMatchObject({ stage: 'repeat', totalOrders: 2, lifetimeValue: 250, averageOrderValue: 125 });
    expect(c.becameRepeatAt).toEqual(isoAt(T0, 2 * DAY));

    await applyOrder(userId, { shopOrderId: `${e}-3`, email: e, total: 250, orderedAt: at(T0, 3 * DAY) });
    c = await customer(userId, e);
    expect(c).toMatchObject({ stage: 'vip', totalOrders: 3, lifetimeValue: 500, averageOrderValue: 166.67 });
    expect(c.becameVipAt).toEqual(isoAt(T0, 3 * DAY));
    expect((await transitions(userId, e)).map((t) => `${t.fromStage}>${t.toStage}:${t.rule}`)).toEqual([
      'visitor>lead:lead_captured',
      'lead>prospect:prospect_engaged',
      'prospect>customer:customer_first_order',
      'customer>repeat:repeat_second_order',
      'repeat>vip:vip_value',
    ]);
  });

  it('a first order from a stranger goes straight to customer, with became_customer_at set', async () => {
    const e = email();
    await applyOrder(userId, { shopOrderId: `${e}-1`, email: e, total: 40, orderedAt: T0 });
    const c = await customer(userId, e);
    expect(c.stage).toBe('customer');
    expect(c.becameCustomerAt).toEqual(isoAt(T0));
    expect(c.stageReviewAt).toEqual(isoAt(T0, 90 * DAY));
  });

  it('customer -> at_risk exactly 90 days after a single order; -> churned 180 days after the last activity', async () => {
    const e = email();
    await applyOrder(userId, { shopOrderId: `${e}-1`, email: e, total: 40, orderedAt: T0 });
    await evaluateStages(userId, at(T0, 90 * DAY - SEC));
    expect((await customer(userId, e)).stage).toBe('customer');
    await evaluateStages(userId, at(T0, 90 * DAY));
    expect((await customer(userId, e)).stage).toBe('at_risk');
    expect((await customer(userId, e)).stageReviewAt).toEqual(isoAt(T0, 180 * DAY));
    await evaluateStages(userId, at(T0, 180 * DAY - SEC));
    expect((await customer(userId, e)).stage).toBe('at_risk');
    await evaluateStages(userId, at(T0, 180 * DAY));
    const c = await customer(userId, e);
    expect(c.stage).toBe('churned');
    expect(c.becameChurnedAt).toEqual(isoAt(T0, 180 * DAY));
    expect((await transitions(userId, e)).map((t) => t.rule)).toEqual([
      'customer_first_order', 'at_risk_customer_90d', 'churned_inactive_180d',
    ]);
  });

  it('repeat and VIP customers become at_risk after 120 days without a purchase', async () => {
    const r = email();
    const v = email();
    await applyOrder(userId, { shopOrderId: `${r}-1`, email: r, total: 20, orderedAt: T0 });
    await applyOrder(userId, { shopOrderId: `${r}-2`, email: r, total: 20, orderedAt: T0 });
    await applyOrder(userId, { shopOrderId: `${v}-1`, email: v, total: 400, orderedAt: T0 });
    await applyOrder(userId, { shopOrderId: `${v}-2`, email: v, total: 400, orderedAt: T0 });
    expect((await customer(userId, v)).stage).toBe('vip');
    await evaluateStages(userId, at(T0, 120 * DAY - SEC));
    expect([(await customer(userId, r)).stage, (await customer(userId, v)).stage]).toEqual(['repeat', 'vip']);
    await evaluateStages(userId, at(T0, 120 * DAY));
    expect([(await customer(userId, r)).stage, (await customer(userId, v)).stage]).toEqual(['at_risk', 'at_risk']);
  });

  it('site activity keeps an at-risk customer from churning; a purchase recovers them', async () => {
    const e = email();
    await applyOrder(userId, { shopOrderId: `${e}-1`, email: e, total: 60, orderedAt: T0 });
    await evaluateStages(userId, at(T0, 90 * DAY));
    await track(userId, [{ email: e, type: 'page_view', occurredAt: at(T0, 150 * DAY) }]);
    await evaluateStages(userId, at(T0, 180 * DAY));
    expect((await customer(userId, e)).stage).toBe('at_risk');
    await applyOrder(userId, { shopOrderId: `${e}-2`, email: e, total: 60, orderedAt: at(T0, 200 * DAY) });
    expect((await customer(userId, e)).stage).toBe('repeat');
    expect((await transitions(userId, e)).at(-1)).toMatchObject({ fromStage: 'at_risk', toStage: 'repeat', triggerType: 'purchase' });
  });

  it('a churned customer who orders again comes back', async () => {
    const e = email();
    await applyOrder(userId, { shopOrderId: `${e}-1`, email: e, total: 60, orderedAt: T0 });
    await evaluateStages(userId, at(T0, 180 * DAY));
    expect((await customer(userId, e)).stage).toBe('churned');
    await applyOrder(userId, { shopOrderId: `${e}-2`, email: e, total: 60, orderedAt: at(T0, 300 * DAY) });
    expect((await customer(userId, e)).stage).toBe('repeat');
  });

  it('a refund lowers lifetime value and can take a VIP back to repeat', async () => {
    const e = email();
    await applyOrder(userId, { shopOrderId: `${e}-1`, email: e, total: 300, orderedAt: T0 });
    await applyOrder(userId, { shopOrderId: `${e}-2`, email: e, total: 300, orderedAt: T0 });
    expect((await customer(userId, e)).stage).toBe('vip');
    await applyRefund(userId, `${e}-r1`, `${e}-2`, 150, at(T0, DAY));
    const c = await customer(userId, e);
    expect(c).toMatchObject({ stage: 'repeat', lifetimeValue: 450, averageOrderValue: 225 });
    expect((await transitions(userId, e)).at(-1)).toMatchObject({ triggerType: 'refund', fromStage: 'vip', toStage: 'repeat' });
    // A refund larger than what is left is capped; a replayed refund changes nothing.
    await applyRefund(userId, `${e}-r2`, `${e}-2`, 1000, at(T0, DAY));
    await applyRefund(userId, `${e}-r2`, `${e}-2`, 1000, at(T0, DAY));
    expect((await customer(userId, e)).lifetimeValue).toBe(300);
  });
});
