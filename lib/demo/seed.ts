import 'server-only';
import { createLocalUser, LOCAL_AUTH_MARKER, verifyLocalUser } from '@/lib/auth/local';
import type { Sql } from '@/lib/db';
import { seedHistory } from '@/lib/demo/history';

export const DEMO_EMAIL = 'demo@havenhub.test';
export const DEMO_PASSWORD = 'havenhub-demo';

/**
 * The demo merchant (idempotent): an account with the printed login. Each module adds its
 * demo data here so every page has something true to show.
 */
export async function seedDemo(sql: Sql, options: { customers?: number } = {}): Promise<{ userId: string; created: boolean; giftClaimPath?: string } | null> {
  // Never write a known password into a real Supabase auth.users.
  const [store] = await sql<{ note: string | null }[]>`select obj_description('auth.users'::regclass, 'pg_class') as note`;
  if (store?.note !== LOCAL_AUTH_MARKER) return null;
  const result = await sql.begin(async (tx) => {
    const existing = await verifyLocalUser(tx, DEMO_EMAIL, DEMO_PASSWORD);
    if (existing) return { userId: existing.userId, created: false };
    const created = await createLocalUser(tx, DEMO_EMAIL, DEMO_PASSWORD);
    if (!created) throw new Error(`${DEMO_EMAIL} exists with another password; remove it or use another DATA_DIR`);
    // A store in New York, named as its shoppers know it: days and months on the Overview are New York's (set before any data, so nothing to recompute).
    await tx`update public.merchant_settings set shop_domain = 'haven-demo.myshopify.com', time_zone = 'America/New_York', store_name = 'Haven & Hearth'
              where user_id = ${created.userId}`;
    await tx`select public.log_activity(${created.userId}, 'demo.seeded')`;
    return { userId: created.userId, created: true };
  }) as { userId: string; created: boolean };
  if (!result.created) return result;
  const { giftClaimPath } = await seedHistory(sql, result.userId, { customers: options.customers ?? 2000, months: 18 });
  return { ...result, giftClaimPath };
}
