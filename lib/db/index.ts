import 'server-only';
import postgres from 'postgres';
import type { z } from 'zod';
import { env } from '@/lib/env';

/**
 * How values come back, so a row is already the shape the API returns: `numeric` as a number
 * (money and scores; every one fits a double), `timestamptz` as an ISO 8601 string, `date` as
 * `YYYY-MM-DD`. `bigint` stays a string: cast counts to `int` in SQL.
 */
const TYPES = {
  numeric: {
    to: 1700,
    from: [1700],
    serialize: (x: number | string) => String(x),
    parse: (x: string) => Number(x),
  },
  instant: {
    to: 1184,
    from: [1184],
    // A string goes as it is: Postgres reads it to the microsecond (a Date has milliseconds only).
    serialize: (x: Date | string) => (x instanceof Date ? x.toISOString() : x),
    // `infinity` has no Date; it is returned as Postgres wrote it rather than throwing in the reader.
    parse: (x: string) => {
      const d = new Date(x);
      return Number.isNaN(d.getTime()) ? x : d.toISOString();
    },
  },
  day: {
    to: 1082,
    from: [1082],
    serialize: (x: Date | string) => (x instanceof Date ? x.toISOString().slice(0, 10) : x),
    parse: (x: string) => x,
  },
};

/**
 * Column names are camelCase in JavaScript and snake_case in SQL, both ways: a row's keys are
 * the entity's field names (`lifetime_value` reads as `lifetimeValue`), and `sql(object)` /
 * `sql(['firstName'])` write snake_case identifiers. Only names are transformed, never the keys
 * inside json values (segment criteria and collection scores are stored as they are sent).
 */
const TRANSFORM = { column: { from: postgres.toCamel, to: postgres.fromCamel } };

type Types = { numeric: number; instant: string; day: string };
/** A connection pool. */
export type Sql = postgres.Sql<Types>;
/** A transaction handle: every service takes one as its first argument. */
export type Tx = postgres.TransactionSql<Types>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// One pool per process; kept on globalThis so Next's dev reloads do not leak pools.
const holder = globalThis as typeof globalThis & { __havenSql?: Sql };

/** Options for a postgres.js pool; `prepare: false` behind Supabase's transaction pooler. */
export function connectionOptions(url: string, max: number): postgres.Options<typeof TYPES> {
  const parsed = new URL(url);
  const pooled = parsed.port === '6543' || parsed.searchParams.get('pgbouncer') === 'true';
  return {
    max,
    prepare: !pooled,
    types: TYPES,
    transform: TRANSFORM,
    onnotice: () => {},
    idle_timeout: 30,
    connection: { application_name: 'haven-hub' },
  };
}

/** Open a standalone pool (scripts, tests); the caller ends it. */
export function connect(url: string, max = 4): Sql {
  return postgres(url, connectionOptions(url, max));
}

/** The app's shared pool, from DATABASE_URL. */
export function db(): Sql {
  if (!holder.__havenSql) {
    const { DATABASE_URL, DATABASE_POOL_MAX } = env();
    if (!DATABASE_URL) {
      throw new Error('DATABASE_URL is not set. Run `npm run dev` (embedded Postgres) or set it to your database.');
    }
    holder.__havenSql = connect(DATABASE_URL, DATABASE_POOL_MAX);
  }
  return holder.__havenSql;
}

/** Close the shared pool (end of a script or a test file). */
export async function closeDb(): Promise<void> {
  const sql = holder.__havenSql;
  holder.__havenSql = undefined;
  if (sql) await sql.end({ timeout: 5 });
}

/**
 * Run `fn` in one transaction as the merchant: role `authenticated` with the JWT claims
 * Supabase would set, so row level security applies to every statement inside.
 */
export async function withTenant<T>(userId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (!UUID.test(userId)) throw new Error('withTenant needs a merchant uuid');
  const claims = JSON.stringify({ sub: userId, role: 'authenticated' });
  const result = await db().begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`;
    return fn(tx);
  });
  return result as T;
}

/**
 * Inside a merchant's transaction, run `fn` with the server's own role, for the writes the API
 * roles are not granted: secrets, keys, segment memberships and counts (see the migration
 * `api_write_privileges`). The caller scopes every statement to the merchant; the merchant's
 * role comes back afterwards, and an error aborts the whole transaction in any case.
 */
export async function asServer<T>(tx: Tx, fn: () => Promise<T>): Promise<T> {
  const [was] = await tx<{ role: string }[]>`select current_setting('role') as role`;
  await tx`select set_config('role', 'none', true)`;
  const result = await fn();
  await tx`select set_config('role', ${was?.role ?? 'none'}, true)`;
  return result;
}

/** Run `fn` in one transaction with the server's own role (cron, webhooks, public routes). */
export async function withSystem<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  const result = await db().begin((tx) => fn(tx));
  return result as T;
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * A value to bind as json/jsonb. postgres.js serializes it with JSON.stringify; its
 * JSONValue type only rejects interfaces without index signatures, which zod output is.
 */
export function jsonb(tx: Tx | Sql, value: object): postgres.Parameter {
  return tx.json(value as postgres.JSONValue);
}

/**
 * The fields of an entity's zod schema, to select as columns: `sql(fieldsOf(customerSchema))`
 * writes `first_name, ...` and the rows come back keyed `firstName`, so the schema is the only
 * place the shape is written.
 */
export function fieldsOf<S extends z.ZodObject>(schema: S): (keyof z.infer<S> & string)[] {
  return Object.keys(schema.shape) as (keyof z.infer<S> & string)[];
}
