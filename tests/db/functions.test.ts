import { describe, expect, it } from 'vitest';
import { db } from '@/lib/db';

interface FnInfo {
  fn: string;
  definer: boolean;
  config: string[] | null;
  anon: boolean;
  authenticated: boolean;
  schema: string;
}

async function ourFunctions(): Promise<FnInfo[]> {
  return db()<FnInfo[]>`
    select p.oid::regprocedure::text as fn, p.prosecdef as definer, p.proconfig as config, n.nspname as schema,
           has_function_privilege('anon', p.oid, 'execute') as anon,
           has_function_privilege('authenticated', p.oid, 'execute') as authenticated
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ('public', 'private')
     order by 1`;
}

// Generic function guard: functions added by later migrations are covered automatically.
describe('SQL functions', () => {
  // The one SECURITY DEFINER function a merchant may call: the customer search, which must run
  // as its owner for its LIKEs to reach the trigram index under RLS. It takes no store argument
  // (the store is the caller's auth.uid()) and returns ids the caller then reads through its
  // policy; tests/db/customer-search.test.ts holds it to the caller's store.
  const MERCHANT_DEFINERS = ['customer_search_ids(text[])'];

  it('no SECURITY DEFINER function is executable by anon or authenticated, but the search', async () => {
    const fns = await ourFunctions();
    expect(fns.some((f) => f.definer)).toBe(true);
    const exposed = fns.filter((f) => f.definer && (f.anon || f.authenticated)).map((f) => ({ fn: f.fn, anon: f.anon, schema: f.schema }));
    expect(exposed).toEqual(MERCHANT_DEFINERS.map((fn) => ({ fn, anon: false, schema: 'public' })));
  });

  // Predicates the planner inlines into the statements that call them, which a SET clause
  // forbids: each reads no table, runs as its caller, schema-qualifies its operators and lives in
  // the private schema, which the API roles cannot reach (checked below, and by name here).
  const INLINED = ['private.segment_holds(private.segment_rule,customers)'];

  it('every function pins search_path, except the inlined predicates', async () => {
    const fns = await ourFunctions();
    const unpinned = fns.filter((f) => !(f.config ?? []).some((c) => c.startsWith('search_path='))).map((f) => f.fn);
    expect(unpinned).toEqual(INLINED);
    expect(fns.filter((f) => INLINED.includes(f.fn)).map((f) => ({ definer: f.definer, authenticated: f.authenticated, schema: f.schema })))
      .toEqual(INLINED.map(() => ({ definer: false, authenticated: false, schema: 'private' })));
  });

  it('anon can execute nothing of ours', async () => {
    const open = (await ourFunctions()).filter((f) => f.anon).map((f) => f.fn);
    expect(open).toEqual([]);
  });

  it('the private schema is unreachable for the API roles', async () => {
    const [row] = await db()<{ anon: boolean; authenticated: boolean }[]>`
      select has_schema_privilege('anon', 'private', 'usage') as anon,
             has_schema_privilege('authenticated', 'private', 'usage') as authenticated`;
    expect(row).toEqual({ anon: false, authenticated: false });
  });

  it('authenticated cannot TRUNCATE, which row level security would not stop', async () => {
    const [row] = await db()<{ n: number }[]>`
      select count(*)::int as n from pg_class c join pg_namespace ns on ns.oid = c.relnamespace
       where ns.nspname = 'public' and c.relkind = 'r' and has_table_privilege('authenticated', c.oid, 'truncate')`;
    expect(row?.n).toBe(0);
  });
});
