import { closeDb, connect, db, withSystem, withTenant } from '@/lib/db';
import { loyaltyDashboard } from '@/lib/loyalty/dashboard';
import { benchMerchant, benchOrders } from '@/scripts/bench/journey';
import { fmt, machine, percentile, timed } from '@/scripts/bench/util';
import { freePort } from '@/scripts/embedded-postgres';

/**
 * Enrol up to `limit` of a merchant's customers with orders (in id order, so a random sample of
 * them) in the shape the ledger functions write: one earned row and lot each, chained from zero;
 * a third with a birthday spread over the year; one lot in a hundred expiring within a day (the
 * cron's expiry work). Tiers are assigned by the set-based refresh, and 2,000 real redemptions
 * are made; the rollups fill from the tables' own triggers.
 */
export async function enrolMembers(userId: string, limit: number): Promise<void> {
  const sql = db();
  await sql`
    insert into public.loyalty_members (user_id, customer_id, points_balance, points_earned, last_seq, referral_code, joined_at, birthday)
    select c.user_id, c.id, 40 * c.total_orders, 40 * c.total_orders, 1,
           -- 16 hex digits: 10 collided about once in fifty runs at 200,000 members.
           upper(substr(md5(c.id::text), 1, 16)), c.created_at,
           case when get_byte(decode(md5(c.email), 'hex'), 0) % 3 = 0
                then date '1990-01-01' + get_byte(decode(md5(c.email), 'hex'), 1) + get_byte(decode(md5(c.email), 'hex'), 2) % 110 end
      from public.customers c where c.user_id = ${userId} and c.total_orders > 0 order by c.id limit ${limit}`;
  await sql`
    insert into public.points_transactions (user_id, customer_id, seq, type, points, balance_before, balance_after, source, created_at)
    select m.user_id, m.customer_id, 1, 'earn_purchase', m.points_balance, 0, m.points_balance, 'bench:' || m.customer_id, m.joined_at
      from public.loyalty_members m where m.user_id = ${userId}`;
  await sql`
    insert into public.points_lots (user_id, customer_id, seq, points, remaining, expires_at)
    select m.user_id, m.customer_id, 1, m.points_balance, m.points_balance,
           case when get_byte(decode(md5(m.customer_id::text), 'hex'), 0) < 3 then now() + interval '12 hours' end
      from public.loyalty_members m where m.user_id = ${userId}`;
  await withSystem((tx) => tx`select private.loyalty_refresh_tiers(${userId})`);
  await sql`
    insert into public.loyalty_rewards (user_id, name, points_cost, reward_type, reward_value)
    values (${userId}, 'Bench $5', 100, 'fixed_discount', 5)`;
  await sql`
    select private.loyalty_redeem(${userId}, m.customer_id, r.id)
      from (select customer_id from public.loyalty_members where user_id = ${userId} and points_balance >= 100 limit 2000) m,
           public.loyalty_rewards r where r.user_id = ${userId}`;
}

/** A program with `members` members, each a customer with one to six orders. */
async function load(userId: string, members: number): Promise<void> {
  await db()`
    insert into public.customers (user_id, email, stage, total_orders, lifetime_value, created_at)
    select ${userId}, 'c' || g || '@bench.test', 'customer', 1 + g % 6, (1 + g % 6) * 40, now() - make_interval(days => g % 700)
      from generate_series(1, ${members}) g`;
  await enrolMembers(userId, members);
  await db()`vacuum analyze`;
}

/** Bonus points on 8 connections at once, each for its own members: the ledger's write rate. */
async function benchEarn(userId: string): Promise<{ perSec: number; earns: number }> {
  const CONNECTIONS = 8;
  const pool = connect(process.env.DATABASE_URL ?? '', CONNECTIONS);
  try {
    const ids = (await db()<{ customerId: string }[]>`
      select customer_id from public.loyalty_members where user_id = ${userId} order by customer_id limit ${CONNECTIONS * 500}`).map((r) => r.customerId);
    // Each connection its own members (500 each, fewer on a small data set).
    const PER = Math.floor(ids.length / CONNECTIONS);
    const run = await timed(() => Promise.all(Array.from({ length: CONNECTIONS }, (_, c) => pool.reserve().then(async (conn) => {
      try {
        for (let i = 0; i < PER; i++) {
          await conn`select private.loyalty_earn(${userId}, ${ids[c * PER + i] ?? ''}, 'earn_bonus', 10, null, 'bench')`;
        }
      } finally {
        conn.release();
      }
    }))));
    return { perSec: (CONNECTIONS * PER) / (run.ms / 1000), earns: CONNECTIONS * PER };
  } finally {
    await pool.end();
  }
}

export async function runLoyaltyBench(): Promise<string> {
  const members = Number(process.env.BENCH_MEMBERS ?? 200_000);
  const { scratch, env, userId } = await benchMerchant('bench_loyalty');
  try {
    await withSystem((tx) => tx`select private.loyalty_setup(${userId})`);
    const [settings] = await db()<{ webhookKey: string }[]>`select webhook_key from public.merchant_settings where user_id = ${userId}`;

    console.log(`loading ${fmt(members, 0)} members...`);
    const loadTime = await timed(() => load(userId, members));
    console.log(`loaded in ${fmt(loadTime.ms / 1000)} s; dashboard...`);
    for (let i = 0; i < 20; i++) await withTenant(userId, (tx) => loyaltyDashboard(tx, userId));
    const times: number[] = [];
    for (let i = 0; i < 200; i++) times.push((await timed(() => withTenant(userId, (tx) => loyaltyDashboard(tx, userId)))).ms);
    const dashboard = await withTenant(userId, (tx) => loyaltyDashboard(tx, userId));
    const [direct] = await db()<{ balance: number; members: number }[]>`
      select coalesce(sum(points_balance), 0)::int as balance, count(*)::int as members from public.loyalty_members where user_id = ${userId}`;
    const exact = dashboard.totals.outstanding === direct?.balance && dashboard.members === direct.members;

    console.log('earn on 8 connections...');
    const earn = await benchEarn(userId);

    console.log('order webhooks: program off, on with referral codes, off again...');
    // Off, on, off: the figure without the program is the mean of the runs either side, so a
    // machine warming up or slowing down does not favour one side.
    await db()`update public.loyalty_programs set enabled = false where user_id = ${userId}`;
    const off1 = await benchOrders(userId, settings?.webhookKey ?? '', await freePort(), env, { prefix: 'off' });
    await db()`update public.loyalty_programs set enabled = true where user_id = ${userId}`;
    // One order in ten carries a member's referral code, as a shop's note attribute.
    const codes = (await db()<{ code: string }[]>`
      select referral_code as code from public.loyalty_members where user_id = ${userId} order by customer_id desc limit 50`).map((r) => r.code);
    // A port of its own: the first run's server may still be closing.
    const on = await benchOrders(userId, settings?.webhookKey ?? '', await freePort(), env, {
      prefix: 'on', noteAttributes: (c, i) => ((c * 250 + i) % 10 === 0 ? { referral_code: codes[(c + i) % codes.length] ?? '' } : undefined),
    });
    const [referrals] = await db()<{ n: number }[]>`select count(*)::int as n from public.referrals where user_id = ${userId}`;
    await db()`update public.loyalty_programs set enabled = false where user_id = ${userId}`;
    const off2 = await benchOrders(userId, settings?.webhookKey ?? '', await freePort(), env, { prefix: 'off2' });
    const off = { perSec: (off1.perSec + off2.perSec) / 2, applied: off1.applied + off2.applied };

    const ok = (b: boolean) => (b ? 'met' : '**not met**');
    const p95 = percentile(times, 95);
    const ratio = on.perSec / off.perSec;
    return [
      `## loyalty (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. Data: ${fmt(members, 0)} members with a ledger each, 2,000 redemptions (loaded in ${fmt(loadTime.ms / 1000)} s). Reproduce: \`npm run bench -- loyalty\` (\`BENCH_MEMBERS\` to scale).`,
      '',
      '| measure | result | target | |',
      '| --- | --- | --- | --- |',
      `| loyalty dashboard (\`GET /api/loyalty/dashboard\` service, 200 runs) | p50 ${fmt(percentile(times, 50))} ms, p95 ${fmt(p95)} ms | p95 < 50 ms | ${ok(p95 < 50)} |`,
      `| dashboard figures against the members table (outstanding points, members) | ${exact ? 'equal' : 'different'} | exact | ${ok(exact)} |`,
      `| earn (\`loyalty_earn\`, bonus points), 8 connections, ${fmt(earn.earns, 0)} members | ${fmt(earn.perSec, 0)} earns/s | | |`,
      `| order webhooks over HTTP, 8 clients, 2,000 orders, program off (the journey, trends and coupons handlers), run before and after | ${fmt(off1.perSec, 0)} and ${fmt(off2.perSec, 0)} orders/s, ${fmt(off.applied, 0)} applied | | |`,
      `| the same with the program on: purchase points, tiers, and one order in ten carrying a referral code (${fmt(referrals?.n ?? 0, 0)} referrals recorded) | ${fmt(on.perSec, 0)} orders/s, ${fmt(on.applied, 0)} applied; ${fmt(ratio * 100)}% of the runs without | ≥ 80% | ${ok(ratio >= 0.8 && on.applied === on.orders)} |`,
    ].join('\n');
  } finally {
    await closeDb();
    await scratch.drop();
  }
}
