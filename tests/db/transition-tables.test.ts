import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db, withSystem } from '@/lib/db';
import { createMerchant } from '@/tests/helpers/merchants';
import { TENANT_FIXTURES } from '@/tests/helpers/tenant-fixtures';

/**
 * A statement trigger's queries are planned once per connection and the plan is kept. A join
 * of its transition tables (old_rows with new_rows) first planned for a one-row update is a
 * nested loop, and the same connection's next bulk update compares every old row with every
 * new one: 10,500 customers updated after an order took 38 s in one trigger. So no trigger
 * query may join transition tables (EXCEPT, or a signed sum, finds what moved instead). Every
 * trigger with both tables is run here, its plans read with auto_explain: generic, so a
 * trigger added later is held to it too.
 */
interface PlanNode {
  'Node Type': string;
  Plans?: PlanNode[];
}

/** How many transition-table scans a plan node's subtree holds (auto_explain does not name them). */
const storesIn = (node: PlanNode): number =>
  (node['Node Type'] === 'Named Tuplestore Scan' ? 1 : 0) + (node.Plans ?? []).reduce((n, p) => n + storesIn(p), 0);

/** Joins in a plan with a transition table on both sides, as "Nested Loop". */
function joinsOfStores(node: PlanNode): string[] {
  const children = node.Plans ?? [];
  const joins = /Nested Loop|Hash Join|Merge Join/.test(node['Node Type']) && children.length === 2 && children.every((c) => storesIn(c) > 0);
  return [...(joins ? [node['Node Type']] : []), ...children.flatMap(joinsOfStores)];
}

class Rollback extends Error {}

let userId: string;
let sql: postgres.Sql;
const plans: PlanNode[] = [];

beforeAll(async () => {
  userId = (await createMerchant('transition-tables')).userId;
  for (const fixture of Object.values(TENANT_FIXTURES)) await withSystem((tx) => fixture(tx, userId));
  // The segment's list sync on, so the memberships trigger goes past its first check.
  await db()`update public.customer_segments set sync_enabled = true where user_id = ${userId}`;
  sql = postgres(process.env.DATABASE_URL ?? '', {
    max: 1,
    onnotice: (n) => {
      const json = /plan:\s*([\s\S]*)$/.exec(String(n.message))?.[1];
      if (json) plans.push((JSON.parse(json) as { Plan: PlanNode }).Plan);
    },
  });
  await sql.unsafe(`load 'auto_explain'; set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on;
    set auto_explain.log_level = notice; set auto_explain.log_format = json`);
});
afterAll(async () => {
  await sql.end();
});

describe('statement triggers with transition tables', () => {
  it('never join old_rows with new_rows, after a one-row update or any other', async () => {
    const tables = await db()<{ table: string }[]>`
      select distinct t.tgrelid::regclass::text as table from pg_trigger t
       where t.tgoldtable is not null and t.tgnewtable is not null order by 1`;
    expect(tables.map((t) => t.table)).toEqual(expect.arrayContaining(['customers', 'segment_memberships', 'klaviyo_messages', 'winback_recipients']));
    const problems: string[] = [];
    let readBoth = 0;
    for (const { table } of tables) {
      const [row] = await db()<{ n: number }[]>`select count(*)::int as n from ${db()(table)} where user_id = ${userId}`;
      expect(row?.n, `${table} has a fixture row`).toBeGreaterThan(0);
      plans.length = 0;
      // Each of the merchant's rows written as it is: every update trigger runs its queries.
      await sql.begin(async (tx) => {
        await tx.unsafe(`update public.${table} set user_id = user_id where user_id = $1`, [userId]);
        throw new Rollback();
      }).catch((e: unknown) => {
        if (!(e instanceof Rollback)) throw e;
      });
      for (const plan of plans) {
        if (storesIn(plan) >= 2) readBoth += 1;
        problems.push(...joinsOfStores(plan).map((j) => `${table}: ${j}`));
      }
    }
    expect(problems).toEqual([]);
    // Not vacuous: the queries that compare old and new rows were run and read.
    expect(readBoth).toBeGreaterThanOrEqual(4);
  });
});
