'use client';

import { Share2 } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { LoyaltyShell } from '@/components/loyalty/loyalty-shell';
import { Badge } from '@/components/ui/badge';
import { Card, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Pagination } from '@/components/ui/pagination';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Stat } from '@/components/ui/stat';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { REFERRALS_PAGE, useReferrals, useReferralStats } from '@/hooks/use-loyalty';
import { formatDate, formatMoney, formatNumber, formatPercent } from '@/lib/format';
import type { Referral } from '@/lib/loyalty/schemas';

const STATUS_BADGE = { pending: 'info', converted: 'success', rejected: 'danger', reversed: 'warning' } as const;
const REASONS: Record<NonNullable<Referral['rejectionReason']>, string> = {
  self_referral: 'Own code',
  existing_customer: 'Had ordered before',
  already_referred: 'Already referred',
};

/** Referrals: how many friends came, how many bought, what they spent, who refers most, and every referral. */
export function LoyaltyReferrals() {
  return (
    <LoyaltyShell title="Referrals" description="Friends who came through a member’s code, and what their first orders were worth.">
      {() => <ReferralsBody />}
    </LoyaltyShell>
  );
}

function ReferralsBody() {
  const stats = useReferralStats();
  const [status, setStatus] = useState<string | undefined>(undefined);
  const [offset, setOffset] = useState(0);
  const list = useReferrals(status, offset);
  return (
    <>
      {stats.isPending ? <LoadingBlock label="Loading referral figures" rows={2} />
        : stats.error ? <ErrorState title="Could not load referral figures" message={stats.error.message} onRetry={() => void stats.refetch()} />
          : (
            <section aria-label="Referral figures" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
              <Stat label="Referrals" value={formatNumber(stats.data.totalReferrals)} hint={`${formatNumber(stats.data.pendingReferrals)} waiting for a first order`}
                definition="Friends who claimed a member’s code or placed an order with it, since the program started. Refused attempts (own code, had ordered before, already referred) are not counted." />
              <Stat label="Converted" value={formatNumber(stats.data.convertedReferrals)} hint={`${formatNumber(stats.data.reversedReferrals)} reversed by a cancellation`}
                definition="Referrals whose friend placed a first order that still stands." />
              <Stat label="Conversion rate" value={stats.data.conversionRate === null ? '—' : formatPercent(stats.data.conversionRate)}
                definition="Converted referrals divided by all referrals (pending, converted and reversed)." />
              <Stat label="Revenue from referred orders" value={formatMoney(stats.data.totalRevenueGenerated)} hint={`${formatNumber(stats.data.pointsGiven)} points given to referrers`}
                definition="The totals of the friends’ first orders that converted a referral. Points given: what referrers hold for them after refunds." />
            </section>
          )}
      <Card>
        <CardHeader title="All referrals" description={stats.data ? `${formatNumber(stats.data.rejectedReferrals)} refused: ${formatNumber(stats.data.rejectedByReason.self_referral)} own code, ${formatNumber(stats.data.rejectedByReason.existing_customer)} had ordered before, ${formatNumber(stats.data.rejectedByReason.already_referred)} already referred.` : undefined}
          actions={
            <div className="flex items-center gap-2">
              <label htmlFor="referral-status" className="text-sm text-slate-600">Status</label>
              <Select id="referral-status" value={status ?? ''} className="w-40" onChange={(e) => { setStatus(e.target.value || undefined); setOffset(0); }}>
                <option value="">All</option>
                <option value="pending">Pending</option>
                <option value="converted">Converted</option>
                <option value="reversed">Reversed</option>
                <option value="rejected">Refused</option>
              </Select>
            </div>
          } />
        {list.isPending ? <LoadingBlock label="Loading referrals" rows={5} />
          : list.error ? <ErrorState title="Could not load referrals" message={list.error.message} onRetry={() => void list.refetch()} />
            : list.data.total === 0 ? <EmptyState icon={Share2} title={status ? 'No referrals with this status' : 'No referrals yet'} description="Each member has a referral code on their page; a friend who uses it gets a discount on a first order." />
              : (
                <div className={list.isPlaceholderData ? 'opacity-60 transition-opacity' : undefined}>
                  <Table>
                    <THead><TR><TH>Friend</TH><TH>Referred by</TH><TH>Status</TH><TH className="text-right">First order</TH><TH className="text-right">Points</TH><TH>Date</TH></TR></THead>
                    <TBody>
                      {list.data.referrals.map((r) => (
                        <TR key={r.id}>
                          <TD className="max-w-56 truncate">{r.friendEmail}</TD>
                          <TD className="max-w-56 truncate"><Link className="text-brand-700 hover:underline" href={`/dashboard/loyalty/members/${r.referrerId}`}>{r.referrerEmail}</Link></TD>
                          <TD><Badge variant={STATUS_BADGE[r.status]}>{r.status === 'rejected' ? 'refused' : r.status}</Badge>{r.rejectionReason ? <span className="ml-2 text-xs text-slate-600">{REASONS[r.rejectionReason]}</span> : null}</TD>
                          <TD className="text-right tabular-nums">{r.orderRevenue === null ? '—' : formatMoney(r.orderRevenue)}</TD>
                          <TD className="text-right tabular-nums">{formatNumber(r.pointsGiven)}</TD>
                          <TD className="whitespace-nowrap">{formatDate(r.createdAt)}</TD>
                        </TR>
                      ))}
                    </TBody>
                  </Table>
                  <div className="border-t border-slate-200 px-5 py-3">
                    <Pagination offset={offset} limit={REFERRALS_PAGE} total={list.data.total} onChange={setOffset} label="Referral pages" />
                  </div>
                </div>
              )}
      </Card>
    </>
  );
}
