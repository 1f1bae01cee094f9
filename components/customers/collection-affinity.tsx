'use client';

import { Badge } from '@/components/ui/badge';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { cn } from '@/lib/cn';
import { useCollections } from '@/hooks/use-collections';
import { collectionName } from '@/lib/collections/schemas';
import type { Customer } from '@/lib/customers/schemas';
import { formatPercent } from '@/lib/format';

/** Share of interest per collection from collectionScores; the primary collection is highlighted. */
export function CollectionAffinity({ customer }: { customer: Customer }) {
  const { data } = useCollections();
  const scores = customer.collectionScores;
  // The merchant's collections in their order, then any slug still scored but since removed.
  const known = data?.collections.map((c) => c.slug) ?? [];
  const slugs = [...known, ...Object.keys(scores).filter((s) => !known.includes(s))];
  const sum = slugs.reduce((acc, c) => acc + Math.max(scores[c] ?? 0, 0), 0);
  return (
    <Card>
      <CardHeader title="Collection affinity" titleAs="h2" description="Which collections this customer engages with most." />
      <CardBody>
        {sum === 0 ? (
          <p className="text-sm text-slate-600">No collection interest recorded yet. It builds up from product views and purchases.</p>
        ) : (
          <ul className="space-y-3">
            {slugs.map((c) => {
              const share = Math.max(scores[c] ?? 0, 0) / sum;
              const primary = customer.primaryCollection === c;
              return (
                <li key={c}>
                  <div className="mb-1 flex items-center justify-between gap-2 text-sm">
                    <span className={cn('flex items-center gap-2', primary ? 'font-semibold text-slate-900' : 'text-slate-700')}>
                      {collectionName(data?.collections, c)}
                      {primary ? <Badge>Primary</Badge> : null}
                    </span>
                    <span className="tabular-nums text-slate-600">{formatPercent(share, 0)}</span>
                  </div>
                  <div className="h-2.5 overflow-hidden rounded-full bg-slate-100" aria-hidden="true">
                    <div className={cn('h-full rounded-full', primary ? 'bg-brand-600' : 'bg-slate-400')} style={{ width: `${share * 100}%` }} />
                  </div>
                </li>
              );
            })}
          </ul>
        )}
      </CardBody>
    </Card>
  );
}
