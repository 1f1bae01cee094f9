import { createLocalUser } from '@/lib/auth/local';
import { closeDb, connect, withSystem } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { fmt, machine, timed } from '@/scripts/bench/util';
import { scratchDatabase } from '@/scripts/embedded-postgres';

/**
 * 8 connections place orders that all carry one hot coupon (limit 100,000), through the real
 * private.apply_order: every redemption takes the coupon's row lock, so this measures how fast
 * a single code can be redeemed without overselling, and checks the count is exact.
 */
export async function runCouponsBench(): Promise<string> {
  // Knobs for finding where the time goes (README, env): fewer connections, and the same orders
  // without the coupon (BENCH_COUPON=none), the pipeline's cost with no code to redeem.
  const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
  const withCoupon = process.env.BENCH_COUPON !== 'none';
  const PER_CONNECTION = Number(process.env.BENCH_ORDERS_PER_CONNECTION ?? 1000);
  const scratch = await scratchDatabase('bench_coupons');
  process.env.DATABASE_URL = scratch.url;
  reloadEnv();
  const pool = connect(scratch.url, CONNECTIONS);
  try {
    const merchant = await withSystem((tx) => createLocalUser(tx, 'bench@bench.test', 'bench-password'));
    if (!merchant) throw new Error('no bench merchant');
    await pool`insert into public.coupons (user_id, code, discount_type, discount_value, usage_limit, per_customer_limit)
               values (${merchant.userId}, 'HOT', 'percentage', 10, 100000, null)`;
    const order = (c: number, i: number) => ({
      shopOrderId: `o-${c}-${i}`, email: `c${(c * PER_CONNECTION + i) % 5000}@bench.test`, total: 50,
      orderedAt: new Date().toISOString(), discountCodes: withCoupon ? [{ code: 'HOT' }] : [],
    });
    // A store with some history, analyzed, as autovacuum leaves a database within a minute of
    // filling: plans cached while the tables were empty (a sequential scan of one page, or an
    // index on user_id alone) would scan all of the merchant's rows for every order.
    const WARMUP = 1000;
    await pool.begin((tx) => tx`select private.apply_order(${merchant.userId}, o.v)
      from jsonb_array_elements(${tx.json(Array.from({ length: WARMUP }, (_, i) => ({ ...order(CONNECTIONS, i), shopOrderId: `warm-${i}` })))}) as o(v)`);
    await pool`analyze`;
    const run = await timed(() => Promise.all(Array.from({ length: CONNECTIONS }, (_, c) =>
      pool.reserve().then(async (conn) => {
        try {
          for (let i = 0; i < PER_CONNECTION; i++) await conn`select private.apply_order(${merchant.userId}, ${conn.json(order(c, i))})`;
        } finally {
          conn.release();
        }
      }))));
    const [r] = await pool<{ usageCount: number; accepted: number; status: string }[]>`
      select c.usage_count, c.status,
             (select count(*)::int from public.coupon_uses u where u.coupon_id = c.id and u.status = 'accepted') as accepted
        from public.coupons_counted c where c.code = 'HOT'`;
    const total = CONNECTIONS * PER_CONNECTION + WARMUP;
    const perSec = (CONNECTIONS * PER_CONNECTION) / (run.ms / 1000);
    const expected = withCoupon ? total : 0;
    const exact = r?.usageCount === expected && r.accepted === expected;
    const what = withCoupon ? 'all redeeming one coupon (limit 100,000)' : 'none carrying a coupon (`BENCH_COUPON=none`: the pipeline without a redemption)';
    const unit = withCoupon ? 'redemptions/s' : 'orders/s';
    return [
      `## coupons (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. Reproduce: \`npm run bench -- coupons\`.`,
      '',
      '| measure | result | target | |',
      '| --- | --- | --- | --- |',
      `| ${CONNECTIONS} connections, ${fmt(CONNECTIONS * PER_CONNECTION, 0)} orders through \`apply_order\` (after ${WARMUP} warm-up orders and \`analyze\`), ${what} | ${fmt(perSec, 0)} ${unit} | ≥ 1,000/s | ${perSec >= 1000 ? 'met' : '**not met**'} |`,
      `| final count | usage_count ${fmt(r?.usageCount ?? 0, 0)}, accepted uses ${fmt(r?.accepted ?? 0, 0)} of ${fmt(expected, 0)} | exact | ${exact ? 'met' : '**not met**'} |`,
    ].join('\n');
  } finally {
    await pool.end();
    await closeDb();
    await scratch.drop();
  }
}
