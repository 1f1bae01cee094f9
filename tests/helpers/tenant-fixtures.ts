import type { Tx } from '@/lib/db';

/**
 * One row per public table for a merchant, inserted with the system role. The generic RLS
 * guard needs a row of A's in every table; a table without a fixture here fails that test,
 * so every new table must add one.
 */
export const TENANT_FIXTURES: Record<string, (tx: Tx, userId: string) => Promise<unknown>> = {
  // merchant_settings: created for every user by the auth.users trigger.
  merchant_settings: async () => undefined,
  merchant_credentials: (tx, userId) => tx`
    insert into public.merchant_credentials (user_id, provider, ciphertext, last4)
    values (${userId}, 'klaviyo', 'v1.fixture', 'abcd')`,
  activity_log: (tx, userId) => tx`select public.log_activity(${userId}, 'fixture.created')`,
  leads: (tx, userId) => tx`
    insert into public.leads (user_id, email) values (${userId}, ${`lead-${userId.slice(0, 8)}@example.test`})`,
};
