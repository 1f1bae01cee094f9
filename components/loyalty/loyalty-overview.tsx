'use client';

import { Gift } from 'lucide-react';
import Link from 'next/link';
import { Bar, BarChart, CartesianGrid, Cell, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { LoyaltyShell } from '@/components/loyalty/loyalty-shell';
import { Badge } from '@/components/ui/badge';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Stat } from '@/components/ui/stat';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useLoyaltyDashboard, useReferralStats } from '@/hooks/use-loyalty';
import type { LoyaltyDashboard, Program } from '@/lib/loyalty/schemas';
import { formatDate, formatMoney, formatNumber } from '@/lib/format';

export const REDEMPTION_BADGE = { issued: 'info', used: 'success', expired: 'secondary', cancelled: 'warning' } as const;

const shortDay = (iso: string) => new Date(`${iso}T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });

/** Loyalty overview: what members hold and what it is worth, tiers, points over time, recent redemptions, top referrers. */
export function LoyaltyOverview() {
  return (
    <LoyaltyShell title="Loyalty" description="Points members earn and spend, what they are worth, and who brings friends.">
      {(program) => <OverviewBody program={program} />}
    </LoyaltyShell>
  );
}

function OverviewBody({ program }: { program: Program }) {
  const { data, isPending, error, refetch } = useLoyaltyDashboard(true);
  if (isPending) return <LoadingBlock label="Loading loyalty figures" rows={6} />;
  if (error) return <ErrorState title="Could not load loyalty figures" message={error.message} onRetry={() => void refetch()} />;
  return (
    <>
      <Kpis data={data} program={program} />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <PointsChart data={data} />
        <TierChart data={data} />
      </div>
      <div className="grid grid-cols-1 gap-6 xl:grid-cols-2">
        <RecentRedemptions data={data} />
        <TopReferrers />
      </div>
    </>
  );
}

function Kpis({ data, program }: { data: LoyaltyDashboard; program: Program }) {
  const t = data.totals;
  return (
    <section aria-label="Program figures" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
      <Stat label="Members" value={formatNumber(data.members)} definition="Customers with a points account: everyone who has earned or been given points since the program started." />
      <Stat label="Points outstanding" value={formatNumber(t.outstanding)} hint={`${formatMoney(t.liability)} in rewards owed`}
        definition={`Points members hold now: issued − redeemed − expired − clawed back ± adjustments. The liability values them at ${formatMoney(program.pointValue)} a point (Program settings).`} />
      <Stat label="Points issued" value={formatNumber(t.issued)} hint={`${formatNumber(t.clawedBack)} clawed back by refunds`}
        definition="Points members earned, every way (orders, referrals, reviews, birthdays, sign-ups, bonuses), since the program started. Clawed back: taken back when the order was refunded or cancelled." />
      <Stat label="Points redeemed" value={formatNumber(t.redeemed)} hint={`${formatNumber(t.expired)} expired unspent`}
        definition="Points spent on rewards since the program started. Expired: points that reached their expiry date unspent." />
    </section>
  );
}

function PointsChart({ data }: { data: LoyaltyDashboard }) {
  const weeks = data.weeks.map((w) => ({ ...w, label: shortDay(w.week) }));
  const issued = data.weeks.reduce((s, w) => s + w.issued, 0);
  const redeemed = data.weeks.reduce((s, w) => s + w.redeemed, 0);
  return (
    <Card>
      <CardHeader title="Points issued and redeemed" description={`Per week (from Monday), the last 12 weeks, in ${data.timeZone}.`} />
      <CardBody>
        <figure data-testid="chart-points" className="min-w-0">
          <div className="h-64" role="img" aria-label={`Points per week over the last 12 weeks: ${formatNumber(issued)} issued, ${formatNumber(redeemed)} redeemed`}>
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={weeks} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
                <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={12} />
                <YAxis tick={{ fontSize: 11 }} width={48} allowDecimals={false} tickFormatter={(v: number) => formatNumber(v)} />
                <Tooltip formatter={(v) => formatNumber(Number(v))} />
                <Legend wrapperStyle={{ fontSize: 12 }} />
                <Bar dataKey="issued" name="Issued" fill="#0f766e" radius={[3, 3, 0, 0]} />
                <Bar dataKey="redeemed" name="Redeemed" fill="#7c3aed" radius={[3, 3, 0, 0]} />
                <Bar dataKey="expired" name="Expired" fill="#94a3b8" radius={[3, 3, 0, 0]} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        </figure>
      </CardBody>
    </Card>
  );
}

function TierChart({ data }: { data: LoyaltyDashboard }) {
  return (
    <Card>
      <CardHeader title="Members by tier" description="Where members stand now." />
      <CardBody>
        <figure data-testid="chart-tiers" className="min-w-0">
          <div className="h-64" role="img" aria-label={`Members by tier: ${data.tiers.map((t) => `${t.name} ${formatNumber(t.members)}`).join(', ')}`}>
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={data.tiers} layout="vertical" margin={{ top: 4, right: 16, bottom: 0, left: 8 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" horizontal={false} />
                <XAxis type="number" tick={{ fontSize: 11 }} allowDecimals={false} />
                <YAxis type="category" dataKey="name" tick={{ fontSize: 12 }} width={80} />
                <Tooltip formatter={(v) => formatNumber(Number(v))} />
                <Bar dataKey="members" name="Members" radius={[0, 3, 3, 0]}>
                  {data.tiers.map((t) => <Cell key={t.id} fill={t.badgeColor ?? '#0f766e'} />)}
                </Bar>
              </BarChart>
            </ResponsiveContainer>
          </div>
        </figure>
      </CardBody>
    </Card>
  );
}

function RecentRedemptions({ data }: { data: LoyaltyDashboard }) {
  return (
    <Card>
      <CardHeader title="Recent redemptions" description="The last ten rewards members took, and whether the code has been used." />
      {data.recentRedemptions.length === 0
        ? <CardBody><EmptyState icon={Gift} title="No redemptions yet" description="Members redeem rewards from their page here, or from your storefront." /></CardBody>
        : (
          <Table>
            <THead><TR><TH>Member</TH><TH>Reward</TH><TH className="text-right">Points</TH><TH>Status</TH><TH>Date</TH></TR></THead>
            <TBody>
              {data.recentRedemptions.map((r) => (
                <TR key={r.id}>
                  <TD className="max-w-48 truncate"><Link className="text-brand-700 hover:underline" href={`/dashboard/loyalty/members/${r.customerId}`}>{r.email}</Link></TD>
                  <TD>{r.rewardName}</TD>
                  <TD className="text-right tabular-nums">{formatNumber(r.pointsSpent)}</TD>
                  <TD><Badge variant={REDEMPTION_BADGE[r.status]}>{r.status}</Badge></TD>
                  <TD className="whitespace-nowrap">{formatDate(r.createdAt)}</TD>
                </TR>
              ))}
            </TBody>
          </Table>
        )}
    </Card>
  );
}

function TopReferrers() {
  const { data, isPending, error, refetch } = useReferralStats();
  return (
    <Card>
      <CardHeader title="Top referrers" description="Members whose friends placed a first order." actions={<Link className="text-sm text-brand-700 hover:underline" href="/dashboard/loyalty/referrals">All referrals</Link>} />
      {isPending ? <CardBody><LoadingBlock label="Loading referrers" rows={3} /></CardBody>
        : error ? <CardBody><ErrorState title="Could not load referrers" message={error.message} onRetry={() => void refetch()} /></CardBody>
          : data.topReferrers.length === 0
            ? <CardBody><EmptyState icon={Gift} title="No referrals yet" description="Each member has a referral code; friends who use it get a reward and so does the member." /></CardBody>
            : (
              <Table>
                <THead><TR><TH>Member</TH><TH className="text-right">Referrals</TH><TH className="text-right">Converted</TH><TH className="text-right">Revenue</TH></TR></THead>
                <TBody>
                  {data.topReferrers.map((r) => (
                    <TR key={r.customerId}>
                      <TD className="max-w-48 truncate"><Link className="text-brand-700 hover:underline" href={`/dashboard/loyalty/members/${r.customerId}`}>{r.email}</Link></TD>
                      <TD className="text-right tabular-nums">{formatNumber(r.referrals)}</TD>
                      <TD className="text-right tabular-nums">{formatNumber(r.conversions)}</TD>
                      <TD className="text-right tabular-nums">{formatMoney(r.revenue)}</TD>
                    </TR>
                  ))}
                </TBody>
              </Table>
            )}
    </Card>
  );
}
