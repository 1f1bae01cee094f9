import { z } from 'zod';

/**
 * The scheduled jobs as the merchant sees them: what each does and how often it is meant to run
 * (vercel.json's schedule), so Settings can say when one is late.
 */
export const CRON_JOB_INFO = {
  touchpoints: { label: 'Storefront events', does: 'Folds accepted storefront events into their customers’ activity, affinity and stage', everyMinutes: 1 },
  stages: { label: 'Stage reviews', does: 'Moves customers to at risk or churned as time passes', everyMinutes: 60 },
  segments: { label: 'Segments', does: 'Brings segment members up to date with what changed, and builds new or edited segments', everyMinutes: 5 },
  rollups: { label: 'Analytics totals', does: 'Folds new figures into the dashboard’s totals', everyMinutes: 5 },
  coupons: { label: 'Coupon expiry', does: 'Expires coupons past their end date', everyMinutes: 10 },
  loyalty: { label: 'Loyalty', does: 'Expires points and reward codes, gives birthday points', everyMinutes: 60 },
  winback: { label: 'Win-back', does: 'Enrols customers who became at risk or churned, completes ended campaigns', everyMinutes: 15 },
  gifts: { label: 'Gift expiry', does: 'Expires gifts never claimed', everyMinutes: 60 },
  jobs: { label: 'Messages', does: 'Sends queued messages to Klaviyo (where no worker runs)', everyMinutes: 1 },
  'rate-limits': { label: 'Rate limits', does: 'Clears ended rate-limit windows', everyMinutes: 60 },
} as const;
export type CronJobName = keyof typeof CRON_JOB_INFO;

const instant = z.iso.datetime({ offset: true });

/**
 * One job's last call. `state`: never run; running (started, not finished); failed (its last
 * call raised an error); late (no call for twice its interval: is the scheduler set up?);
 * behind (its last call ran out of budget with work left, which the next call resumes); ok.
 */
export const cronJobStatusSchema = z.object({
  job: z.string(),
  lastStartedAt: instant.nullable(),
  lastFinishedAt: instant.nullable(),
  durationMs: z.number().int().nullable(),
  state: z.enum(['never', 'running', 'failed', 'late', 'behind', 'ok']),
});
export type CronJobStatus = z.infer<typeof cronJobStatusSchema>;

export const cronStatusSchema = z.object({ jobs: z.array(cronJobStatusSchema) });
export type CronStatus = z.infer<typeof cronStatusSchema>;
