import postgres from 'postgres';
import { closeDb, db, withSystem } from '@/lib/db';
import { ingestEvents } from '@/lib/intake/track';
import { benchMerchant, load } from '@/scripts/bench/journey';
import { fmt, machine } from '@/scripts/bench/util';

/**
 * Where `record_touchpoints` spends its time (issue 13, item 2): the share of each of its
 * statements in one batch (auto_explain, nested statements, analyze), and the marginal cost of
 * each trigger the batch fires (the same batches with and without it, each in a transaction
 * that is rolled back so every variant meets the same data, in rotated order).
 */
const SIZE = 500;

const STATEMENTS: [string, RegExp][] = [
  ['unpack the batch (jsonb → arrays)', /^select array_agg\(public\.normalize_email/],
  ['insert the customers not seen before', /^insert into public\.customers \(user_id, email, created_at\)/],
  ['lock the batch\u2019s customers, map events to them', /^with locked as/],
  ['insert the touchpoints', /^insert into public\.touchpoints/],
  ['activity, lead capture and affinity: one update of each customer', /^with e as/],
  ['stage machine for the batch (`apply_stages`)', /^SELECT private\.apply_stages\(p_user_id, v_ids, p_now, 'engagement', null\)$/],
  ['a lead captured and engaged in the same batch: second stage pass', /^(SELECT private\.apply_stages\(p_user_id, v_two_ids|update public\.customers c set engaged_after_lead_at)/],
];

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
    const stamped = events.map((e) => ({ ...e, occurredAt: new Date().toISOString() }));
    await sql`select private.record_touchpoints(${userId}, ${sql.json(stamped)}, now())`;
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
    rows: STATEMENTS.map(([label, re]) => ({ label, ms: parsed.filter((p) => re.test(p.text)).reduce((a, p) => a + p.ms, 0) })),
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
          await ingestEvents(tx, key, batchOf(n, customers));
          times.get(v.label)?.push(performance.now() - t0);
          throw new Rollback();
        }).catch((e: unknown) => {
          if (!(e instanceof Rollback)) throw e;
        });
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const base = median(times.get('everything') ?? []);

    // The pool's backends hold the ablation's (rolled back, still counted) writes until they
    // report them, at exit at the latest: end them first, or they land after the reset.
    await closeDb();
    await new Promise((r) => setTimeout(r, 500));
    await db()`select pg_stat_reset_single_table_counters('public.customers'::regclass)`;
    for (let n = 300; n < 310; n++) await withSystem((tx) => ingestEvents(tx, key, batchOf(n, customers)));
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
      `Where one batch goes, by statement of \`record_touchpoints\` (auto_explain with analyze, which inflates row-heavy nodes; the batch took ${fmt(shares.total)} ms so instrumented, its triggers counted in the statement that fired them):`,
      '',
      '| statement | ms | share |',
      '| --- | --- | --- |',
      ...shares.rows.map((r) => `| ${r.label} | ${fmt(r.ms)} | ${fmt((r.ms / (shares.total || 1)) * 100, 0)}% |`),
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
