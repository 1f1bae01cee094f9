import { createLocalUser } from '@/lib/auth/local';
import { closeDb, connect, withSystem, type Sql } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { fmt, machine, timed } from '@/scripts/bench/util';
import { scratchDatabase } from '@/scripts/embedded-postgres';

/** The share of samples (every 10 ms) in which a client backend of this database waited on a heavyweight lock. */
async function sampleLockWaits<T>(pool: Sql, work: () => Promise<T>): Promise<{ value: T; waiting: number }> {
  let stop = false;
  let samples = 0;
  let waiting = 0;
  const sampler = (async () => {
    while (!stop) {
      const [s] = await pool<{ all: number; waiting: number }[]>`
        select count(*)::int as all, count(*) filter (where wait_event_type = 'Lock')::int as waiting
          from pg_stat_activity
         where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()
           and state = 'active'`;
      samples += s?.all ?? 0;
      waiting += s?.waiting ?? 0;
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const value = await work();
  stop = true;
  await sampler;
  return { value, waiting: samples > 0 ? waiting / samples : 0 };
}

/**
 * 8 connections place orders through the real private.apply_order, all carrying one hot coupon
 * (limit 100,000), and then the same number without a code, and one connection does both again:
 * how fast one code can be redeemed without overselling, its share of the pipeline's own pace
 * against the share its work alone costs, how often an order waited on a lock (sampled), and
 * that the count is exact.
 */
export async function runCouponsBench(): Promise<string> {
  // Knobs for finding where the time goes (README, env).
  const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
  const PER_CONNECTION = Number(process.env.BENCH_ORDERS_PER_CONNECTION ?? 1000);
  const scratch = await scratchDatabase('bench_coupons');
  process.env.DATABASE_URL = scratch.url;
  reloadEnv();
  const pool = connect(scratch.url, CONNECTIONS + 1);
  try {
    const merchant = await withSystem((tx) => createLocalUser(tx, 'bench@bench.test', 'bench-password'));
    if (!merchant) throw new Error('no bench merchant');
    await pool`insert into public.coupons (user_id, code, discount_type, discount_value, usage_limit, per_customer_limit)
               values (${merchant.userId}, 'HOT', 'percentage', 10, 100000, null)`;
    // Each run's shoppers are new to the store, so both runs do the same work but the code's.
    // Connections c and c + 5 share shoppers (5,000 of them), so some orders wait on their
    // customer's row in either run: the code's own waits are what the hot run adds.
    const order = (run: string, c: number, i: number, code: boolean) => ({
      shopOrderId: `${run}-${c}-${i}`, email: `${run}${(c * PER_CONNECTION + i) % 5000}@bench.test`, total: 50,
      orderedAt: new Date().toISOString(), discountCodes: code ? [{ code: 'HOT' }] : [],
    });
    // A store with some history, analyzed, as autovacuum leaves a database within a minute of
    // filling: plans cached while the tables were empty (a sequential scan of one page, or an
    // index on user_id alone) would scan all of the merchant's rows for every order.
    const WARMUP = 1000;
    await pool.begin((tx) => tx`select private.apply_order(${merchant.userId}, o.v)
      from jsonb_array_elements(${tx.json(Array.from({ length: WARMUP }, (_, i) => order('warm', CONNECTIONS, i, true)))}) as o(v)`);
    await pool`analyze`;
    // Runs of a quarter each, taking turns, so a machine's drift during the suite falls on both.
    const ROUNDS = 4;
    const per = Math.ceil(PER_CONNECTION / ROUNDS);
    const place = (run: string, code: boolean, connections: number, round: number) => sampleLockWaits(pool, () => timed(() => Promise.all(
      Array.from({ length: connections }, (_, c) => pool.reserve().then(async (conn) => {
        try {
          for (let i = round * per; i < Math.min(PER_CONNECTION, (round + 1) * per); i++) {
            await conn`select private.apply_order(${merchant.userId}, ${conn.json(order(run, c, i, code))})`;
          }
        } finally {
          conn.release();
        }
      })))));
    const total = { hot: { ms: 0, waiting: 0 }, plain: { ms: 0, waiting: 0 }, hotAlone: { ms: 0, waiting: 0 }, plainAlone: { ms: 0, waiting: 0 } };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [key, run, code, connections] of [
        ['hot', 'hot', true, CONNECTIONS], ['plain', 'plain', false, CONNECTIONS],
        // One connection: what the code's own work costs an order, with no one to wait for.
        ['hotAlone', 'hot1-', true, 1], ['plainAlone', 'plain1-', false, 1],
      ] as const) {
        const r = await place(run, code, connections, round);
        total[key].ms += r.value.ms;
        total[key].waiting += r.waiting / ROUNDS;
      }
    }
    const { hot, plain, hotAlone, plainAlone } = total;
    const [r] = await pool<{ usageCount: number; accepted: number }[]>`
      select c.usage_count,
             (select count(*)::int from public.coupon_uses u where u.coupon_id = c.id and u.status = 'accepted') as accepted
        from public.coupons_counted c where c.code = 'HOT'`;
    const orders = CONNECTIONS * PER_CONNECTION;
    const expected = orders + PER_CONNECTION + WARMUP;
    const hotPerSec = orders / (hot.ms / 1000);
    const plainPerSec = orders / (plain.ms / 1000);
    const share = hotPerSec / plainPerSec;
    const shareAlone = plainAlone.ms / hotAlone.ms;
    const exact = r?.usageCount === expected && r.accepted === expected;
    const pct = (x: number) => `${fmt(x * 100, 1)}%`;
    const met = (ok: boolean) => (ok ? 'met' : '**not met**');
    return [
      `## coupons (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. Reproduce: \`npm run bench -- coupons\`. ${CONNECTIONS} connections, ${fmt(orders, 0)} orders a run through \`apply_order\`, after ${WARMUP} warm-up orders and \`analyze\`; each run's shoppers new to the store; the four runs take turns in quarters. The absolute target was set on a 2-core Intel Xeon; the shares below hold on any machine: with no one waiting for the code, ${CONNECTIONS} connections keep the share of one.`,
      '',
      '| measure | result | target | |',
      '| --- | --- | --- | --- |',
      `| one hot coupon: every order redeeming it (limit 100,000) | ${fmt(hotPerSec, 0)} redemptions/s | ≥ 1,000/s | ${met(hotPerSec >= 1000)} |`,
      `| the same orders without a code | ${fmt(plainPerSec, 0)} orders/s | (the pipeline's own pace) | |`,
      `| hot coupon against no code, ${CONNECTIONS} connections | ${pct(share)} | ≥ 90% of the share on 1 connection | ${met(share >= 0.9 * shareAlone)} |`,
      `| hot coupon against no code, 1 connection (${fmt(PER_CONNECTION, 0)} orders each; the code's own work) | ${pct(shareAlone)} | | |`,
      `| active backends waiting on a lock (sampled every 10 ms), hot coupon / no code | ${pct(hot.waiting)} / ${pct(plain.waiting)} | hot ≤ no code + 2 points | ${met(hot.waiting <= plain.waiting + 0.02)} |`,
      `| final count | usage_count ${fmt(r?.usageCount ?? 0, 0)}, accepted uses ${fmt(r?.accepted ?? 0, 0)} of ${fmt(expected, 0)} | exact | ${met(exact)} |`,
    ].join('\n');
  } finally {
    await pool.end();
    await closeDb();
    await scratch.drop();
  }
}
