import { ArrowRight, History } from 'lucide-react';
import { TRIGGER_LABELS } from '@/components/customers/labels';
import { StageBadge } from '@/components/customers/stage-badge';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { type Customer, type StageTransition } from '@/lib/customers/schemas';
import { formatDateTime, formatRelative } from '@/lib/format';

/** Transitions newest first, whatever order the API used. */
export function sortTransitions(transitions: StageTransition[]): StageTransition[] {
  return [...transitions].sort((a, b) => Date.parse(b.transitionedAt) - Date.parse(a.transitionedAt));
}

/** The latest transition's reason and rule, so a merchant can see why the customer is where they are. */
export function WhyThisStage({ customer, latest }: { customer: Customer; latest: StageTransition | undefined }) {
  return (
    <Card>
      <CardHeader title="Why this stage" description={<>Currently <StageBadge stage={customer.stage} /></>} />
      <CardBody className="space-y-2 text-sm">
        {latest ? (
          <>
            <p className="text-slate-900">{latest.reason}</p>
            <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-slate-600">
              <dt>Rule</dt>
              <dd><code className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-800">{latest.rule}</code></dd>
              <dt>Trigger</dt>
              <dd>{TRIGGER_LABELS[latest.triggerType]}</dd>
              <dt>Since</dt>
              <dd><time dateTime={latest.transitionedAt} title={formatDateTime(latest.transitionedAt)}>{formatRelative(latest.transitionedAt)}</time></dd>
            </dl>
          </>
        ) : (
          <p className="text-slate-600">
            No stage changes recorded yet. Every customer starts as a visitor and moves on as they sign up, buy and come back.
          </p>
        )}
      </CardBody>
    </Card>
  );
}

/** Every logged stage change: from, to, what triggered it, why, and when. */
export function StageHistory({ transitions }: { transitions: StageTransition[] }) {
  return (
    <Card>
      <CardHeader title="Stage history" />
      <CardBody>
        {transitions.length === 0 ? (
          <p className="flex items-center gap-2 text-sm text-slate-600">
            <History className="size-4" aria-hidden="true" /> No stage changes yet.
          </p>
        ) : (
          <ol className="space-y-4" aria-label="Stage changes, newest first">
            {transitions.map((t) => (
              <li key={t.id} className="border-l-2 border-slate-200 pl-3">
                <div className="flex flex-wrap items-center gap-1.5">
                  <StageBadge stage={t.fromStage} />
                  <ArrowRight className="size-3.5 text-slate-500" aria-hidden="true" />
                  <span className="sr-only">to</span>
                  <StageBadge stage={t.toStage} />
                </div>
                <p className="mt-1 text-sm text-slate-800">{t.reason}</p>
                <p className="mt-0.5 text-xs text-slate-600">
                  {TRIGGER_LABELS[t.triggerType]} ·{' '}
                  <time dateTime={t.transitionedAt} title={formatRelative(t.transitionedAt)}>{formatDateTime(t.transitionedAt)}</time>
                </p>
              </li>
            ))}
          </ol>
        )}
      </CardBody>
    </Card>
  );
}
