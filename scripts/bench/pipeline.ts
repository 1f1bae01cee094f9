import { createLocalUser } from '@/lib/auth/local';
import { closeDb, connect, withSystem } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { fmt, machine } from '@/scripts/bench/util';
import { scratchDatabase } from '@/scripts/embedded-postgres';

/**
 * Where one order's time goes: 2,000 orders on one connection through `private.apply_order`
 * (one coupon each, the loyalty program on: every module's handler does its work), with
 * Postgres counting each SQL function's calls and time (`track_functions`). Self time is the
 * function's own statements, without the functions it calls; triggers are functions too, so a
 * statement trigger that fires on every write of a customer shows as its own row.
 */
export async function runPipelineBench(): Promise<string> {
  const ORDERS = Number(process.env.BENCH_ORDERS ?? 2000);
  const scratch = await scratchDatabase('bench_pipeline');
  process.env.DATABASE_URL = scratch.url;
  reloadEnv();
  const sql = connect(scratch.url, 1);
  try {
    const merchant = await withSystem((tx) => createLocalUser(tx, 'bench@bench.test', 'bench-password'));
    if (!merchant) throw new Error('no bench merchant');
    const userId = merchant.userId;
    await withSystem((tx) => tx`select private.loyalty_setup(${userId})`);
    await sql`insert into public.coupons (user_id, code, discount_type, discount_value, usage_limit, per_customer_limit)
              values (${userId}, 'HOT', 'percentage', 10, 1000000, null)`;
    const order = (id: string, i: number) => ({
      shopOrderId: id, email: `c${i % 5000}@bench.test`, total: 50, orderedAt: new Date().toISOString(), discountCodes: [{ code: 'HOT' }],
    });
    // A store with some history, analyzed (as in the coupons suite).
    for (let i = 0; i < 1000; i++) await sql`select private.apply_order(${userId}, ${sql.json(order(`warm-${i}`, i))})`;
    await sql`analyze`;
    await sql`select pg_stat_reset()`;
    await sql`set track_functions = 'all'`;
    const started = performance.now();
    for (let i = 0; i < ORDERS; i++) await sql`select private.apply_order(${userId}, ${sql.json(order(`o-${i}`, i))})`;
    const perOrder = (performance.now() - started) / ORDERS;
    await sql`set track_functions = 'none'`;
    // Statistics reach the shared view when the backend reports them: now, for this one (PG 15+).
    await sql`select pg_stat_force_next_flush()`;
    const functions = await sql<{ fn: string; calls: number; totalMs: number; selfMs: number }[]>`
      select schemaname || '.' || funcname as fn, calls::int, total_time / ${ORDERS} as total_ms, self_time / ${ORDERS} as self_ms
        from pg_stat_user_functions where calls > 0 order by self_time desc limit 15`;
    const writes = await sql<{ table: string; inserts: number; updates: number }[]>`
      select relname as table, n_tup_ins::int as inserts, n_tup_upd::int as updates
        from pg_stat_user_tables where n_tup_ins + n_tup_upd > 0 order by n_tup_ins + n_tup_upd desc limit 8`;
    const perOrderCount = (n: number) => fmt(n / ORDERS, 2);
    return [
      `## pipeline (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. Reproduce: \`npm run bench -- pipeline\`. ${fmt(ORDERS, 0)} orders on one connection through \`private.apply_order\`, each with a coupon, the loyalty program on: ${fmt(perOrder, 2)} ms an order, call included. Where the time goes, per order (the 15 functions with the most self time):`,
      '',
      '| function | calls an order | total ms | self ms |',
      '| --- | --- | --- | --- |',
      ...functions.map((f) => `| \`${f.fn}\` | ${perOrderCount(f.calls)} | ${fmt(f.totalMs, 3)} | ${fmt(f.selfMs, 3)} |`),
      '',
      'Rows written, per order:',
      '',
      '| table | inserted | updated |',
      '| --- | --- | --- |',
      ...writes.map((w) => `| \`${w.table}\` | ${perOrderCount(w.inserts)} | ${perOrderCount(w.updates)} |`),
    ].join('\n');
  } finally {
    await sql.end();
    await closeDb();
    await scratch.drop();
  }
}
