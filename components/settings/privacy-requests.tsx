'use client';

import { Download, ShieldCheck } from 'lucide-react';
import { useId, useState } from 'react';
import { Badge } from '@/components/ui/badge';
import { Button, buttonClasses } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import { useMarkHandled, usePrivacyRequests } from '@/hooks/use-privacy';
import { errorText } from '@/lib/error-text';
import { formatDateTime, formatNumber } from '@/lib/format';
import { EXPORT_TABLES, type ShopperRequest } from '@/lib/privacy/schemas';

const changed = (r: ShopperRequest) =>
  Object.values(r.result ?? {}).flatMap((t) => Object.values(t)).reduce((a, b) => a + b, 0);

/** Shopify's compliance requests: data requests to answer (with their files) and erasures carried out. */
export function PrivacyRequestsCard() {
  const { data, isPending, error, refetch } = usePrivacyRequests();
  return (
    <Card>
      <CardHeader title="Privacy requests"
        description="Shopify sends these when a shopper asks a store for their data or to be forgotten. An erasure is carried out when it arrives; a data request stays open until you have sent the shopper their file and mark it handled." />
      <CardBody>
        {isPending ? <LoadingBlock label="Loading privacy requests" rows={2} />
          : error ? <ErrorState title="Could not load privacy requests" message={error.message} onRetry={() => void refetch()} />
          : data.requests.length === 0 ? (
            <EmptyState icon={ShieldCheck} title="No requests yet"
              description="When a shopper asks your store for their data, or to be erased, Shopify's request appears here." />
          ) : (
            <ul className="divide-y divide-slate-200" aria-label="Privacy requests, newest first">
              {data.requests.map((r) => <RequestRow key={r.id} request={r} />)}
            </ul>
          )}
      </CardBody>
    </Card>
  );
}

function RequestRow({ request: r }: { request: ShopperRequest }) {
  const [table, setTable] = useState<string>(EXPORT_TABLES[0]);
  const handled = useMarkHandled();
  const { toast } = useToast();
  const selectId = useId();
  const base = `/api/privacy/requests/${encodeURIComponent(r.id)}/export`;
  const isData = r.topic === 'customers/data_request';
  return (
    <li className="flex flex-col gap-3 py-3 sm:flex-row sm:items-start sm:justify-between">
      <div className="min-w-0 text-sm">
        <p className="flex flex-wrap items-center gap-2 font-medium text-slate-900">
          {isData ? 'Data request' : 'Erasure'}
          <Badge variant={r.status === 'open' ? 'warning' : 'success'}>
            {r.status === 'open' ? 'Open' : r.status === 'handled' ? 'Handled' : 'Done'}
          </Badge>
        </p>
        <p className="text-slate-600">
          Received {formatDateTime(r.receivedAt)}
          {r.ordersNamed > 0 ? ` · ${formatNumber(r.ordersNamed)} orders named` : ''}
          {r.handledAt ? ` · handled ${formatDateTime(r.handledAt)}` : ''}
          {!isData ? ` · ${formatNumber(changed(r))} rows erased` : ''}
          {r.customerId ? null : ' · not one of your customers'}
        </p>
      </div>
      {isData && r.status === 'open' ? (
        <div className="flex flex-wrap items-center gap-2">
          <a href={base} download className={buttonClasses('secondary', 'sm')}>
            <Download className="size-4" aria-hidden="true" /> JSON
          </a>
          <label htmlFor={selectId} className="sr-only">Table to download as CSV</label>
          <Select id={selectId} value={table} onChange={(e) => setTable(e.target.value)} className="w-44">
            {EXPORT_TABLES.map((t) => <option key={t} value={t}>{t.replaceAll('_', ' ')}</option>)}
          </Select>
          <a href={`${base}?format=csv&table=${table}`} download className={buttonClasses('secondary', 'sm')}>
            <Download className="size-4" aria-hidden="true" /> CSV
          </a>
          <Button size="sm" onClick={() => handled.mutate(r.id, {
            onSuccess: () => toast({ variant: 'success', title: 'Marked handled', description: 'Its file is no longer kept.' }),
            onError: (err) => toast({ variant: 'error', title: 'Could not mark it handled', description: errorText(err, 'Please try again.') }),
          })} loading={handled.isPending}>
            Mark handled
          </Button>
        </div>
      ) : null}
    </li>
  );
}
