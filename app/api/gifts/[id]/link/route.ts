import { withMerchant } from '@/lib/api/handler';
import { publicUrl } from '@/lib/api/urls';
import { giftParams } from '@/lib/gifts/schemas';
import { giftLink } from '@/lib/gifts/service';

// POST /api/gifts/:id/link -> {code, url, gift}: a new claim link to pass on by hand, shown this once.
export const POST = withMerchant({ params: giftParams }, ({ req, tx, merchant, params }) =>
  giftLink(tx, merchant.userId, params.id, (path) => publicUrl(req, path)));
