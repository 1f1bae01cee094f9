import { withMerchant } from '@/lib/api/handler';
import { storeSettingsUpdateSchema } from '@/lib/settings/schemas';
import { getStoreSettings, updateStoreSettings } from '@/lib/settings/store';

// GET /api/settings/store -> {timeZone, currency, timeZones}
export const GET = withMerchant({}, ({ tx, merchant }) => getStoreSettings(tx, merchant.userId));

// PUT /api/settings/store {timeZone} -> the store settings, with every trend recomputed in the new zone.
export const PUT = withMerchant({ body: storeSettingsUpdateSchema }, async ({ tx, merchant, body }) => {
  await updateStoreSettings(tx, merchant.userId, body);
  return getStoreSettings(tx, merchant.userId);
});
