import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db, jsonb, withSystem, withTenant } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { drainJobs } from '@/lib/jobs/queue';
import { updateIntegrations } from '@/lib/settings/integrations';
import { applyOrder, applyRefund, DAY } from '@/tests/helpers/journey';
import { KlaviyoStandIn } from '@/tests/helpers/klaviyo';
import { createMerchant } from '@/tests/helpers/merchants';
import { closeRacePools, openRacePools, raceOn, type RacePools } from '@/tests/helpers/race';
import { atRiskCustomers, call, createCampaign, figures, recipients, tick, trackClick } from '@/tests/helpers/winback';

const KEY = 'pk_test_winback_0123456789';
let klaviyo: KlaviyoStandIn;
let pools: RacePools;
const url = () => process.env.DATABASE_URL ?? '';
const drain = () => drainJobs(url(), { concurrency: 4, deadlineMs: 20_000 });
const sentTo = (emails: string[]) =>
  klaviyo.sent().filter((r) => {
    const email = (r.body as { data?: { attributes?: { profile?: { data?: { attributes?: { email?: string } } } } } }).data?.attributes?.profile?.data?.attributes?.email;
    return email !== undefined && emails.includes(email);
  });

beforeAll(async () => {
  klaviyo = await new KlaviyoStandIn({ keys: [KEY] }).start();
  process.env.KLAVIYO_API_URL = klaviyo.url;
  reloadEnv();
  pools = openRacePools(6);
});
afterAll(async () => {
  await closeRacePools(pools);
  await klaviyo.stop();
});

async function merchant(withKey = true) {
  const m = await createMerchant('winback');
  if (withKey) await withTenant(m.userId, (tx) => updateIntegrations(tx, m.userId, { klaviyoApiKey: KEY }));
  return m;
}

describe('who a campaign targets', () => {
  it('previews and enrols only the owner\'s eligible customers; another merchant\'s campaign id finds nothing (S7)', async () => {
    const a = await merchant();
    const b = await merchant();
    const atRisk = await atRiskCustomers(a.userId, 4, 'elig');
    await atRiskCustomers(a.userId, 1, 'cheap', { total: 5 });
    await applyOrder(a.userId, { shopOrderId: 'fresh-1', email: 'fresh@example.test', total: 90, orderedAt: new Date(Date.now() - 5 * DAY) });
    await db()`update public.customers set email_subscribed = false where user_id = ${a.userId} and email = ${atRisk[3] ?? ''}`;
    await atRiskCustomers(b.userId, 3, 'other');
    const campaign = await createCampaign(a.userId, { minLifetimeValue: 20 });

    expect(await call('winback_preview', a.userId, campaign)).toEqual({ eligible: 3, treatment: 3, control: 0, dueNow: 3, later: 0 });
    // B asking about A's campaign (or enrolling into it) sees and changes nothing.
    expect(await call('winback_preview', b.userId, campaign)).toEqual({ eligible: 0, treatment: 0, control: 0, dueNow: 0, later: 0 });
    const cross = await withSystem((tx) => tx`select * from private.winback_candidates(${b.userId}, ${campaign}, null, now())`);
    expect(cross).toHaveLength(0);
    await expect(call('winback_activate', b.userId, campaign)).rejects.toMatchObject({ code: 'HH404' });

    expect(await call('winback_activate', a.userId, campaign)).toEqual({ status: 'active', enrolled: { treatment: 3, control: 0 }, enrolling: false });
    const rows = await recipients(a.userId, campaign);
    expect(rows.map((r) => r.email)).toEqual(atRisk.slice(0, 3));
    expect(rows.every((r) => r.status === 'pending' && r.arm === 'treatment' && r.messageId)).toBe(true);
  });

  it('activates once: a repeat enrols nothing, counts accumulate, and only a draft can be activated (S23)', async () => {
    const m = await merchant();
    await atRiskCustomers(m.userId, 3, 'once');
    const campaign = await createCampaign(m.userId);
    await call('winback_activate', m.userId, campaign);
    expect(await call('winback_activate', m.userId, campaign)).toEqual({ status: 'active', enrolled: { treatment: 0, control: 0 }, enrolling: false });
    expect(await figures(m.userId, campaign)).toMatchObject({ targeted: 3 });

    // A customer who becomes at risk later is enrolled from the stage change, and the count adds.
    await atRiskCustomers(m.userId, 1, 'later');
    const t = await tick();
    expect(t?.enrolled).toBeGreaterThanOrEqual(1);
    expect(await figures(m.userId, campaign)).toMatchObject({ targeted: 4 });
    expect(await recipients(m.userId, campaign)).toHaveLength(4);

    await call('winback_pause', m.userId, campaign);
    await expect(call('winback_activate', m.userId, campaign)).rejects.toMatchObject({ code: 'HH409' });
  });

  it('enrols each customer once when two activations race (the campaign row lock, then the unique key)', async () => {
    const m = await merchant();
    await atRiskCustomers(m.userId, 5, 'race');
    const campaign = await createCampaign(m.userId);
    const results = await raceOn(pools, 4, (tx) => tx`select private.winback_activate(${m.userId}, ${campaign}) as r`);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(await recipients(m.userId, campaign)).toHaveLength(5);
    expect(await figures(m.userId, campaign)).toMatchObject({ targeted: 5 });
    const [{ n = 0 } = {}] = await db()<{ n: number }[]>`select count(*)::int as n from public.klaviyo_messages where user_id = ${m.userId}`;
    expect(n).toBe(5);
  });

  it('keeps a customer inside one campaign\'s window out of another, so one order is credited once', async () => {
    const m = await merchant();
    await atRiskCustomers(m.userId, 3, 'one-window');
    const first = await createCampaign(m.userId, { holdoutPercent: 0, attributionDays: 30 });
    await call('winback_activate', m.userId, first);
    const second = await createCampaign(m.userId, { name: 'Second' });
    expect(await call('winback_preview', m.userId, second)).toMatchObject({ eligible: 0 });
    // Past the first campaign's window they can be enrolled again.
    const later = new Date(Date.now() + 31 * DAY);
    expect(await withSystem(async (tx) => (await tx<{ r: { eligible: number } }[]>`
      select private.winback_preview(${m.userId}, ${second}, ${later}) as r`)[0]?.r.eligible)).toBe(3);
  });

  it('enrols a large audience in batches after activation, a transaction each, offers spread at 50 a second', async () => {
    const m = await merchant();
    await atRiskCustomers(m.userId, 7, 'batches');
    const campaign = await createCampaign(m.userId, { holdoutPercent: 0 });
    const first = await withSystem(async (tx) => (await tx<{ r: Record<string, unknown> }[]>`
      select private.winback_activate(${m.userId}, ${campaign}, now(), 3) as r`)[0]?.r);
    expect(first).toEqual({ status: 'active', enrolled: { treatment: 3, control: 0 }, enrolling: true });
    expect(await recipients(m.userId, campaign)).toHaveLength(3);
    // The job goes on from where the first batch stopped (and sends what falls due meanwhile).
    await drain();
    await drain();
    expect(await recipients(m.userId, campaign)).toHaveLength(7);
    const [w] = await db()<{ enrolling: boolean }[]>`select enrolling from public.winback_campaigns where id = ${campaign}`;
    expect(w?.enrolling).toBe(false);
    expect(await figures(m.userId, campaign)).toMatchObject({ targeted: 7 });
    const dues = await db()<{ offset: number }[]>`
      select round(extract(epoch from m.due_at - w.activated_at) * 50)::int as offset
        from public.klaviyo_messages m join public.winback_recipients r on r.user_id = m.user_id and r.message_id = m.id
        join public.winback_campaigns w on w.user_id = r.user_id and w.id = r.campaign_id
       where r.campaign_id = ${campaign} order by m.due_at`;
    expect(dues.map((d) => d.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('holds back a deterministic share as control, never contacted', async () => {
    const m = await merchant();
    const emails = await atRiskCustomers(m.userId, 60, 'hold');
    const campaign = await createCampaign(m.userId, { holdoutPercent: 50 });
    const preview = await call<{ treatment: number; control: number }>('winback_preview', m.userId, campaign);
    await call('winback_activate', m.userId, campaign);
    const rows = await recipients(m.userId, campaign);
    const control = rows.filter((r) => r.arm === 'control');
    expect(control.length).toBe(preview.control);
    expect(control.length).toBeGreaterThan(15);
    expect(control.length).toBeLessThan(45);
    expect(control.every((r) => r.status === 'control' && r.messageId === null)).toBe(true);
    // The same customers land in the same group when asked again.
    const again = await withSystem((tx) => tx<{ customerId: string; arm: string }[]>`
      select customer_id, arm from private.winback_candidates(${m.userId}, ${campaign}, ${rows.map((r) => r.customerId)}, now())`);
    expect(again).toHaveLength(0); // already enrolled: not candidates again

    await drain();
    const sent = sentTo(emails);
    expect(sent).toHaveLength(rows.length - control.length);
    const controlEmails = new Set(control.map((r) => r.email));
    expect(sent.some((r) => controlEmails.has(JSON.stringify(r.body).match(/"email":"([^"]+)"/)?.[1] ?? ''))).toBe(false);
    expect(await figures(m.userId, campaign)).toMatchObject({ targeted: rows.length - control.length, control: control.length, sent: sent.length });
  });
});

describe('when the offer goes', () => {
  it('counts the delay from becoming at risk, not from enrolment (S22)', async () => {
    const m = await merchant();
    await atRiskCustomers(m.userId, 1, 'delay-past', { daysAgo: 100 });
    const campaign = await createCampaign(m.userId, { sendDelayDays: 20 });
    await call('winback_activate', m.userId, campaign);
    const [r] = await recipients(m.userId, campaign);
    const [c] = await db()<{ becameAtRiskAt: string }[]>`select became_at_risk_at from public.customers where id = ${r?.customerId ?? ''}`;
    expect(r?.eligibleAt).toBe(c?.becameAtRiskAt);
    expect(new Date(r?.sendAt ?? 0).getTime()).toBe(new Date(c?.becameAtRiskAt ?? 0).getTime() + 20 * DAY);
    const [msg] = await db()<{ dueAt: string }[]>`select due_at from public.klaviyo_messages where id = ${r?.messageId ?? ''}`;
    // At risk since ~day 90 after the order: + 20 days is in the future, and the message waits for it.
    expect(new Date(msg?.dueAt ?? 0).getTime()).toBe(new Date(r?.sendAt ?? 0).getTime());
    expect(new Date(r?.sendAt ?? 0).getTime()).toBeGreaterThan(Date.now());
    await drain();
    expect(sentTo([r?.email ?? ''])).toHaveLength(0);
  });

  it('sends nothing for a paused campaign, and sends on resume (S21)', async () => {
    const m = await merchant();
    const emails = await atRiskCustomers(m.userId, 2, 'pause');
    const campaign = await createCampaign(m.userId, { incentiveType: 'percentage_discount', incentiveValue: 15 });
    await call('winback_activate', m.userId, campaign);
    await call('winback_pause', m.userId, campaign);
    await drain();
    expect(sentTo(emails)).toHaveLength(0);
    const held = await db()<{ status: string; hold: string }[]>`select status, hold from public.klaviyo_messages where user_id = ${m.userId}`;
    expect(held).toEqual([{ status: 'held', hold: 'paused' }, { status: 'held', hold: 'paused' }]);

    expect(await call('winback_resume', m.userId, campaign)).toEqual({ status: 'active', released: 2 });
    await drain();
    const sent = sentTo(emails);
    expect(sent).toHaveLength(2);
    // Each got its own single-use coupon, issued when the offer went, named in the event.
    const rows = await recipients(m.userId, campaign);
    expect(rows.every((r) => r.status === 'sent' && /^WB-[A-Z0-9]{10}$/.test(r.couponCode ?? ''))).toBe(true);
    const codes = sent.map((r) => (r.body as { data: { attributes: { properties: { coupon_code: string } } } }).data.attributes.properties.coupon_code);
    expect(codes.sort()).toEqual(rows.map((r) => r.couponCode).sort());
    const coupons = await db()<{ usageLimit: number; source: string; discountValue: number }[]>`
      select usage_limit, source, discount_value from public.coupons where user_id = ${m.userId} and source = 'winback'`;
    expect(coupons).toEqual([{ usageLimit: 1, source: 'winback', discountValue: 15 }, { usageLimit: 1, source: 'winback', discountValue: 15 }]);
  });

  it('ends at ends_at: what has not gone expires, and the campaign completes (S22)', async () => {
    const m = await merchant(false);
    await atRiskCustomers(m.userId, 2, 'ends');
    const campaign = await createCampaign(m.userId, { endsAt: new Date(Date.now() + 60 * 60 * 1000), holdoutPercent: 0 });
    await call('winback_activate', m.userId, campaign);
    // No key: the messages wait (held), and the end comes first.
    await drain();
    const t = await tick(new Date(Date.now() + 2 * 60 * 60 * 1000));
    expect(t?.completed).toBeGreaterThanOrEqual(1);
    const [w] = await db()<{ status: string }[]>`select status from public.winback_campaigns where id = ${campaign}`;
    expect(w?.status).toBe('completed');
    expect((await recipients(m.userId, campaign)).map((r) => r.status)).toEqual(['expired', 'expired']);
    const msgs = await db()<{ status: string }[]>`select status from public.klaviyo_messages where user_id = ${m.userId}`;
    expect(msgs.map((x) => x.status)).toEqual(['cancelled', 'cancelled']);
  });
});

describe('recovery, opens and clicks', () => {
  it('recovers on a paid order inside the window, in both groups; before the offer cancels; after the window is not a recovery (S23)', async () => {
    const m = await merchant();
    const emails = await atRiskCustomers(m.userId, 40, 'rec');
    const campaign = await createCampaign(m.userId, { holdoutPercent: 50, attributionDays: 30 });
    await call('winback_activate', m.userId, campaign);
    const rows = await recipients(m.userId, campaign);
    const t = rows.filter((r) => r.arm === 'treatment');
    const c = rows.filter((r) => r.arm === 'control');
    const [t1, t2, t3] = t;
    const [c1] = c;
    if (!t1 || !t2 || !t3 || !c1) throw new Error('need both groups');
    const sendAt = (r: typeof t1) => new Date(r.sendAt).getTime();

    await applyOrder(m.userId, { shopOrderId: 'r-t1', email: t1.email, total: 120, orderedAt: new Date(sendAt(t1) + DAY) });
    await applyOrder(m.userId, { shopOrderId: 'r-c1', email: c1.email, total: 70, orderedAt: new Date(sendAt(c1) + 2 * DAY) });
    // t2 orders after the window closed: not a recovery.
    await applyOrder(m.userId, { shopOrderId: 'r-t2', email: t2.email, total: 50, orderedAt: new Date(sendAt(t2) + 31 * DAY) }, new Date());
    // t3 ordered before its offer's moment (a late-arriving order): it came back on its own.
    await applyOrder(m.userId, { shopOrderId: 'r-t3', email: t3.email, total: 40, orderedAt: new Date(sendAt(t3) - DAY) });

    const after = new Map((await recipients(m.userId, campaign)).map((r) => [r.email, r]));
    expect(after.get(t1.email)).toMatchObject({ status: 'recovered', recoveryValue: 120 });
    expect(after.get(c1.email)).toMatchObject({ status: 'control', recoveryValue: 70 });
    expect(after.get(c1.email)?.recoveredAt).not.toBeNull();
    expect(after.get(t2.email)).toMatchObject({ status: 'pending', recoveredAt: null });
    expect(after.get(t3.email)).toMatchObject({ status: 'cancelled', recoveredAt: null });
    expect(await figures(m.userId, campaign)).toMatchObject({ recovered: 1, revenue: 120, controlRecovered: 1, controlRevenue: 70 });

    // A refund inside the window lowers recovered revenue; a cancellation undoes the recovery.
    await applyRefund(m.userId, 'rf-t1', 'r-t1', 20, new Date(sendAt(t1) + 3 * DAY));
    expect(await figures(m.userId, campaign)).toMatchObject({ recovered: 1, revenue: 100 });
    await withSystem((tx) => tx`select private.apply_cancellation(${m.userId}, ${jsonb(tx, { shopOrderId: 'r-c1', cancelledAt: new Date().toISOString() })})`);
    expect(await figures(m.userId, campaign)).toMatchObject({ controlRecovered: 0, controlRevenue: 0 });
    expect((await recipients(m.userId, campaign)).find((r) => r.email === c1.email)).toMatchObject({ status: 'control', recoveredAt: null });

    // The folded totals equal the running figures.
    await withSystem((tx) => tx`select private.compact_winback(100000)`);
    const [w] = await db()<{ customersRecovered: number; revenueRecovered: number; controlRecovered: number }[]>`
      select customers_recovered, revenue_recovered, control_recovered from public.winback_campaigns where id = ${campaign}`;
    expect(w).toEqual({ customersRecovered: 1, revenueRecovered: 100, controlRecovered: 0 });
    expect(emails).toHaveLength(40);
  });

  it('moves a sent recipient to opened and clicked from the storefront\'s tracked clicks, counting each once', async () => {
    const m = await merchant();
    const [a = '', b = ''] = await atRiskCustomers(m.userId, 2, 'click');
    const campaign = await createCampaign(m.userId);
    await call('winback_activate', m.userId, campaign);
    await drain();
    const rows = await recipients(m.userId, campaign);
    const ra = rows.find((r) => r.email === a);
    const rb = rows.find((r) => r.email === b);
    if (!ra || !rb) throw new Error('no recipients');
    expect(ra.status).toBe('sent');
    await trackClick(m.userId, a, ra.id, 'email_open');
    await trackClick(m.userId, a, ra.id, 'email_click');
    await trackClick(m.userId, a, ra.id, 'email_click');
    // b's click carrying a's recipient id moves nothing.
    await trackClick(m.userId, b, ra.id, 'email_click');
    const after = new Map((await recipients(m.userId, campaign)).map((r) => [r.email, r]));
    expect(after.get(a)).toMatchObject({ status: 'clicked' });
    expect(after.get(a)?.openedAt).not.toBeNull();
    expect(after.get(b)).toMatchObject({ status: 'sent', openedAt: null, clickedAt: null });
    expect(await figures(m.userId, campaign)).toMatchObject({ sent: 2, opened: 1, clicked: 1 });
  });
});

describe('results', () => {
  it('computes lift against the holdout with its 95% interval, as a hand calculation does', async () => {
    const m = await merchant();
    const campaign = await createCampaign(m.userId, { holdoutPercent: 50 });
    await db()`update public.winback_campaigns set status = 'active' where id = ${campaign}`;
    // A fixed data set: 40 treatment (10 recovered) and 40 control (4 recovered), all past their moment.
    await db()`
      with c as (
        insert into public.customers (user_id, email)
        select ${m.userId}, 'fixed-' || g || '@example.test' from generate_series(1, 80) g
        returning id, email
      ), n as (select id, (regexp_replace(email, '\\D', '', 'g'))::int as k from c)
      insert into public.winback_recipients (user_id, campaign_id, customer_id, arm, status, eligible_at, send_at, enrolled_at,
                                             message_id, sent_at, recovered_at, recovery_value)
      select ${m.userId}, ${campaign}, n.id, case when n.k <= 40 then 'treatment' else 'control' end,
             case when n.k <= 10 then 'recovered' when n.k <= 40 then 'sent' else 'control' end,
             now() - interval '20 days', now() - interval '10 days', now() - interval '20 days',
             case when n.k <= 40 then gen_random_uuid() end, case when n.k <= 40 then now() - interval '10 days' end,
             case when n.k <= 10 or n.k between 41 and 44 then now() - interval '5 days' end, 0
        from n`;
    const r = await call<{ comparison: Record<string, unknown> }>('winback_results', m.userId, campaign);
    // By hand: Wilson's interval for each share, then Newcombe's for their difference.
    const z = 1.96;
    const wilson = (x: number, n: number) => {
      const p = x / n;
      const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
      const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
      return [centre - half, centre + half] as const;
    };
    const [pt, pc] = [10 / 40, 4 / 40];
    const [lt, ut] = wilson(10, 40);
    const [lc, uc] = wilson(4, 40);
    expect(r.comparison).toMatchObject({
      treatment: { size: 40, recovered: 10, rate: 0.25 },
      control: { size: 40, recovered: 4, rate: 0.1 },
      enoughData: true,
      minimumGroup: 30,
      // The windows (30 days from 10 days ago) are still open for those not yet recovered.
      open: 30 + 36,
    });
    expect(r.comparison.lift).toBeCloseTo(0.15, 6);
    expect(r.comparison.lower).toBeCloseTo(pt - pc - Math.sqrt((pt - lt) ** 2 + (uc - pc) ** 2), 5);
    expect(r.comparison.upper).toBeCloseTo(pt - pc + Math.sqrt((ut - pt) ** 2 + (pc - lc) ** 2), 5);
    // Never zero-width, even when nobody in either group has come back.
    const zero = await withSystem(async (tx) => (await tx<{ w: number[] }[]>`select private.wilson(0, 40)::float8[] as w`)[0]?.w);
    expect(zero?.[1]).toBeGreaterThan(0.05);

    // Below the minimum group size there is no lift to show.
    const few = await withSystem(async (tx) => (await tx<{ r: { comparison: Record<string, unknown> } }[]>`
      select private.winback_results(${m.userId}, ${campaign}, now(), 50) as r`)[0]?.r);
    expect(few?.comparison).toMatchObject({ enoughData: false, lift: null, lower: null, upper: null });
  });
});
