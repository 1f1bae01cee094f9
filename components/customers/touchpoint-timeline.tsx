'use client';

import { Activity } from 'lucide-react';
import { CHANNEL_LABELS, TOUCHPOINT_META } from '@/components/customers/labels';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { useCollections } from '@/hooks/use-collections';
import { collectionName } from '@/lib/collections/schemas';
import { cn } from '@/lib/cn';
import type { Touchpoint } from '@/lib/customers/schemas';
import { formatDateTime, formatMoney, formatRelative } from '@/lib/format';

export type TouchpointTimelineProps = {
  touchpoints: Touchpoint[];
  hasOlder: boolean;
  loadingOlder: boolean;
  olderError: string | null;
  onLoadOlder: () => void;
};

/** Newest-first list of everything the customer did, with a button to page back through older events. */
export function TouchpointTimeline({ touchpoints, hasOlder, loadingOlder, olderError, onLoadOlder }: TouchpointTimelineProps) {
  const collections = useCollections().data?.collections;
  return (
    <Card>
      <CardHeader title="Journey timeline" description="Every visit, email, cart and order, newest first." />
      <CardBody>
        {touchpoints.length === 0 ? (
          <p className="flex items-center gap-2 text-sm text-slate-600">
            <Activity className="size-4" aria-hidden="true" /> No activity recorded for this customer yet.
          </p>
        ) : (
          <ol className="relative space-y-4" aria-label="Touchpoints, newest first">
            {touchpoints.map((t, i) => {
              const meta = TOUCHPOINT_META[t.type];
              const purchase = t.type === 'purchase';
              return (
                <li key={t.id} className="relative flex gap-3" data-testid="touchpoint">
                  {i < touchpoints.length - 1 ? <span aria-hidden="true" className="absolute left-4 top-9 -bottom-4 w-px bg-slate-200" /> : null}
                  <span aria-hidden="true" className={cn('relative flex size-8 shrink-0 items-center justify-center rounded-full ring-4 ring-white',
                    purchase ? 'bg-emerald-100 text-emerald-700' : 'bg-slate-100 text-slate-600')}>
                    <meta.icon className="size-4" />
                  </span>
                  <div className="min-w-0 flex-1 pb-1">
                    <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
                      <span className="text-sm font-medium text-slate-900">{meta.label}</span>
                      {t.value !== null ? <span className="text-sm font-semibold tabular-nums text-slate-900">{formatMoney(t.value)}</span> : null}
                      <Badge variant="secondary">{CHANNEL_LABELS[t.channel] ?? t.channel}</Badge>
                      {t.collection ? <Badge variant="info">{collectionName(collections, t.collection)}</Badge> : null}
                    </div>
                    <p className="mt-0.5 text-xs text-slate-600">
                      <time dateTime={t.occurredAt} title={formatDateTime(t.occurredAt)}>{formatRelative(t.occurredAt)}</time>
                      {t.utmCampaign ? <> · campaign {t.utmCampaign}</> : null}
                    </p>
                  </div>
                </li>
              );
            })}
          </ol>
        )}
        {olderError ? <p role="alert" className="mt-4 text-sm text-red-700">{olderError}</p> : null}
        {hasOlder ? (
          <Button variant="secondary" size="sm" className="mt-5" loading={loadingOlder} onClick={onLoadOlder}>
            Load older activity
          </Button>
        ) : touchpoints.length > 0 ? (
          <p className="mt-5 text-xs text-slate-500">Start of this customer’s journey.</p>
        ) : null}
      </CardBody>
    </Card>
  );
}
