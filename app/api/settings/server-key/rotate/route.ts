import { withMerchant } from '@/lib/api/handler';
import { rotateServerKey } from '@/lib/settings/server-key';

// POST /api/settings/server-key/rotate -> {serverKey}: the only time the key is shown.
export const POST = withMerchant({}, async ({ tx, merchant }) => ({ serverKey: await rotateServerKey(tx, merchant.userId) }));
