import 'server-only';
import { asServer, type Tx } from '@/lib/db';
import { AppError } from '@/lib/errors';
import type { StoreSettings, StoreSettingsUpdate } from '@/lib/settings/schemas';

/** The store's time zone and currency, with the time zone names the database knows. */
export async function getStoreSettings(tx: Tx, userId: string): Promise<StoreSettings> {
  const [row] = await tx<{ timeZone: string; currency: string }[]>`
    select time_zone, currency from public.merchant_settings where user_id = ${userId}`;
  if (!row) throw new AppError('not_found', 'Merchant not found');
  const zones = await tx<{ name: string }[]>`
    select name from pg_catalog.pg_timezone_names
     where name !~ '^(posix|right)/' and name <> 'posixrules' and name ~ '^([A-Z][A-Za-z_+-]*/[A-Za-z0-9_+/-]+|UTC)$'
     order by name`;
  return { ...row, timeZones: zones.map((z) => z.name) };
}

/** A new time zone: every daily and monthly figure is recomputed in it, in this transaction. */
export async function updateStoreSettings(tx: Tx, userId: string, input: StoreSettingsUpdate): Promise<void> {
  const [known] = await tx<{ ok: boolean }[]>`
    select exists (select 1 from pg_catalog.pg_timezone_names where name = ${input.timeZone}) as ok`;
  if (!known?.ok) throw new AppError('bad_request', `Unknown time zone "${input.timeZone}"; use a name such as Europe/Paris`, { field: 'timeZone' });
  await asServer(tx, () => tx`select private.set_time_zone(${userId}, ${input.timeZone})`);
  await tx`select public.log_activity(${userId}, 'settings.store_updated', 'settings', null, ${tx.json({ timeZone: input.timeZone })})`;
}
