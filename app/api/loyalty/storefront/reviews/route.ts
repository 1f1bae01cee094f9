import { withServerKey } from '@/lib/api/handler';
import { storefrontReviewBody } from '@/lib/loyalty/schemas';
import { storefrontReview } from '@/lib/loyalty/storefront';
import { merchantForServerKey } from '@/lib/settings/server-key';

// POST /api/loyalty/storefront/reviews {email, reviewId} (server key) -> {points} credited (0 for a replay).
export const POST = withServerKey({ body: storefrontReviewBody }, merchantForServerKey, ({ tx, userId, body }) =>
  storefrontReview(tx, userId, body.email, body.reviewId));
