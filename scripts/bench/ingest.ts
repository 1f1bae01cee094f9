import postgres from 'postgres';
import { closeDb, db, type Tx, withSystem } from '@/lib/db';
import { ingestEvents } from '@/lib/intake/track';
import { benchMerchant, load } from '@/scripts/bench/journey';
import { fmt, machine } from '@/scripts/bench/util';

/**
 * Where a storefront batch spends its time (issue 13, item 2): the share of each statement of
 * `record_touchpoints` (the call and the fold together) in one batch (auto_explain, nested
 * statements, analyze), what /api/track's call (`queue_touchpoints`) and the touchpoints cron's
 * fold each cost a batch, and the marginal cost of each trigger the batch fires (the same
 * batches with and without it, each in a transaction that is rolled back so every variant meets
 * the same data, in rotated order).
 */
const SIZE = 500;

const CALL = 'the call';
const FOLD = 'the fold (cron)';
const STATEMENTS: [string, string, RegExp][] = [
  ['unpack the batch (jsonb → arrays)', CALL, /^select array_agg\(public\.normalize_email/],
  ['insert the customers not seen before', CALL, /^insert into public\.customers \(user_id, email, created_at\)/],
  ['hold the batch\u2019s customers, map events to them', CALL, /^with held as/],
  ['insert the touchpoints', CALL, /^insert into public\.touchpoints/],
  ['lock the batch\u2019s customers', FOLD, /^select array_agg\(l\.id order by l\.id\)/],
  ['activity, lead capture and affinity: one update of each customer', FOLD, /^with e as/],
  ['stage machine for the batch (`apply_stages`)', FOLD, /^SELECT private\.apply_stages\(p_user_id, v_ids, p_now, 'engagement', null\)$/],
  ['a lead captured and engaged in the same batch: second stage pass', FOLD, /^(SELECT private\.apply_stages\(p_user_id, v_two_ids|update public\.customers c set engaged_after_lead_at)/],
];

type Batch = ReturnType<typeof batchOf>;
const stamped = (events: Batch) => events.map((e) => ({ ...e, occurredAt: new Date().toISOString() }));
/** The call and the fold in one transaction, as the win-back click and the demo history record. */
const recordBatch = (tx: Tx, userId: string, events: Batch) =>
  tx`select private.record_touchpoints(${userId}, ${tx.json(stamped(events))}, now())`;

function batchOf(n: number, customers: number) {
  return Array.from({ length: SIZE }, (_, i) => {
    const g = (n * SIZE + i) * 7919;
    return {
      type: ['page_view', 'cart_add', 'pin_save', 'lead_capture'][i % 4],
      channel: 'organic',
      email: i % 10 !== 0 ? `c${1 + (g % customers)}@bench.test` : `new-${n}-${i}@bench.test`,
      collection: ['grounding', 'wholeness', 'growth'][i % 3],
    };
  });
}

async function statementShares(url: string, userId: string, events: ReturnType<typeof batchOf>) {
  const notices: string[] = [];
  const sql = postgres(url, { max: 1, onnotice: (n) => notices.push(String(n.message)) });
  try {
    await sql.unsafe(`load 'auto_explain'`);
    await sql.unsafe(`set auto_explain.log_min_duration = 0; set auto_explain.log_analyze = on;
      set auto_explain.log_nested_statements = on; set auto_explain.log_level = notice; set auto_explain.log_timing = on`);
    await sql`select private.record_touchpoints(${userId}, ${sql.json(stamped(events))}, now())`;
  } finally {
    await sql.end();
  }
  const parsed = notices.map((n) => ({
    ms: Number(/duration: ([\d.]+) ms/.exec(n)?.[1] ?? 0),
    text: (/Query Text: ([\s\S]*?)\n[A-Z][a-z]+ {2}\(cost/.exec(n)?.[1] ?? /Query Text: (.*)/.exec(n)?.[1] ?? '').trim(),
  }));
  const total = parsed.find((p) => p.text.startsWith('select private.record_touchpoints'))?.ms ?? 0;
  return {
    total,
    rows: STATEMENTS.map(([label, where, re]) => ({ label, where, ms: parsed.filter((p) => re.test(p.text)).reduce((a, p) => a + p.ms, 0) })),
  };
}

export async function runIngestBench(): Promise<string> {
  const customers = Number(process.env.BENCH_CUSTOMERS ?? 200_000);
  const { scratch, userId } = await benchMerchant('bench_ingest');
  try {
    console.log(`loading ${fmt(customers, 0)} customers...`);
    await load(userId, customers, 2);
    const [settings] = await db()<{ trackingKey: string }[]>`select tracking_key from public.merchant_settings where user_id = ${userId}`;
    const key = settings?.trackingKey ?? '';
    for (let n = 0; n < 5; n++) await withSystem((tx) => ingestEvents(tx, key, batchOf(n, customers)));
    await withSystem((tx) => tx`select private.fold_touchpoints(100, now(), ${userId})`);

    console.log('statement shares...');
    const shares = await statementShares(scratch.url, userId, batchOf(7, customers));

    console.log('trigger ablation...');
    const triggersOf = async (table: string) => (await db()<{ tgname: string }[]>`
      select tgname from pg_trigger where tgrelid = ${`public.${table}`}::regclass and not tgisinternal order by tgname`).map((t) => t.tgname);
    const variants: { label: string; table?: string; triggers?: string[] }[] = [
      { label: 'everything' },
      ...(await triggersOf('customers')).filter((t) => t !== 'customers_search_text')
        .map((t) => ({ label: `without \`${t}\``, table: 'customers', triggers: [t] })),
      { label: 'without the `stage_transitions` triggers', table: 'stage_transitions', triggers: await triggersOf('stage_transitions') },
      { label: 'without the `touchpoints` triggers', table: 'touchpoints', triggers: await triggersOf('touchpoints') },
    ];
    const times = new Map<string, number[]>(variants.map((v) => [v.label, []]));
    class Rollback extends Error {}
    const BATCHES = Number(process.env.BENCH_INGEST_BATCHES ?? 30);
    for (let n = 100; n < 100 + BATCHES; n++) {
      for (const [k] of variants.entries()) {
        const v = variants[(k + n) % variants.length];
        if (!v) continue;
        await db().begin(async (tx) => {
          for (const t of v.triggers ?? []) await tx.unsafe(`alter table public.${v.table} disable trigger ${t}`);
          const t0 = performance.now();
          await recordBatch(tx, userId, batchOf(n, customers));
          times.get(v.label)?.push(performance.now() - t0);
          throw new Rollback();
        }).catch((e: unknown) => {
          if (!(e instanceof Rollback)) throw e;
        });
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const base = median(times.get('everything') ?? []);

    console.log('the call and the fold...');
    // /api/track's call (validation included), then the cron's fold of that one batch; rolled back.
    const call: number[] = [];
    const folded: number[] = [];
    for (let n = 200; n < 200 + BATCHES; n++) {
      await db().begin(async (tx) => {
        const t0 = performance.now();
        await ingestEvents(tx, key, batchOf(n, customers));
        const t1 = performance.now();
        await tx`select private.fold_touchpoints(1, now(), ${userId})`;
        call.push(t1 - t0);
        folded.push(performance.now() - t1);
        throw new Rollback();
      }).catch((e: unknown) => {
        if (!(e instanceof Rollback)) throw e;
      });
    }

    // The pool's backends hold the ablation's (rolled back, still counted) writes until they
    // report them, at exit at the latest: end them first, or they land after the reset.
    await closeDb();
    await new Promise((r) => setTimeout(r, 500));
    await db()`select pg_stat_reset_single_table_counters('public.customers'::regclass)`;
    for (let n = 300; n < 310; n++) await withSystem((tx) => recordBatch(tx, userId, batchOf(n, customers)));
    // A backend reports its table counts when it exits: end the pool's connections first.
    await closeDb();
    await new Promise((r) => setTimeout(r, 500));
    const [hot] = await db()<{ upd: number; hot: number }[]>`
      select n_tup_upd::int as upd, n_tup_hot_upd::int as hot from pg_stat_user_tables where relid = 'public.customers'::regclass`;

    return [
      `## ingest (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. Data: ${fmt(customers, 0)} customers in the stage their figures give, 2 touchpoints each; batches of ${SIZE} events (page views, cart adds, pin saves, lead captures; one in ten a new email). Reproduce: \`npm run bench -- ingest\`.`,
      '',
      `Where one batch goes, by statement of \`record_touchpoints\` (the call and the fold in one transaction; auto_explain with analyze, which inflates row-heavy nodes; the batch took ${fmt(shares.total)} ms so instrumented, its triggers counted in the statement that fired them). \`/api/track\` runs the statements of the call and queues the rest for the touchpoints cron:`,
      '',
      '| statement | runs in | ms | share |',
      '| --- | --- | --- | --- |',
      ...shares.rows.map((r) => `| ${r.label} | ${r.where} | ${fmt(r.ms)} | ${fmt((r.ms / (shares.total || 1)) * 100, 0)}% |`),
      '',
      `A batch through \`/api/track\`'s call (validation, \`queue_touchpoints\`), median of ${BATCHES}: ${fmt(median(call))} ms; the cron's fold of it (\`fold_touchpoints\`): ${fmt(median(folded))} ms.`,
      '',
      `What each trigger costs a batch (median of ${BATCHES} batches per variant, ${fmt(base)} ms with everything):`,
      '',
      '| variant | median per batch | the trigger costs |',
      '| --- | --- | --- |',
      ...variants.map((v) => {
        const m = median(times.get(v.label) ?? []);
        return `| ${v.label} | ${fmt(m)} ms | ${v.triggers ? `${fmt(base - m)} ms` : ''} |`;
      }),
      '',
      `Customers rows written by 10 batches: ${fmt(hot?.upd ?? 0, 0)}, of which ${fmt(hot?.hot ?? 0, 0)} HOT (no index entry written).`,
    ].join('\n');
  } finally {
    await closeDb();
    await scratch.drop();
  }
}
