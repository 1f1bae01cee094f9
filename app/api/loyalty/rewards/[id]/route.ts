import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { rewardPatch } from '@/lib/loyalty/schemas';
import { deleteReward, updateReward } from '@/lib/loyalty/service';

const params = z.object({ id: z.uuid('Not a reward id') });

export const PATCH = withMerchant({ params, body: rewardPatch }, ({ tx, merchant, params: { id }, body }) => updateReward(tx, merchant.userId, id, body));

// DELETE hides and closes the reward; its redemptions keep their history.
export const DELETE = withMerchant({ params }, ({ tx, merchant, params: { id } }) => deleteReward(tx, merchant.userId, id));
