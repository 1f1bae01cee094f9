import { z } from 'zod';
import { withMerchant } from '@/lib/api/handler';
import { transition, type Transition } from '@/lib/winback/service';

export const campaignParams = z.object({ id: z.uuid('Not a campaign id') });

/** POST /api/winback/campaigns/:id/<step> -> {campaign, result}; 404 for another merchant's id, 409 from the wrong status. */
export const transitionRoute = (step: Transition) =>
  withMerchant({ params: campaignParams }, ({ tx, merchant, params: { id } }) => transition(tx, merchant.userId, id, step));
