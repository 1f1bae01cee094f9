import { createLocalUser } from '@/lib/auth/local';
import { closeDb, connect, type Sql, withSystem, withTenant } from '@/lib/db';
import { reloadEnv } from '@/lib/env';
import { giftCodeHash, mintGiftCode } from '@/lib/gifts/codes';
import { giftStats, listGifts } from '@/lib/gifts/service';
import { fmt, machine, percentile, timed } from '@/scripts/bench/util';
import { scratchDatabase } from '@/scripts/embedded-postgres';

/**
 * `gifts` gifts over a year, newest last: a fifth claimed, a tenth cancelled, a tenth expired,
 * the rest delivered or (the newest thousand) pending, each with the announcement it would have.
 */
export async function loadGifts(sql: Sql, userId: string, gifts: number): Promise<void> {
  await sql`
    insert into public.gifts (user_id, origin, recipient_email, recipient_name, sender_name, message, value, currency, status,
                              delivered_at, delivered_via, claimed_at, cancelled_at, expires_at, created_at)
    select ${userId}, 'dashboard', 'r' || g || '@bench.test', 'Recipient ' || g, 'Sender ' || g, 'A message', 10 + g % 50, 'USD', s.status,
           case when s.status in ('delivered', 'claimed', 'expired') then t.at + interval '1 hour' end,
           case when s.status in ('delivered', 'claimed', 'expired') then 'klaviyo' end,
           case when s.status = 'claimed' then t.at + interval '2 days' end,
           case when s.status = 'cancelled' then t.at + interval '1 day' end,
           t.at + interval '400 days', t.at
      from generate_series(1, ${gifts}) g
      cross join lateral (select now() - make_interval(secs => (${gifts} - g) * 150) as at) t
      cross join lateral (select case when g % 5 = 0 then 'claimed' when g % 10 = 1 then 'cancelled' when g % 10 = 3 then 'expired'
                                      when g > ${gifts} - 1000 then 'pending' else 'delivered' end as status) s`;
  await sql`
    insert into public.klaviyo_messages (user_id, source, source_id, profile, metric, status, sent_at, due_at, created_at)
    select g.user_id, 'gift', g.id, jsonb_build_object('email', g.recipient_email), 'Gift Received',
           case when g.delivered_at is null then 'cancelled' else 'sent' end, g.delivered_at, g.created_at, g.created_at
      from public.gifts g where g.user_id = ${userId}`;
}

/**
 * A merchant with BENCH_GIFTS gifts (200,000 by default) in every state: the Gifts page's
 * reads through the real service (first page, a page deep in the keyset, a status, the
 * figures), claims racing on 8 connections through the real claim_gift, orders with and
 * without gift attributes through the real pipeline, and the expiry cron's batch.
 */
export async function runGiftsBench(): Promise<string> {
  const GIFTS = Number(process.env.BENCH_GIFTS ?? 200_000);
  const CLAIMS = 2000;
  const CONNECTIONS = 8;
  const ORDERS = 1000;
  const scratch = await scratchDatabase('bench_gifts');
  process.env.DATABASE_URL = scratch.url;
  reloadEnv();
  const pool = connect(scratch.url, CONNECTIONS);
  try {
    const merchant = await withSystem((tx) => createLocalUser(tx, 'bench@bench.test', 'bench-password'));
    if (!merchant) throw new Error('no bench merchant');
    const userId = merchant.userId;
    const load = await timed(async () => {
      await loadGifts(pool, userId, GIFTS);
      // As autovacuum leaves freshly loaded tables; done here so it does not run during the measures.
      await pool`vacuum (analyze)`;
    });

    const sample = async (fn: () => Promise<unknown>, n = 20) => {
      await fn();
      const ms: number[] = [];
      for (let i = 0; i < n; i++) ms.push((await timed(fn)).ms);
      return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
    };
    const [deep] = await pool<{ id: string }[]>`
      select id from public.gifts where user_id = ${userId} order by created_at desc, id desc offset ${Math.floor(GIFTS * 0.9)} limit 1`;
    const first = await sample(() => withTenant(userId, (tx) => listGifts(tx, userId, { limit: 25 })));
    const deepPage = await sample(() => withTenant(userId, (tx) => listGifts(tx, userId, { limit: 25, after: deep?.id })));
    const byStatus = await sample(() => withTenant(userId, (tx) => listGifts(tx, userId, { limit: 25, status: 'cancelled' })));
    const figures = await sample(() => withTenant(userId, (tx) => giftStats(tx, userId)));

    // Claims: delivered gifts with a code each, claimed by their recipients on 8 connections at once.
    const targets = await pool<{ id: string; email: string }[]>`
      select id, recipient_email as email from public.gifts where user_id = ${userId} and status = 'delivered' order by created_at desc limit ${CLAIMS}`;
    const codes = targets.map(() => mintGiftCode());
    await pool`insert into private.gift_codes (user_id, code_hash, gift_id)
               select ${userId}, decode(h, 'hex'), id
                 from unnest(${codes.map((c) => giftCodeHash(c).toString('hex'))}::text[], ${targets.map((t) => t.id)}::uuid[]) as x(h, id)`;
    let next = 0;
    const outcomes = new Map<string, number>();
    const claims = await timed(() => Promise.all(Array.from({ length: CONNECTIONS }, () =>
      pool.reserve().then(async (conn) => {
        try {
          for (let i = next++; i < targets.length; i = next++) {
            const [r] = await conn<{ outcome: string }[]>`select private.claim_gift(${giftCodeHash(codes[i] ?? '')}, ${targets[i]?.email ?? ''}) ->> 'outcome' as outcome`;
            outcomes.set(r?.outcome ?? '?', (outcomes.get(r?.outcome ?? '?') ?? 0) + 1);
          }
        } finally {
          conn.release();
        }
      }))));

    // The pipeline's cost of a gift: the same orders with and without gift note attributes.
    const orders = async (label: string, attrs: (i: number) => Record<string, string>) => timed(() => Promise.all(Array.from({ length: CONNECTIONS }, (_, c) =>
      pool.reserve().then(async (conn) => {
        try {
          for (let i = c; i < ORDERS; i += CONNECTIONS) {
            await conn`select private.apply_order(${userId}, ${conn.json({
              shopOrderId: `${label}-${i}`, email: `buyer${i}@bench.test`, total: 40, orderedAt: new Date().toISOString(), noteAttributes: attrs(i),
            })})`;
          }
        } finally {
          conn.release();
        }
      }))));
    await orders('warm', () => ({}));
    const plain = await orders('plain', () => ({}));
    const gifted = await orders('gift', (i) => ({ gift_recipient_email: `friend${i}@bench.test`, gift_message: 'Enjoy' }));
    const [made] = await pool<{ n: number }[]>`select count(*)::int as n from public.gifts where user_id = ${userId} and origin = 'order'`;

    // Expiry: 5,000 gifts past their date, one cron call.
    await pool`update public.gifts set expires_at = now() - interval '1 minute'
                where user_id = ${userId} and id in (select id from public.gifts where user_id = ${userId} and status = 'delivered' limit 5000)`;
    const expiry = await timed(() => pool<{ n: number }[]>`select private.expire_gifts(now(), 5000) as n`);

    const claimed = outcomes.get('claimed') ?? 0;
    const perSec = (n: number, ms: number) => n / (ms / 1000);
    const row = (label: string, s: { p50: number; p95: number }, target: number) =>
      `| ${label} | ${fmt(s.p50, 1)} ms (p95 ${fmt(s.p95, 1)}) | ≤ ${target} ms | ${s.p50 <= target ? 'met' : '**not met**'} |`;
    return [
      `## gifts (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. Reproduce: \`npm run bench -- gifts\` (\`BENCH_GIFTS\`).`,
      '',
      `One merchant with ${fmt(GIFTS, 0)} gifts over a year (a fifth claimed, a tenth cancelled, a tenth expired), each with its announcement; loaded in ${fmt(load.ms / 1000, 1)} s. Reads go through the real service in the merchant's transaction (RLS on), as the Gifts page's routes call them; 20 runs each after one warm-up.`,
      '',
      '| measure | result | target | |',
      '| --- | --- | --- | --- |',
      row('the list, first page (25, newest first, with coupon and latest announcement)', first, 50),
      row(`a page 90% of the way down (keyset \`after\`)`, deepPage, 50),
      row('one status (cancelled), first page', byStatus, 50),
      row('the figures (counts by status, claim rate, values, held)', figures, 250),
      `| claims, ${CONNECTIONS} connections at once (\`claim_gift\`: touchpoint, new customer, coupon, gift) | ${fmt(perSec(claimed, claims.ms), 0)}/s, ${fmt(claimed, 0)} of ${fmt(CLAIMS, 0)} claimed | ≥ 200/s, all | ${perSec(claimed, claims.ms) >= 200 && claimed === CLAIMS ? 'met' : '**not met**'} |`,
      `| orders through the pipeline, ${CONNECTIONS} connections, no gift | ${fmt(perSec(ORDERS, plain.ms), 0)}/s | | |`,
      `| the same orders, each naming a gift's recipient (${fmt(made?.n ?? 0, 0)} gifts made) | ${fmt(perSec(ORDERS, gifted.ms), 0)}/s (${fmt((plain.ms / gifted.ms) * 100, 0)}% of no gift) | ≥ 70% | ${plain.ms / gifted.ms >= 0.7 ? 'met' : '**not met**'} |`,
      `| expiry cron, 5,000 gifts past their date (\`expire_gifts\`) | ${fmt(expiry.ms, 0)} ms, ${fmt(expiry.value[0]?.n ?? 0, 0)} expired | ≤ 2,000 ms | ${expiry.ms <= 2000 ? 'met' : '**not met**'} |`,
    ].join('\n');
  } finally {
    await pool.end();
    await closeDb();
    await scratch.drop();
  }
}
