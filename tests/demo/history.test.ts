import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '@/lib/db';
import { seedHistory } from '@/lib/demo/history';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

let m: TestMerchant;

beforeAll(async () => {
  m = await createMerchant('demo');
  await seedHistory(db(), m.userId, { customers: 400, months: 12 });
}, 120_000);

describe('the demo history tells a story a merchant would believe', () => {
  it('every code is used, gives a discount the shop reported, and is rarely refused', async () => {
    const coupons = await db()<{ code: string; usageCount: number; rejectedCount: number; totalDiscountAmount: number; usageLimit: number | null; status: string }[]>`
      select code, usage_count, rejected_count, total_discount_amount, usage_limit, status
        from public.coupons_counted where user_id = ${m.userId} and source = 'manual' order by code`;
    expect(coupons.map((c) => c.code)).toEqual(['FREESHIP', 'VIP20', 'WELCOME10']);
    for (const c of coupons) {
      expect(c.usageCount).toBeGreaterThan(0);
      expect(c.totalDiscountAmount).toBeGreaterThan(0);
      expect(c.rejectedCount).toBeLessThanOrEqual(Math.ceil(c.usageCount * 0.05));
      expect(c.status).toBe('active');
    }
    const freeShip = coupons.find((c) => c.code === 'FREESHIP');
    expect(freeShip?.totalDiscountAmount).toBeCloseTo((freeShip?.usageCount ?? 0) * 7.5, 2);
    const vip = coupons.find((c) => c.code === 'VIP20');
    expect(vip?.usageCount).toBeLessThan(vip?.usageLimit ?? 0);
  });

  it('order totals are what the shop charged: the lines, less the code, plus shipping unless it was free', async () => {
    const orders = await db()<{ subtotal: number; total: number; discount: number | null; type: string | null }[]>`
      select o.subtotal, o.total, d.amount as discount, d.type
        from public.orders o
        left join public.order_discount_codes d on d.user_id = o.user_id and d.order_id = o.id
       where o.user_id = ${m.userId}`;
    expect(orders.length).toBeGreaterThan(100);
    for (const o of orders) {
      const expected = o.type === 'shipping' ? o.subtotal : o.subtotal - (o.discount ?? 0) + 7.5;
      expect(o.total).toBeCloseTo(expected, 2);
    }
  });
});

describe('the demo loyalty program is alive on first run', () => {
  it('has members in several tiers, redemptions, referrals in each state, birthdays and expired points', async () => {
    const [f] = await db()<{ members: number; tiers: number; redemptions: number; birthdays: number; expired: number; signups: number }[]>`
      select (select count(*)::int from public.loyalty_members where user_id = ${m.userId}) as members,
             (select count(distinct tier_id)::int from public.loyalty_members where user_id = ${m.userId}) as tiers,
             (select count(*)::int from public.reward_redemptions where user_id = ${m.userId}) as redemptions,
             (select count(*)::int from public.points_transactions where user_id = ${m.userId} and type = 'earn_birthday') as birthdays,
             (select count(*)::int from public.points_transactions where user_id = ${m.userId} and type = 'expire') as expired,
             (select count(*)::int from public.points_transactions where user_id = ${m.userId} and type = 'earn_signup') as signups`;
    expect(f?.members).toBeGreaterThan(100);
    expect(f?.tiers).toBeGreaterThanOrEqual(2);
    expect(f?.redemptions).toBeGreaterThan(10);
    expect(f?.birthdays).toBeGreaterThanOrEqual(3);
    expect(f?.expired).toBeGreaterThan(0);
    expect(f?.signups).toBeGreaterThan(10);
    // Every ledger reads in time order, as one written as things happened does.
    const [back] = await db()<{ n: number }[]>`
      select count(*)::int as n from (
        select created_at < lag(created_at) over (partition by customer_id order by seq) as back
          from public.points_transactions where user_id = ${m.userId}) x
       where back`;
    expect(back?.n).toBe(0);
    const statuses = await db()<{ status: string }[]>`select distinct status from public.referrals where user_id = ${m.userId} order by status`;
    expect(statuses.map((r) => r.status)).toEqual(['converted', 'pending', 'rejected']);
  });
});

describe('the demo win-back campaigns are alive on first run', () => {
  it('has a finished campaign with a held-back group and recoveries in both, and an active one whose new offers wait for a key', async () => {
    const campaigns = await db()<{ id: string; name: string; status: string; holdoutPercent: number }[]>`
      select id, name, status, holdout_percent from public.winback_campaigns where user_id = ${m.userId} order by created_at`;
    expect(campaigns.map((c) => [c.name, c.status])).toEqual([['Spring win-back', 'completed'], ['Big spenders, come back', 'active']]);
    const [done] = campaigns;
    const [f] = await db()<{ targeted: number; control: number; sent: number; opened: number; clicked: number; recovered: number; controlRecovered: number }[]>`
      select targeted, control, sent, opened, clicked, recovered, control_recovered
        from private.winback_campaign_figures(${m.userId}, ${[done?.id ?? '']})`;
    expect(f?.targeted).toBeGreaterThan(20);
    expect(f?.control).toBeGreaterThan(3);
    expect(f?.sent).toBeGreaterThan(10);
    expect(f?.opened).toBeGreaterThan(0);
    expect(f?.clicked).toBeGreaterThan(0);
    expect(f?.clicked).toBeLessThanOrEqual(f?.opened ?? 0);
    expect(f?.recovered).toBeGreaterThan(0);
    // Nothing of the finished campaign is left waiting, and no key means nothing more is sent.
    const [left] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.winback_recipients where user_id = ${m.userId} and campaign_id = ${done?.id ?? ''} and status = 'pending'`;
    expect(left?.n).toBe(0);
    const [key] = await db()<{ n: number }[]>`select count(*)::int as n from public.merchant_credentials where user_id = ${m.userId} and provider = 'klaviyo'`;
    expect(key?.n).toBe(0);
  });
});

describe('the demo gifts are alive on first run', () => {
  it('has gifts in each state, from orders and from the dashboard, claimed ones with their coupons, and one to claim now', async () => {
    const rows = await db()<{ status: string; origin: string; n: number }[]>`
      select status, origin, count(*)::int as n from public.gifts where user_id = ${m.userId} group by 1, 2 order by 1, 2`;
    const statuses = new Set(rows.map((r) => r.status));
    expect([...statuses].sort()).toEqual(['cancelled', 'claimed', 'delivered', 'expired', 'pending']);
    expect(new Set(rows.map((r) => r.origin))).toEqual(new Set(['dashboard', 'order']));
    const [c] = await db()<{ claimed: number; withCoupon: number; leads: number; held: number; scheduled: number }[]>`
      select (select count(*)::int from public.gifts where user_id = ${m.userId} and status = 'claimed') as claimed,
             (select count(*)::int from public.gifts where user_id = ${m.userId} and status = 'claimed' and coupon_id is not null) as with_coupon,
             (select count(*)::int from public.touchpoints where user_id = ${m.userId} and reference_type = 'gift') as leads,
             (select count(*)::int from public.klaviyo_messages where user_id = ${m.userId} and source = 'gift' and status = 'pending' and due_at <= now()) as held,
             (select count(*)::int from public.gifts where user_id = ${m.userId} and status = 'pending' and scheduled_delivery_at > now()) as scheduled`;
    expect(c?.claimed).toBeGreaterThanOrEqual(3);
    expect(c?.withCoupon).toBeGreaterThanOrEqual(2);
    expect(c?.leads).toBe(c?.claimed);
    // One announcement waits for a key (the worker holds it on its first look), one is due next week.
    expect(c?.held).toBeGreaterThanOrEqual(1);
    expect(c?.scheduled).toBe(1);
    const [link] = await db()<{ n: number }[]>`
      select count(*)::int as n from public.gifts where user_id = ${m.userId} and status = 'delivered' and delivered_via = 'link'
         and recipient_email = 'sam.rivera@demo-giftee.test'`;
    expect(link?.n).toBe(1);
  });
});
