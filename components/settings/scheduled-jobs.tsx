'use client';

import { Clock } from 'lucide-react';
import { Badge, type BadgeVariant } from '@/components/ui/badge';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { LoadingBlock } from '@/components/ui/skeleton';
import { useCronStatus } from '@/hooks/use-settings';
import { CRON_JOB_INFO, type CronJobName, type CronJobStatus } from '@/lib/cron/schemas';
import { formatDateTime, formatNumber, formatRelative } from '@/lib/format';

const STATE: Record<CronJobStatus['state'], { text: string; variant: BadgeVariant; means: string }> = {
  ok: { text: 'Up to date', variant: 'success', means: 'Its last call finished everything that was due.' },
  behind: { text: 'Catching up', variant: 'warning', means: 'Its last call used its time budget with work left; the next call goes on from there.' },
  running: { text: 'Running', variant: 'info', means: 'A call has started and not finished yet.' },
  failed: { text: 'Failed', variant: 'danger', means: 'Its last call stopped with an error; the next call tries again.' },
  late: { text: 'Late', variant: 'danger', means: 'No call for more than twice its interval: check the scheduler (vercel.json crons, or npm run cron).' },
  never: { text: 'Not run yet', variant: 'secondary', means: 'No call has reached it yet: the scheduler may not be set up (where a worker sends the messages, their job needs no call).' },
};

const took = (ms: number) => (ms < 1000 ? `${formatNumber(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** The scheduled jobs: when each last ran, how long it took, and whether it keeps up. */
export function ScheduledJobsCard() {
  const { data, isPending, error, refetch } = useCronStatus();
  return (
    <Card>
      <CardHeader title="Scheduled jobs"
        description="Work that runs on a schedule for your store: storefront events folded into customers, stage changes over time, segment members, expiries, messages. Each call works for a few seconds and the next one goes on where it stopped." />
      <CardBody>
        {isPending ? <LoadingBlock label="Loading scheduled jobs" rows={3} />
          : error ? <ErrorState title="Could not load the scheduled jobs" message={error.message} onRetry={() => void refetch()} />
          : data.jobs.every((j) => j.state === 'never') ? (
            <EmptyState icon={Clock} title="No job has run yet"
              description="Once the scheduler calls /api/cron/<job> (Vercel's crons, or npm run cron), each job's last run shows here." />
          ) : (
            <ul className="divide-y divide-slate-200" aria-label="Scheduled jobs">
              {data.jobs.map((j) => <JobRow key={j.job} status={j} />)}
            </ul>
          )}
      </CardBody>
    </Card>
  );
}

function JobRow({ status: j }: { status: CronJobStatus }) {
  const info = CRON_JOB_INFO[j.job as CronJobName];
  const state = STATE[j.state];
  return (
    <li className="flex flex-col gap-1 py-3 sm:flex-row sm:flex-wrap sm:items-start sm:justify-between sm:gap-x-4">
      <div className="min-w-0 text-sm">
        <p className="font-medium text-slate-900">{info?.label ?? j.job}</p>
        <p className="text-slate-600">{info?.does}{info ? ` · every ${info.everyMinutes === 1 ? 'minute' : `${info.everyMinutes} minutes`}` : ''}</p>
      </div>
      <div className="flex flex-wrap items-center gap-2 text-sm text-slate-600 sm:justify-end">
        {j.lastStartedAt ? (
          <span>
            Last run <time dateTime={j.lastStartedAt} title={formatDateTime(j.lastStartedAt)}>{formatRelative(j.lastStartedAt)}</time>
            {j.durationMs !== null ? ` · took ${took(j.durationMs)}` : ''}
          </span>
        ) : null}
        <Badge variant={state.variant}>{state.text}</Badge>
      </div>
      {j.state === 'ok' ? null : <p className="text-xs text-slate-600 sm:basis-full">{state.means}</p>}
    </li>
  );
}
