import { AlertTriangle, Repeat, ShoppingBag, UserPlus, Users, type LucideIcon } from 'lucide-react';
import Link from 'next/link';
import { Badge } from '@/components/ui/badge';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { cn } from '@/lib/cn';
import type { JourneyAnalytics } from '@/lib/customers/schemas';
import { formatNumber, formatPercent } from '@/lib/format';

interface FunnelStep {
  label: string;
  value: number;
  icon: LucideIcon;
  color: string;
}

/** Seed's journey funnel: customers who reached each step, with conversion from the step before. */
export function JourneyFunnel({ analytics }: { analytics: JourneyAnalytics }) {
  const funnel = analytics.conversionFunnel;
  const steps: FunnelStep[] = [
    { label: 'Visitors', value: funnel.visitors, icon: Users, color: 'bg-slate-400' },
    { label: 'Leads', value: funnel.leads, icon: UserPlus, color: 'bg-sky-500' },
    { label: 'Customers', value: funnel.customers, icon: ShoppingBag, color: 'bg-emerald-500' },
    { label: 'Repeat', value: funnel.repeat, icon: Repeat, color: 'bg-brand-600' },
  ];
  const max = Math.max(funnel.visitors, 1);

  return (
    <Card>
      <CardHeader title="Customer journey funnel" description="Customers who reached each step, and how many moved on from the step before." />
      <CardBody>
        <ol className="space-y-4" aria-label="Funnel steps">
          {steps.map((step, index) => {
            const prev = index > 0 ? steps[index - 1] : undefined;
            const rate = prev && prev.value > 0 ? step.value / prev.value : null;
            const width = Math.max((step.value / max) * 100, 2);
            return (
              <li key={step.label} data-testid="funnel-step">
                <div className="mb-1 flex items-center justify-between gap-2">
                  <div className="flex items-center gap-2">
                    <step.icon className="size-4 text-slate-500" aria-hidden="true" />
                    <span className="text-sm font-medium text-slate-800">{step.label}</span>
                  </div>
                  <div className="flex items-center gap-2">
                    <span className="font-mono text-sm tabular-nums text-slate-900">{formatNumber(step.value)}</span>
                    {rate !== null && prev ? (
                      <Badge variant="secondary" title={`${formatPercent(rate)} of ${prev.label.toLowerCase()}`}>
                        {formatPercent(rate)}
                        <span className="sr-only"> of {prev.label.toLowerCase()}</span>
                      </Badge>
                    ) : null}
                  </div>
                </div>
                <div className="h-8 overflow-hidden rounded-md bg-slate-100" aria-hidden="true">
                  <div className={cn('h-full rounded-md transition-all', step.color)} style={{ width: `${width}%` }} data-testid="funnel-bar" />
                </div>
              </li>
            );
          })}
        </ol>

        {analytics.atRiskCount > 0 ? (
          <div className="mt-6 flex flex-wrap items-center justify-between gap-2 rounded-md border border-amber-200 bg-amber-50 p-3">
            <p className="flex items-center gap-2 text-sm text-amber-900">
              <AlertTriangle className="size-4 text-amber-600" aria-hidden="true" />
              <span>
                <strong>{formatNumber(analytics.atRiskCount)}</strong> {analytics.atRiskCount === 1 ? 'customer is' : 'customers are'} at risk of churning
              </span>
            </p>
            <Link href="/dashboard/customers?stage=at_risk" className="text-sm font-medium text-amber-900 underline underline-offset-4 hover:text-amber-950">
              Review at-risk customers
            </Link>
          </div>
        ) : null}
      </CardBody>
    </Card>
  );
}
