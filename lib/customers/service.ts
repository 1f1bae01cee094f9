import 'server-only';
import postgres from 'postgres';
import { AppError } from '@/lib/errors';
import {
  STAGES, customerSchema, stageTransitionSchema, touchpointSchema, type Customer, type CustomerList, type CustomerListQuery,
  type CustomerPatch, type Journey, type JourneyAnalytics, type Stage, type StageTransition, type Touchpoint,
} from '@/lib/customers/schemas';
import { csvPagesResponse } from '@/lib/csv';
import { fieldsOf, type Tx, withTenant } from '@/lib/db';
import { type KeyColumn, type Keyed, keysetPage, sortKeyOf } from '@/lib/db/keyset';

const CUSTOMER = fieldsOf(customerSchema);
const TOUCHPOINT = fieldsOf(touchpointSchema);
const TRANSITION = fieldsOf(stageTransitionSchema);

/** The words of a search (at most 6), each of which must appear: "moreau 1728" matches zoe.moreau.1728@... */
export function searchWords(search: string | undefined): string[] {
  return (search ?? '').split(/\s+/).filter(Boolean).slice(0, 6);
}

/**
 * `and <id column> in (...)`: the customers of the merchant's own store whose folded email and
 * names hold every word of a search, from `public.customer_search_ids`, which reads the trigram
 * index (a LIKE in the merchant's own query cannot: RLS keeps it from the index, see that
 * function's migration). `idColumn` is the customers' `id` or a join's customer id.
 */
export function searchCondition(tx: Tx, idColumn: string, search: string | undefined) {
  const words = searchWords(search);
  return words.length > 0 ? tx`and ${tx.unsafe(idColumn)} in (select public.customer_search_ids(${words}::text[]))` : tx``;
}

type CustomerFilter = Pick<CustomerListQuery, 'stage' | 'collection' | 'search' | 'sort' | 'order'>;

/**
 * Each sort's key: the column, then the id (emails are unique, so they need none); no last
 * purchase sorts last when descending, first when ascending. Each has an index on
 * (user_id, column, id) that serves both directions. Lifetime value sorts by its cents, an
 * integer: a page's row comparison is an index range only when its operators are leakproof,
 * as numeric's are not (see the migration customer_ltv_sort_key).
 */
export const CUSTOMER_SORT_COLUMNS = {
  ltv: { column: 'lifetime_value_cents', type: 'integer' },
  recent_purchase: { column: 'last_purchase_at', type: 'timestamptz', nullable: true },
  orders: { column: 'total_orders', type: 'integer' },
  created: { column: 'created_at', type: 'timestamptz' },
  email: { column: 'email', type: 'text' },
} as const satisfies Record<CustomerListQuery['sort'], KeyColumn>;

const sortKey = (tx: Tx, q: Pick<CustomerFilter, 'sort' | 'order'>) =>
  sortKeyOf(tx, q.sort, CUSTOMER_SORT_COLUMNS[q.sort], q.order, q.sort === 'email' ? null : 'id');

/** The rows of a customer list (its WHERE), shared by the page, its count and its CSV export. */
function customerQuery(tx: Tx, userId: string, q: CustomerFilter, options: { countMatches?: boolean } = {}) {
  const where = tx`
    user_id = ${userId}
    ${q.stage ? tx`and stage = ${q.stage}` : tx``}
    ${q.collection ? tx`and primary_collection = ${q.collection}` : tx``}
    ${searchCondition(tx, 'id', q.search)}`;
  // A search is answered from its matches (the trigram index), then sorted: left to itself the
  // planner may walk the sort index testing every row, since it cannot know how few match.
  // OFFSET 0 keeps the inner query whole.
  // Both forms end in a WHERE, so a caller adds `and ...` (a page's keyset). `countMatches`
  // adds match_total, every match of the search, to each row.
  const from = searchWords(q.search).length > 0
    ? tx`(select * ${options.countMatches ? tx`, (count(*) over ())::int as match_total` : tx``} from public.customers where ${where} offset 0) as matches where true`
    : tx`public.customers where ${where}`;
  return { where, from, searching: searchWords(q.search).length > 0 };
}

/**
 * How many customers a list without a search holds, from the stage and collection rollups (a few
 * dozen rows, kept exact by the customers' statement triggers in the same transaction) rather
 * than by counting a million rows.
 */
async function rolledUpCount(tx: Tx, userId: string, q: CustomerFilter): Promise<number> {
  const cell = tx`user_id = ${userId}
    ${q.stage ? tx`and stage = ${q.stage}` : tx``}
    ${q.collection ? tx`and collection = ${q.collection}` : tx``}`;
  const [r] = await tx<{ n: number }[]>`
    select coalesce(sum(customers), 0)::int as n from (
      select customers from public.customer_rollups where ${cell}
      union all
      select customers from public.customer_rollup_deltas where ${cell}) t`;
  return r?.n ?? 0;
}

/**
 * One page of a merchant's customers, filtered, searched and sorted in SQL: the first page, the
 * page after or before a row (keyset, so the thousandth page costs what the first does), or the
 * last page. The total counts every match: from the rollups without a search, and with one from
 * the same read of the matches that the page is cut from (a window count, not a second search).
 */
export async function listCustomers(tx: Tx, userId: string, q: Omit<CustomerListQuery, 'format'>): Promise<CustomerList> {
  const { where, from, searching } = customerQuery(tx, userId, q, { countMatches: true });
  let matched: number | undefined;
  type Row = Customer & Keyed & { matchTotal?: number };
  const page = await keysetPage<Customer>(tx, sortKey(tx, q), q, q.limit, async (scan) => {
    const rows = await tx<Row[]>`
      select ${tx(CUSTOMER)} ${searching ? tx`, match_total` : tx``} ${scan.cursor} from ${from} and ${scan.where}
       order by ${scan.orderBy} limit ${scan.limit}`;
    matched ??= rows[0]?.matchTotal;
    return rows.map(({ matchTotal: _m, ...r }) => r);
  });
  let total: number;
  if (!searching) total = await rolledUpCount(tx, userId, q);
  else if (matched !== undefined) total = matched;
  else {
    // The page came back empty (a cursor past the end): count the matches on their own.
    const [count] = await tx<{ n: number }[]>`select count(*)::int as n from public.customers where ${where}`;
    total = count?.n ?? 0;
  }
  return { customers: page.rows, total, limit: q.limit, prev: page.prev, next: page.next };
}

/** Whether the merchant has this customer (the page answers 404 for one it has not). */
export async function customerExists(tx: Tx, userId: string, id: string): Promise<boolean> {
  const rows = await tx`select 1 from public.customers where user_id = ${userId} and id = ${id}`;
  return rows.length > 0;
}

/** Rows an export reads from the database at a time (and so, about what the server holds). */
export const CUSTOMER_EXPORT_BATCH = 2_000;

const EXPORT_COLUMNS = ['email', 'firstName', 'lastName', 'stage', 'totalOrders', 'lifetimeValue', 'averageOrderValue',
  'primaryCollection', 'lastPurchaseAt', 'emailSubscribed', 'createdAt'] as const satisfies readonly (keyof Customer)[];

/**
 * The whole filtered list as a CSV download in the list's order, read page by page as the
 * client takes it: each page is CUSTOMER_EXPORT_BATCH rows by keyset (the list's own cursor)
 * in its own short transaction, so a slow or stalled download holds no connection, and memory
 * stays flat at a million rows. Pages are read at different moments: a customer whose sort value
 * changes during the download may be listed twice or not at all (an email sort, which never
 * changes, is exact).
 */
export function customersCsvResponse(userId: string, q: CustomerFilter, filename: string): Response {
  type Row = Pick<Customer, (typeof EXPORT_COLUMNS)[number]> & { keysetValue: string; keysetId: string | null };
  // The header names the columns as the database does (postgres.js's own camelCase -> snake_case).
  return csvPagesResponse<string>(filename, EXPORT_COLUMNS.map(postgres.fromCamel), (after) =>
    withTenant(userId, async (tx) => {
      const { from } = customerQuery(tx, userId, q);
      const page = await keysetPage<Row>(tx, sortKey(tx, q), { after: after ?? undefined }, CUSTOMER_EXPORT_BATCH, (scan) => tx<Row[]>`
        select ${tx(EXPORT_COLUMNS)} ${scan.cursor} from ${from} and ${scan.where}
         order by ${scan.orderBy} limit ${scan.limit}`);
      return {
        rows: page.rows.map((c) => [c.email, c.firstName, c.lastName, c.stage, c.totalOrders, c.lifetimeValue.toFixed(2),
          c.averageOrderValue?.toFixed(2) ?? null, c.primaryCollection, c.lastPurchaseAt, c.emailSubscribed ? 'yes' : 'no', c.createdAt]),
        next: page.next,
      };
    }));
}

async function findCustomer(tx: Tx, userId: string, id: string): Promise<Customer> {
  const [row] = await tx<Customer[]>`
    select ${tx(CUSTOMER)} from public.customers where id = ${id} and user_id = ${userId}`;
  if (!row) throw new AppError('not_found', 'Customer not found');
  return row;
}

function encodeCursor(at: string, id: string): string {
  return Buffer.from(`${at}|${id}`).toString('base64url');
}

// The cursor keeps the time to the microsecond, as Postgres stores it: rows of the same
// millisecond must not be skipped or repeated between pages.
const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function decodeCursor(cursor: string): { at: string; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (!at || !CURSOR_AT.test(at) || Number.isNaN(Date.parse(at)) || !id || !/^[0-9a-f-]{36}$/i.test(id)) {
    throw new AppError('bad_request', 'before: not a valid cursor', { field: 'before' });
  }
  return { at, id };
}

/** A customer, a page of touchpoints (newest first, keyset) and the stage history. */
export async function getJourney(tx: Tx, userId: string, id: string, page: { limit: number; before?: string }): Promise<Journey> {
  const customer = await findCustomer(tx, userId, id);
  const cursor = page.before ? decodeCursor(page.before) : null;
  const rows = await tx<(Touchpoint & { cursorAt: string })[]>`
    select ${tx(TOUCHPOINT)}, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
      from public.touchpoints
     where customer_id = ${id} and user_id = ${userId}
       ${cursor ? tx`and (occurred_at, id) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)` : tx``}
     order by occurred_at desc, id desc
     limit ${page.limit + 1}`;
  const more = rows.length > page.limit;
  const shown = rows.slice(0, page.limit).map(({ cursorAt: _cursorAt, ...t }) => t);
  const last = rows[Math.min(rows.length, page.limit) - 1];
  const transitions = await tx<StageTransition[]>`
    select ${tx(TRANSITION)}
      from public.stage_transitions
     where customer_id = ${id} and user_id = ${userId}
     order by transitioned_at desc, id desc
     limit 200`;
  return {
    customer,
    touchpoints: shown,
    nextCursor: more && last ? encodeCursor(last.cursorAt, last.id) : null,
    transitions,
  };
}

/** Change what a merchant may edit by hand: names, phone, subscription flags. */
export async function patchCustomer(tx: Tx, userId: string, id: string, patch: CustomerPatch): Promise<Customer> {
  const changes: Partial<Pick<Customer, 'firstName' | 'lastName' | 'phone' | 'emailSubscribed' | 'smsSubscribed'>> = {};
  if (patch.firstName !== undefined) changes.firstName = patch.firstName || null;
  if (patch.lastName !== undefined) changes.lastName = patch.lastName || null;
  if (patch.phone !== undefined) changes.phone = patch.phone || null;
  if (patch.emailSubscribed !== undefined) changes.emailSubscribed = patch.emailSubscribed;
  if (patch.smsSubscribed !== undefined) changes.smsSubscribed = patch.smsSubscribed;
  const [row] = await tx<Customer[]>`
    update public.customers set ${tx(changes)} where id = ${id} and user_id = ${userId} and erased_at is null
    returning ${tx(CUSTOMER)}`;
  if (!row) {
    if (await customerExists(tx, userId, id)) throw new AppError('conflict', 'This customer\'s data was erased at their request; the record cannot be edited');
    throw new AppError('not_found', 'Customer not found');
  }
  return row;
}

interface AnalyticsRow {
  stage: Stage;
  collection: string | null;
  n: number;
  leads: number;
  buyers: number;
  repeaters: number;
  ltv: number;
}

/**
 * Journey analytics (seed shape) from the rollup totals plus pending deltas, computed in SQL: a few dozen
 * rows whatever the number of customers, kept exact by triggers on customers.
 */
export async function journeyAnalytics(tx: Tx, userId: string): Promise<JourneyAnalytics> {
  const rows = await tx<AnalyticsRow[]>`
    select stage, nullif(collection, '') as collection, sum(customers)::int as n, sum(leads)::int as leads,
           sum(buyers)::int as buyers, sum(repeaters)::int as repeaters, coalesce(sum(lifetime_value), 0) as ltv
      from (
        select stage, collection, customers, leads, buyers, repeaters, lifetime_value
          from public.customer_rollups where user_id = ${userId}
        union all
        select stage, collection, customers, leads, buyers, repeaters, lifetime_value
          from public.customer_rollup_deltas where user_id = ${userId}
      ) t
     group by stage, collection
    having sum(customers) <> 0`;
  const stageDistribution = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  const collections = await tx<{ slug: string }[]>`
    select slug from public.collections where user_id = ${userId} order by position, name, slug`;
  const collectionDistribution: Record<string, number> = Object.fromEntries(collections.map((c) => [c.slug, 0]));
  let total = 0, leads = 0, buyers = 0, repeaters = 0, revenue = 0;
  for (const r of rows) {
    stageDistribution[r.stage] += r.n;
    if (r.collection) collectionDistribution[r.collection] = (collectionDistribution[r.collection] ?? 0) + r.n;
    total += r.n;
    leads += r.leads;
    buyers += r.buyers;
    repeaters += r.repeaters;
    revenue += r.ltv;
  }
  return {
    totalCustomers: total,
    stageDistribution,
    collectionDistribution,
    conversionFunnel: { visitors: total, leads, customers: buyers, repeat: repeaters },
    atRiskCount: stageDistribution.at_risk,
    churnedCount: stageDistribution.churned,
    avgLifetimeValue: total > 0 ? Math.round((revenue / total) * 100) / 100 : 0,
    avgLifetimeValuePerBuyer: buyers > 0 ? Math.round((revenue / buyers) * 100) / 100 : 0,
    totalRevenue: Math.round(revenue * 100) / 100,
    repeatRate: buyers > 0 ? repeaters / buyers : 0,
  };
}
