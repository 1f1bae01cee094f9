import 'server-only';
import { asServer, type Tx } from '@/lib/db';
import { AppError } from '@/lib/errors';
import type { StoreSettings, StoreSettingsUpdate } from '@/lib/settings/schemas';

/** The store's name, time zone and currency, with the time zone names the database knows. */
export async function getStoreSettings(tx: Tx, userId: string): Promise<StoreSettings> {
  const [row] = await tx<{ timeZone: string; currency: string; storeName: string | null }[]>`
    select time_zone, currency, store_name from public.merchant_settings where user_id = ${userId}`;
  if (!row) throw new AppError('not_found', 'Merchant not found');
  const zones = await tx<{ name: string }[]>`
    select name from pg_catalog.pg_timezone_names
     where name !~ '^(posix|right)/' and name <> 'posixrules' and name ~ '^([A-Z][A-Za-z_+-]*/[A-Za-z0-9_+/-]+|UTC)$'
     order by name`;
  return { ...row, timeZones: zones.map((z) => z.name) };
}

/** A new name, and a new time zone: every daily and monthly figure is recomputed in it, in this transaction. */
export async function updateStoreSettings(tx: Tx, userId: string, input: StoreSettingsUpdate): Promise<void> {
  if (input.storeName !== undefined) {
    await asServer(tx, () => tx`update public.merchant_settings set store_name = ${input.storeName ?? null} where user_id = ${userId}`);
    await tx`select public.log_activity(${userId}, 'settings.store_named', 'settings', null, ${tx.json({ storeName: input.storeName ?? null })})`;
  }
  const timeZone = input.timeZone;
  if (timeZone === undefined) return;
  const [known] = await tx<{ ok: boolean }[]>`
    select exists (select 1 from pg_catalog.pg_timezone_names where name = ${timeZone}) as ok`;
  if (!known?.ok) throw new AppError('bad_request', `Unknown time zone "${timeZone}"; use a name such as Europe/Paris`, { field: 'timeZone' });
  await asServer(tx, () => tx`select private.set_time_zone(${userId}, ${timeZone})`);
  await tx`select public.log_activity(${userId}, 'settings.store_updated', 'settings', null, ${tx.json({ timeZone })})`;
}
