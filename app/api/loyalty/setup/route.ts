import { withMerchant } from '@/lib/api/handler';
import { setupProgram } from '@/lib/loyalty/service';

// POST /api/loyalty/setup -> the program (switched on), with Bronze, Silver and Gold the first time.
export const POST = withMerchant({}, ({ tx, merchant }) => setupProgram(tx, merchant.userId));
