'use client';

import Link from 'next/link';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { LoadingBlock } from '@/components/ui/skeleton';
import { useMember, useProgram } from '@/hooks/use-loyalty';
import { formatNumber } from '@/lib/format';

/** The customer's points and tier on the customer page, with the way to the member page. */
export function LoyaltyMemberCard({ customerId }: { customerId: string }) {
  const program = useProgram();
  const member = useMember(customerId, 0);
  if (program.data === null) return null;
  return (
    <Card>
      <CardHeader title="Loyalty" actions={member.data ? <Link className="text-sm text-brand-700 hover:underline" href={`/dashboard/loyalty/members/${customerId}`}>Points history</Link> : undefined} />
      <CardBody>
        {member.isPending || program.isPending ? <LoadingBlock label="Loading points" rows={1} />
          : member.error ? <p className="text-sm text-red-700">Could not load points: {member.error.message}</p>
            : !member.data ? <p className="text-sm text-slate-600">Not a member yet: the first points (an order, a bonus) open the account.</p>
              : (
                <dl className="grid grid-cols-2 gap-3 text-sm" data-testid="customer-loyalty">
                  <div><dt className="text-slate-600">Points</dt><dd className="text-xl font-semibold tabular-nums">{formatNumber(member.data.pointsBalance)}</dd></div>
                  <div><dt className="text-slate-600">Tier</dt><dd className="text-xl font-semibold">{member.data.tierName ?? '—'}</dd></div>
                  {member.data.nextTierName && member.data.toNextTier !== null ? (
                    <div className="col-span-2 text-xs text-slate-600">{formatNumber(member.data.toNextTier)} to {member.data.nextTierName}</div>
                  ) : null}
                </dl>
              )}
      </CardBody>
    </Card>
  );
}
