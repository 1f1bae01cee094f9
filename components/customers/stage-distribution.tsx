import Link from 'next/link';
import { STAGE_COLORS } from '@/components/customers/labels';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { cn } from '@/lib/cn';
import { STAGE_LABELS, STAGES, type JourneyAnalytics } from '@/lib/customers/schemas';
import { formatNumber, formatPercent } from '@/lib/format';

/** Where customers are now, one link per stage into the filtered customer list. */
export function StageDistribution({ analytics }: { analytics: JourneyAnalytics }) {
  const total = Math.max(analytics.totalCustomers, 1);
  return (
    <Card>
      <CardHeader title="Customers by stage" description="Where each customer is today. Select a stage to see who is in it." />
      <CardBody>
        <ul className="space-y-1">
          {STAGES.map((stage) => {
            const count = analytics.stageDistribution[stage] ?? 0;
            const share = count / total;
            return (
              <li key={stage}>
                <Link
                  href={`/dashboard/customers?stage=${stage}`}
                  className="group block rounded-md px-2 py-1.5 hover:bg-slate-50"
                  aria-label={`${STAGE_LABELS[stage]}: ${formatNumber(count)} customers, ${formatPercent(share)}`}
                >
                  <span className="flex items-center justify-between gap-2 text-sm">
                    <span className="font-medium text-slate-800 group-hover:underline group-hover:underline-offset-4">{STAGE_LABELS[stage]}</span>
                    <span className="tabular-nums text-slate-600">
                      {formatNumber(count)} <span className="text-xs text-slate-500">({formatPercent(share)})</span>
                    </span>
                  </span>
                  <span className="mt-1 block h-2 overflow-hidden rounded-full bg-slate-100" aria-hidden="true">
                    <span className={cn('block h-full rounded-full', STAGE_COLORS[stage].bar)} style={{ width: `${count > 0 ? Math.max(share * 100, 1) : 0}%` }} />
                  </span>
                </Link>
              </li>
            );
          })}
        </ul>
      </CardBody>
    </Card>
  );
}
