import { withMerchant } from '@/lib/api/handler';
import { rotateTrackingKey } from '@/lib/settings/integrations';

// POST /api/settings/tracking-key/rotate -> {publishableKey}
export const POST = withMerchant({}, async ({ tx, merchant }) => ({
  publishableKey: await rotateTrackingKey(tx, merchant.userId),
}));
