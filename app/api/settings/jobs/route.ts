import { withMerchant } from '@/lib/api/handler';
import { cronStatus } from '@/lib/cron/status';

// GET /api/settings/jobs -> {jobs: [{job, lastStartedAt, lastFinishedAt, durationMs, state}]}
export const GET = withMerchant({}, ({ tx }) => cronStatus(tx));
