import type postgres from 'postgres';
import { AppError } from '@/lib/errors';
import type { Tx } from '@/lib/db';
import type { PageRequest } from '@/lib/fields';

/**
 * Keyset pagination: a page starts after (or ends before) a row, found through the sort's index
 * whatever its distance from the start, where OFFSET reads and drops every row before it (the
 * last page of a million customers read a million rows). A cursor is the row's sort value and id;
 * the last page is the first page read backwards.
 */

type Fragment = postgres.PendingQuery<postgres.Row[]>;

/** What a sort key holds, so a cursor's value is checked before Postgres reads it. */
// No numeric: under row level security a key's comparison is an index range only when its
// operators are leakproof (integers, timestamps, text and uuids; not numeric). Sort money by its cents.
export type KeyType = 'integer' | 'timestamptz' | 'text';

export interface SortKey {
  /** The sort's name, kept in the cursor: a cursor of one sort is refused by another. */
  name: string;
  /** The sorted column. */
  value: Fragment;
  type: KeyType;
  /**
   * The column may be null: nulls sort as the smallest value (last when descending, first when
   * ascending), which an index on (..., value nulls first, id) serves both ways.
   */
  nullable?: boolean;
  /** The row's unique tiebreak, or null when the value itself is unique (an email). */
  id: Fragment | null;
  desc: boolean;
}

/** A list's sort as its service declares it: the column (a constant of the service), its type, whether it may be null. */
export interface KeyColumn {
  column: string;
  type: KeyType;
  nullable?: boolean;
}

/** The key of one of a list's sorts, in one direction, with `id` (a column) as the tiebreak or none. */
export function sortKeyOf(tx: Tx, sort: string, key: KeyColumn, order: 'asc' | 'desc', id: string | null): SortKey {
  return {
    name: `${sort}-${order}`, value: tx.unsafe(key.column), type: key.type, nullable: key.nullable ?? false,
    id: id === null ? null : tx.unsafe(id), desc: order !== 'asc',
  };
}

const VALUE: Record<KeyType, RegExp> = {
  integer: /^-?\d{1,18}$/,
  // As Postgres writes a timestamptz as text (ISO date style).
  timestamptz: /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2}){0,2}|Z)$/,
  text: /^[^\0]{0,400}$/,
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Cursor {
  value: string | null;
  id: string | null;
}

function encodeCursor(key: SortKey, c: Cursor): string {
  return Buffer.from(JSON.stringify(key.id === null ? [key.name, c.value] : [key.name, c.value, c.id])).toString('base64url');
}

/** A cursor of this sort, or a 400 naming the field it came in. */
function decodeCursor(key: SortKey, cursor: string, field: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    parsed = null;
  }
  const bad = () => new AppError('bad_request', `${field}: not a cursor of this list; start again from the first page`, { field });
  if (!Array.isArray(parsed) || parsed[0] !== key.name || parsed.length !== (key.id === null ? 2 : 3)) throw bad();
  const [, value, id] = parsed as unknown[];
  if (!(value === null && key.nullable) && !(typeof value === 'string' && VALUE[key.type].test(value))) throw bad();
  if (key.id !== null && !(typeof id === 'string' && UUID.test(id))) throw bad();
  return { value: value as string | null, id: key.id === null ? null : (id as string) };
}

/** What a list's query is given: a condition to add with `and`, the order, how many rows, and the cursor columns to select. */
export interface PageScan {
  where: Fragment;
  orderBy: Fragment;
  limit: number;
  /** Select these after the row's columns: `keyset_value` and `keyset_id` become the cursors. */
  cursor: Fragment;
}

/** The cursor columns a list's rows come back with. */
export type Keyed = { keysetValue: string | null; keysetId: string | null };

export interface KeysetResult<T> {
  rows: T[];
  prev: string | null;
  next: string | null;
}

type Read<T> = (scan: PageScan) => Promise<(T & Keyed)[]>;

/**
 * Up to `n` rows strictly after `c` (or from the start) reading in order `desc`. Each query is one
 * range of the sort's index (a row comparison); a nullable key whose range crosses from values
 * into nulls reads the two ranges one after the other.
 */
async function readFrom<T>(tx: Tx, key: SortKey, c: Cursor | null, desc: boolean, n: number, read: Read<T>): Promise<(T & Keyed)[]> {
  const d = desc ? tx`desc` : tx`asc`;
  const nulls = key.nullable ? (desc ? tx`nulls last` : tx`nulls first`) : tx``;
  const orderBy = key.id === null ? tx`${key.value} ${d} ${nulls}` : tx`${key.value} ${d} ${nulls}, ${key.id} ${d}`;
  const cursor = tx`, ${key.value}::text as keyset_value, ${key.id ?? tx`null::uuid`} as keyset_id`;
  const run = (where: Fragment, limit: number) => read({ where, orderBy, limit, cursor });
  const cmp = desc ? tx`<` : tx`>`;
  const past = (value: string) => (key.id === null ? tx`${key.value} ${cmp} ${value}` : tx`(${key.value}, ${key.id}) ${cmp} (${value}, ${c?.id ?? null})`);
  if (c === null) return run(tx`true`, n);
  if (c.value !== null) {
    const rows = await run(past(c.value), n);
    // Descending, the nulls come after every value.
    if (!key.nullable || !desc || rows.length >= n) return rows;
    return [...rows, ...(await run(tx`${key.value} is null`, n - rows.length))];
  }
  const nullsPast = key.id === null ? tx`false` : tx`${key.value} is null and ${key.id} ${cmp} ${c.id}`;
  const rows = await run(nullsPast, n);
  // Ascending, every value comes after the nulls.
  if (desc || rows.length >= n) return rows;
  return [...rows, ...(await run(tx`${key.value} is not null`, n - rows.length))];
}

/**
 * One page of a list in `key`'s order from where `request` says. `read` runs the list's query
 * with the scan's condition, order and limit, the cursor columns selected; it is called for the
 * page and, when the page starts from a cursor, for one row on the side it came from (the
 * cursor's row may have gone since, and a page past the end has nothing before it to show).
 */
export async function keysetPage<T extends object>(tx: Tx, key: SortKey, request: PageRequest, limit: number, read: Read<T>): Promise<KeysetResult<T>> {
  const start = request.after ? decodeCursor(key, request.after, 'after') : request.before ? decodeCursor(key, request.before, 'before') : null;
  // A page before a cursor, and the last page, read the list backwards and turn the rows round.
  const backwards = Boolean(request.before) || request.end === 'last';
  const got = await readFrom(tx, key, start, key.desc !== backwards, limit + 1, read);
  const more = got.length > limit;
  const page = got.slice(0, limit);
  if (backwards) page.reverse();
  const first = page[0];
  const last = page.at(-1);
  const at = (r: Keyed): Cursor => ({ value: r.keysetValue, id: r.keysetId });
  // The side the page was read towards is known from the extra row; the side it came from is asked.
  let before = backwards && more;
  let after = !backwards && more;
  if (start && first && last) {
    const other = backwards ? await readFrom(tx, key, at(last), key.desc, 1, read) : await readFrom(tx, key, at(first), !key.desc, 1, read);
    if (backwards) after = other.length > 0;
    else before = other.length > 0;
  }
  return {
    rows: page.map(({ keysetValue: _v, keysetId: _i, ...row }) => row as unknown as T),
    prev: before && first ? encodeCursor(key, at(first)) : null,
    next: after && last ? encodeCursor(key, at(last)) : null,
  };
}
