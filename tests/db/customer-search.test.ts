import postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { listCustomers } from '@/lib/customers/service';
import { listMembers } from '@/lib/loyalty/service';
import { connectionOptions, db, withSystem, withTenant } from '@/lib/db';
import { env } from '@/lib/env';
import { createMerchant, type TestMerchant } from '@/tests/helpers/merchants';

/**
 * The customer search under row level security. A LIKE in the merchant's own query cannot use
 * the trigram index (LIKE is not leakproof, and RLS keeps what is not from the index), so the
 * search reads its matches through `public.customer_search_ids`, which runs as its owner and
 * keeps to the caller's store.
 */
describe('customer search', () => {
  let a: TestMerchant;
  let b: TestMerchant;
  const EMAILS = ['zoe.moreau.1728@example.test', 'zoe.martin.17@example.test', 'adele.roux@example.test', 'percent%sign@example.test'];

  beforeAll(async () => {
    a = await createMerchant('search-a');
    b = await createMerchant('search-b');
    await withSystem((tx) => tx`
      insert into public.customers (user_id, email, first_name)
      select ${a.userId}, e, 'Zoë' from unnest(${EMAILS}::text[]) e`);
    await withSystem((tx) => tx`insert into public.customers (user_id, email) values (${b.userId}, 'bea@example.test')`);
    await withSystem((tx) => tx`select private.loyalty_setup(${a.userId})`);
    await withSystem((tx) => tx`
      insert into public.loyalty_members (user_id, customer_id, referral_code)
      select user_id, id, upper(substr(md5(id::text), 1, 16)) from public.customers where user_id = ${a.userId}`);
  });

  it('reads the trigram index as the merchant, and finds what it found before', async () => {
    // Enough other customers that reading the store's rows costs more than the index, and the
    // planner knows it.
    await withSystem((tx) => tx`
      insert into public.customers (user_id, email) select ${a.userId}, 'filler.' || g || '@example.test' from generate_series(1, 40000) g`);
    await db()`analyze public.customers`;
    // Every statement's plan, nested ones too (the function's), as auto_explain reports them to the client.
    const plans: string[] = [];
    const sql = postgres(env().DATABASE_URL ?? '', { ...connectionOptions(env().DATABASE_URL ?? '', 1), onnotice: (n) => { plans.push(n.message ?? ''); } });
    try {
      const { emails, members } = await sql.begin(async (tx) => {
        await tx`load 'auto_explain'`;
        // A few thousand rows are still read fastest one after another: the choice left is between indexes.
        await tx`set local enable_seqscan = off`;
        await tx`select set_config('auto_explain.log_min_duration', '0', true), set_config('auto_explain.log_nested_statements', 'on', true),
                        set_config('client_min_messages', 'log', true)`;
        await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ sub: a.userId, role: 'authenticated' })}, true)`;
        const page = await listCustomers(tx, a.userId, { search: 'ZOE  mor', sort: 'email', order: 'asc', limit: 20 });
        const loyal = await listMembers(tx, a.userId, { search: 'MOREAU', sort: 'balance', order: 'desc', limit: 20 });
        return { emails: page.customers.map((c) => c.email), members: loyal.members.map((m) => m.email).sort() };
      });
      expect(emails).toEqual(['zoe.moreau.1728@example.test']);
      expect(members).toEqual(['zoe.moreau.1728@example.test']);
    } finally {
      await sql.end();
    }
    // Under RLS a LIKE in the list's own query never reaches this index: the store's rows are read and each tested.
    const searches = plans.filter((p) => p.includes('customers_search_text_idx'));
    expect(searches.length).toBeGreaterThanOrEqual(2);
    expect(plans.filter((p) => /Filter: .*search_text ~~/.test(p) && !p.includes('customers_search_text_idx'))).toEqual([]);
  });

  it('takes a LIKE wildcard literally', async () => {
    const found = await withTenant(a.userId, (tx) => tx<{ id: string }[]>`select public.customer_search_ids(array['t%s']) as id`);
    const [row] = await db()<{ email: string }[]>`select email from public.customers where id = ${found[0]?.id ?? null}`;
    expect({ n: found.length, email: row?.email }).toEqual({ n: 1, email: 'percent%sign@example.test' });
  });

  it('finds only the caller\'s own customers, and nothing without a merchant', async () => {
    const asB = await withTenant(b.userId, (tx) => tx<{ id: string }[]>`select public.customer_search_ids(array['zoe']) as id`);
    expect(asB).toEqual([]);
    const ownB = await withTenant(b.userId, (tx) => tx<{ id: string }[]>`select public.customer_search_ids(array['bea']) as id`);
    expect(ownB).toHaveLength(1);
    // `authenticated` with no claims (no merchant): nothing, not everyone's.
    const anonymous = await db().begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true)`;
      return tx<{ id: string }[]>`select public.customer_search_ids(array['zoe']) as id`;
    });
    expect(anonymous).toEqual([]);
    await expect(db().begin(async (tx) => {
      await tx`select set_config('role', 'anon', true)`;
      return tx`select public.customer_search_ids(array['zoe'])`;
    })).rejects.toThrow(/permission denied/);
  });
});
