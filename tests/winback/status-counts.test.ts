import { describe, expect, it } from 'vitest';
import { db, withSystem, withTenant } from '@/lib/db';
import { listRecipients } from '@/lib/winback/service';
import { applyOrder } from '@/tests/helpers/journey';
import { createMerchant } from '@/tests/helpers/merchants';
import { atRiskCustomers, call, createCampaign } from '@/tests/helpers/winback';

/**
 * The recipients page's counts by status are kept as recipients change (statement triggers
 * append deltas, the rollups cron folds them), not counted on each page: after every kind of
 * change, folded or not, they equal a count of the recipients.
 */
describe('recipients counted by status', () => {
  it('stay equal to a count through enrolment, a recovery, an erasure, a deleted customer, a fold and the end of the campaign', async () => {
    const m = await createMerchant('winback-counts');
    const emails = await atRiskCustomers(m.userId, 12, 'counts');
    const id = await createCampaign(m.userId, { holdoutPercent: 30 });
    const kept = async () => (await withTenant(m.userId, (tx) => listRecipients(tx, m.userId, id, { limit: 50 }))).counts;
    const counted = async () => Object.fromEntries((await db()<{ status: string; n: number }[]>`
      select status, count(*)::int as n from public.winback_recipients where user_id = ${m.userId} and campaign_id = ${id} group by status`)
      .map((r) => [r.status, r.n]));
    const seen: Record<string, number>[] = [];
    const check = async () => {
      const now = await counted();
      expect(await kept()).toEqual(now);
      seen.push(now);
    };

    await call('winback_activate', m.userId, id);
    await check();
    // A treatment recipient buys: recovered.
    const [buyer] = await db()<{ email: string }[]>`
      select c.email from public.winback_recipients r join public.customers c on c.user_id = r.user_id and c.id = r.customer_id
       where r.user_id = ${m.userId} and r.campaign_id = ${id} and r.arm = 'treatment' order by c.email limit 1`;
    await applyOrder(m.userId, { shopOrderId: 'counts-back', email: buyer?.email ?? '', total: 50, orderedAt: new Date() });
    await check();
    // A pending recipient's data is erased: the offer stops (unsubscribed).
    const [erased] = await db()<{ email: string }[]>`
      select c.email from public.winback_recipients r join public.customers c on c.user_id = r.user_id and c.id = r.customer_id
       where r.user_id = ${m.userId} and r.campaign_id = ${id} and r.status = 'pending' order by c.email limit 1`;
    await withSystem((tx) => tx`select private.shopper_erase(${m.userId}, ${erased?.email ?? ''})`);
    await check();
    // A control recipient's customer is deleted (as a shop's redaction deletes them): the enrolment goes with it.
    await db()`
      delete from public.customers where user_id = ${m.userId} and id = (
        select customer_id from public.winback_recipients where user_id = ${m.userId} and campaign_id = ${id} and arm = 'control' order by id limit 1)`;
    await check();
    await withSystem((tx) => tx`select private.compact_winback_statuses(100000)`);
    await check();
    await call('winback_complete', m.userId, id);
    await check();

    expect(seen[0]).toMatchObject({ pending: expect.any(Number), control: expect.any(Number) });
    expect(Object.values(seen[0] ?? {}).reduce((a, b) => a + b, 0)).toBe(emails.length);
    expect(seen[1]?.recovered).toBe(1);
    expect(seen[2]?.unsubscribed).toBe(1);
    expect(Object.values(seen[3] ?? {}).reduce((a, b) => a + b, 0)).toBe(emails.length - 1);
    expect(seen[5]?.pending).toBeUndefined();
  });
});
