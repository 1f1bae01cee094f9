import { withMerchant } from '@/lib/api/handler';
import { programPatch } from '@/lib/loyalty/schemas';
import { getProgram, updateProgram } from '@/lib/loyalty/service';

// GET /api/loyalty/program -> the program's settings (404 until set up).
export const GET = withMerchant({}, ({ tx, merchant }) => getProgram(tx, merchant.userId));

// PATCH /api/loyalty/program {enabled?, pointsPerUnit?, pointValue?, expiryMonths?, tierBasis?, ...}
export const PATCH = withMerchant({ body: programPatch }, ({ tx, merchant, body }) => updateProgram(tx, merchant.userId, body));
