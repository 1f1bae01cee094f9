'use client';

import { Plus, RotateCcw } from 'lucide-react';
import Link from 'next/link';
import { PageContainer } from '@/components/layout/page-container';
import { Badge } from '@/components/ui/badge';
import { buttonClasses } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Stat } from '@/components/ui/stat';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { describeIncentive, STATUS_LABELS, STATUS_VARIANTS } from '@/components/winback/labels';
import { useCampaigns } from '@/hooks/use-winback';
import { formatDate, formatMoney, formatNumber, formatPercent } from '@/lib/format';
import type { Campaign } from '@/lib/winback/schemas';

const rate = (n: number, of: number) => (of > 0 ? formatPercent(n / of) : '—');

/** Win-back campaigns: each with its status and headline results; the way to a new one. */
export function CampaignList() {
  const { data, isPending, error, refetch } = useCampaigns();
  const newButton = (
    <Link href="/dashboard/campaigns/winback/new" className={buttonClasses()}>
      <Plus className="size-4" aria-hidden="true" /> New campaign
    </Link>
  );
  return (
    <PageContainer title="Win-back campaigns" actions={newButton}
      description="Offers to customers who are at risk or have churned, sent through Klaviyo at the moment they slipped away. A share of each audience is held back and never contacted, so you can see what the campaign itself brought back.">
      {isPending ? <LoadingBlock label="Loading campaigns" rows={5} className="rounded-lg border border-slate-200 bg-white" />
        : error ? <ErrorState title="Could not load campaigns" message={error.message} onRetry={() => void refetch()} />
          : data.campaigns.length === 0 ? (
            <Card>
              <EmptyState icon={RotateCcw} title="No win-back campaigns yet"
                description="Start one for customers who have gone quiet: pick who, what to offer and how many to hold back. You see the audience before anything is sent."
                action={newButton} />
            </Card>
          ) : <Campaigns campaigns={data.campaigns} />}
    </PageContainer>
  );
}

function Campaigns({ campaigns }: { campaigns: Campaign[] }) {
  const running = campaigns.filter((c) => c.status === 'active' || c.status === 'paused');
  const sum = (f: (c: Campaign) => number) => campaigns.reduce((t, c) => t + f(c), 0);
  return (
    <>
      <section aria-label="All campaigns" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Running" value={formatNumber(running.length)} definition="Campaigns that are active or paused now." />
        <Stat label="Offers sent" value={formatNumber(sum((c) => c.figures.sent))} definition="Win-back emails Klaviyo accepted, over all campaigns." />
        <Stat label="Customers recovered" value={formatNumber(sum((c) => c.figures.recovered))}
          definition="Customers sent an offer who placed a paid order inside the campaign’s attribution window, over all campaigns." />
        <Stat label="Recovered revenue" value={formatMoney(sum((c) => c.figures.revenue))}
          definition="The value of those orders, less refunds made inside the window, over all campaigns. Control-group orders are not included." />
      </section>
      <Card>
        <Table>
          <caption className="sr-only">Win-back campaigns, newest first</caption>
          <THead>
            <TR>
              <TH>Campaign</TH><TH>Status</TH><TH className="text-right">Targeted</TH><TH className="text-right">Sent</TH>
              <TH className="text-right">Recovered</TH><TH className="text-right">Revenue</TH>
            </TR>
          </THead>
          <TBody>
            {campaigns.map((c) => (
              <TR key={c.id}>
                <TD className="max-w-72">
                  <Link href={`/dashboard/campaigns/winback/${c.id}`} className="block truncate font-medium text-brand-800 underline-offset-2 hover:underline focus-visible:underline">
                    {c.name}
                  </Link>
                  <span className="block text-xs text-slate-500">
                    {describeIncentive(c)} · {c.holdoutPercent}% held back · {c.activatedAt ? `since ${formatDate(c.activatedAt)}` : `created ${formatDate(c.createdAt)}`}
                  </span>
                </TD>
                <TD><Badge variant={STATUS_VARIANTS[c.status]}>{STATUS_LABELS[c.status]}</Badge></TD>
                <TD className="text-right tabular-nums">{formatNumber(c.figures.targeted)}</TD>
                <TD className="text-right tabular-nums">{formatNumber(c.figures.sent)}</TD>
                <TD className="text-right tabular-nums">
                  {formatNumber(c.figures.recovered)}
                  <span className="block text-xs text-slate-500">{rate(c.figures.recovered, c.figures.targeted)} of targeted</span>
                </TD>
                <TD className="text-right tabular-nums">{formatMoney(c.figures.revenue)}</TD>
              </TR>
            ))}
          </TBody>
        </Table>
      </Card>
    </>
  );
}
