'use client';

import { AlertTriangle, ChevronLeft, ChevronRight, Mail } from 'lucide-react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, type ReactElement } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { PageContainer } from '@/components/layout/page-container';
import { Badge } from '@/components/ui/badge';
import { Button, buttonClasses } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Modal } from '@/components/ui/modal';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Stat } from '@/components/ui/stat';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import {
  describeIncentive, RECIPIENT_LABELS, RECIPIENT_VARIANTS, STAGE_LABELS, STATUS_LABELS, STATUS_VARIANTS,
} from '@/components/winback/labels';
import {
  RECIPIENTS_PAGE, useAudiencePreview, useCampaign, useCampaignMessages, useCampaignResults, useCampaignStep, useDeleteCampaign,
  useRecipients, useRetryMessages, type CampaignStep,
} from '@/hooks/use-winback';
import { errorText } from '@/lib/error-text';
import { formatDate, formatMoney, formatNumber, formatPercent } from '@/lib/format';
import { RECIPIENT_STATUSES, type Campaign, type Results } from '@/lib/winback/schemas';

const points = (share: number) => `${share >= 0 ? '+' : ''}${(share * 100).toFixed(1)} points`;

export function CampaignDetail({ id }: { id: string }) {
  const { data: campaign, isPending, error, refetch } = useCampaign(id);
  if (isPending) return <PageContainer title="Campaign"><LoadingBlock label="Loading the campaign" rows={8} /></PageContainer>;
  if (error) {
    return (
      <PageContainer title="Campaign">
        <ErrorState title="Could not load the campaign" message={error.message} onRetry={() => void refetch()} />
      </PageContainer>
    );
  }
  const c = campaign;
  return (
    <PageContainer
      title={<span className="flex flex-wrap items-center gap-3">{c.name}<Badge variant={STATUS_VARIANTS[c.status]}>{STATUS_LABELS[c.status]}</Badge></span>}
      description={<Summary c={c} />}
      actions={<Actions c={c} />}>
      <Link href="/dashboard/campaigns/winback" className="inline-flex items-center gap-1 text-sm text-brand-800 underline-offset-2 hover:underline">
        <ChevronLeft className="size-4" aria-hidden="true" /> All campaigns
      </Link>
      {c.enrolling ? (
        <p role="status" className="rounded-md border border-sky-200 bg-sky-50 px-4 py-3 text-sm text-sky-900">
          Enrolling the audience: {formatNumber(c.figures.targeted + c.figures.control)} so far. Offers are queued as customers are enrolled.
        </p>
      ) : null}
      {c.status === 'draft' ? <DraftAudience id={c.id} /> : <Running c={c} />}
    </PageContainer>
  );
}

function Summary({ c }: { c: Campaign }) {
  const stages = c.targetStages.map((s) => STAGE_LABELS[s] ?? s).join(' or ');
  return (
    <>
      {c.description ? <span className="block">{c.description}</span> : null}
      <span className="block">
        {stages} customers{c.minLifetimeValue > 0 ? ` with at least ${formatMoney(c.minLifetimeValue)} spent` : ''}
        {c.minDaysInactive > 0 ? `, ${c.minDaysInactive}+ days without an order` : ''}
        {c.maxDaysInactive ? ` (not over ${c.maxDaysInactive})` : ''}. {describeIncentive(c)},
        sent {c.sendDelayDays > 0 ? `${c.sendDelayDays} days after` : 'when'} they slip away; {c.holdoutPercent}% held back;
        orders counted for {c.attributionDays} days.{c.endsAt ? ` Ends ${formatDate(c.endsAt)}.` : ''}
      </span>
    </>
  );
}

const STEP_TEXT: Record<CampaignStep, { label: string; done: string; confirm?: string }> = {
  activate: { label: 'Activate', done: 'Campaign active', confirm: 'Everyone in the audience now is enrolled, and their offers are queued for Klaviyo at each one’s moment. Held-back customers are never contacted.' },
  pause: { label: 'Pause', done: 'Campaign paused' },
  resume: { label: 'Resume', done: 'Campaign resumed' },
  complete: { label: 'Complete', done: 'Campaign completed', confirm: 'Offers not sent yet are cancelled and no one else is enrolled. Orders inside windows already open still count.' },
};

function Actions({ c }: { c: Campaign }) {
  const step = useCampaignStep();
  const remove = useDeleteCampaign();
  const router = useRouter();
  const { toast } = useToast();
  const [confirm, setConfirm] = useState<CampaignStep | null>(null);
  const steps: CampaignStep[] = c.status === 'draft' ? ['activate'] : c.status === 'active' ? ['pause', 'complete'] : c.status === 'paused' ? ['resume', 'complete'] : [];

  async function run(s: CampaignStep) {
    try {
      await step.mutateAsync({ id: c.id, step: s });
      toast({ title: STEP_TEXT[s].done, description: c.name, variant: 'success' });
      setConfirm(null);
    } catch (err) {
      toast({ title: `Could not ${STEP_TEXT[s].label.toLowerCase()} the campaign`, description: errorText(err, 'Try again'), variant: 'error' });
    }
  }
  async function del() {
    try {
      await remove.mutateAsync(c.id);
      toast({ title: 'Draft deleted', description: c.name, variant: 'success' });
      router.push('/dashboard/campaigns/winback');
    } catch (err) {
      toast({ title: 'Could not delete the draft', description: errorText(err, 'Try again'), variant: 'error' });
    }
  }
  return (
    <>
      <Link href={`/dashboard/campaigns/winback/${c.id}/edit`} className={buttonClasses('secondary')}>Edit</Link>
      {c.status === 'draft' ? <Button variant="ghost" onClick={() => void del()} loading={remove.isPending}>Delete</Button> : null}
      {steps.map((s) => (
        <Button key={s} variant={s === 'complete' ? 'secondary' : 'primary'} loading={step.isPending && step.variables?.step === s}
          onClick={() => (STEP_TEXT[s].confirm ? setConfirm(s) : void run(s))}>{STEP_TEXT[s].label}</Button>
      ))}
      {confirm ? (
        <Modal open onClose={() => setConfirm(null)} title={`${STEP_TEXT[confirm].label} ${c.name}?`}
          footer={<><Button variant="secondary" onClick={() => setConfirm(null)}>Cancel</Button>
            <Button onClick={() => void run(confirm)} loading={step.isPending}>{STEP_TEXT[confirm].label}</Button></>}>
          <p className="text-sm text-slate-700">{STEP_TEXT[confirm].confirm}</p>
        </Modal>
      ) : null}
    </>
  );
}

function DraftAudience({ id }: { id: string }) {
  const { data, isPending, error, refetch } = useAudiencePreview(id, {}, true);
  return (
    <Card>
      <CardHeader title="Audience if you activate now" description="Nothing is sent while the campaign is a draft. Customers who slip away after activation join as they do." />
      <CardBody>
        {isPending ? <LoadingBlock label="Counting the audience" rows={2} />
          : error ? <ErrorState title="Could not count the audience" message={error.message} onRetry={() => void refetch()} />
            : (
              <section aria-label="Audience" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
                <Stat label="Customers" value={formatNumber(data.eligible)} definition="Customers of yours who match the campaign now and are not waiting in another campaign." />
                <Stat label="Offer at once" value={formatNumber(data.dueNow)} definition="Of those to be contacted, the ones whose moment (when they slipped away, plus the delay) has passed: queued at activation." />
                <Stat label="Offer later" value={formatNumber(data.later)} definition="Of those to be contacted, the ones whose moment is still ahead: queued for it." />
                <Stat label="Held back" value={formatNumber(data.control)} definition="The control group: never contacted, so their orders show what would have happened without the campaign." />
              </section>
            )}
      </CardBody>
    </Card>
  );
}

function Running({ c }: { c: Campaign }) {
  const results = useCampaignResults(c.id);
  return (
    <>
      {results.isPending ? <LoadingBlock label="Loading results" rows={6} className="rounded-lg border border-slate-200 bg-white" />
        : results.error ? <ErrorState title="Could not load the results" message={results.error.message} onRetry={() => void results.refetch()} />
          : <ResultsView c={c} r={results.data} />}
      <Messages id={c.id} completed={c.status === 'completed'} />
      <Recipients id={c.id} />
    </>
  );
}

function ResultsView({ c, r }: { c: Campaign; r: Results }) {
  const funnel = [
    { step: 'Targeted', count: r.targeted },
    { step: 'Sent', count: r.sent },
    { step: 'Opened', count: r.opened },
    { step: 'Clicked', count: r.clicked },
    { step: 'Recovered', count: r.recovered },
  ];
  const over = cumulative(r.daily);
  const window = `within ${c.attributionDays} days of their offer’s moment`;
  return (
    <>
      <section aria-label="Results" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Targeted" value={formatNumber(r.targeted)} hint={`${formatNumber(r.control)} more held back`}
          definition="Customers enrolled to be sent the offer. The held-back control group is counted apart." />
        <Stat label="Sent" value={formatNumber(r.sent)} hint={r.targeted ? `${formatPercent(r.sent / r.targeted)} of targeted` : undefined}
          definition="Offers Klaviyo accepted (answered 202). Offers still waiting for their moment, held or failed are not counted." />
        <Stat label="Recovered" value={formatNumber(r.recovered)} hint={r.targeted ? `${formatPercent(r.recovered / r.targeted)} of targeted` : undefined}
          definition={`Targeted customers who placed a paid order ${window}. The first such order counts.`} />
        <Stat label="Recovered revenue" value={formatMoney(r.revenue)} hint={`held back: ${formatMoney(r.controlRevenue)} from ${formatNumber(r.controlRecovered)}`}
          definition={`The value of those orders, less refunds made ${window}. Cancelled orders are taken out.`} />
      </section>
      <Lift r={r} days={c.attributionDays} />
      <div className="grid gap-6 lg:grid-cols-2">
        <ChartCard testId="chart-funnel" title="Funnel" summary={funnel.map((f) => `${f.step} ${formatNumber(f.count)}`).join(', ')}
          description="Opens and clicks come from links in the email that carry the campaign back to your storefront.">
          <BarChart data={funnel} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
            <XAxis dataKey="step" tick={{ fontSize: 11 }} />
            <YAxis tick={{ fontSize: 11 }} width={40} allowDecimals={false} />
            <Tooltip formatter={(v) => formatNumber(Number(v))} />
            <Bar dataKey="count" name="Customers" fill="#0f766e" radius={[3, 3, 0, 0]} />
          </BarChart>
        </ChartCard>
        <ChartCard testId="chart-recovery" title="Recovered over time"
          summary={`Recovered so far: ${formatNumber(r.recovered)} sent an offer, ${formatNumber(r.controlRecovered)} held back`}
          description="Customers recovered so far, by the day of their order (your store’s time zone), in each group.">
          {over.length === 0 ? <p className="flex h-full items-center justify-center text-sm text-slate-600">No recoveries yet.</p> : (
            <LineChart data={over} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" vertical={false} />
              <XAxis dataKey="day" tick={{ fontSize: 11 }} minTickGap={16} />
              <YAxis tick={{ fontSize: 11 }} width={40} allowDecimals={false} />
              <Tooltip />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              <Line type="stepAfter" dataKey="treatment" name="Sent an offer" stroke="#0f766e" strokeWidth={2} dot={false} />
              <Line type="stepAfter" dataKey="control" name="Held back" stroke="#94a3b8" strokeWidth={2} dot={false} />
            </LineChart>
          )}
        </ChartCard>
      </div>
    </>
  );
}

/** Recoveries so far, day by day, in each group. */
function cumulative(daily: Results['daily']) {
  const out: { day: string; treatment: number; control: number }[] = [];
  for (const d of daily) {
    const last = out.at(-1);
    out.push({
      day: new Date(`${d.day}T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' }),
      treatment: (last?.treatment ?? 0) + d.treatment,
      control: (last?.control ?? 0) + d.control,
    });
  }
  return out;
}

function ChartCard({ testId, title, summary, description, children }: { testId: string; title: string; summary: string; description: string; children: ReactElement }) {
  return (
    <Card>
      <CardHeader title={title} description={description} />
      <CardBody>
        <figure className="min-w-0" data-testid={testId}>
          <figcaption className="sr-only">{summary}</figcaption>
          <div className="h-64" role="img" aria-label={summary}>
            <ResponsiveContainer width="100%" height="100%">{children}</ResponsiveContainer>
          </div>
        </figure>
      </CardBody>
    </Card>
  );
}

/** Treatment against control, in plain words, with the interval and the sizes it rests on. */
function Lift({ r, days }: { r: Results; days: number }) {
  const { treatment: t, control: k, lift, lower, upper, enoughData, minimumGroup, open } = r.comparison;
  return (
    <Card>
      <CardHeader title="Lift against the held-back group" description="What the campaign itself brought back: the recovery rate of those sent an offer, less the rate of those held back." />
      <CardBody className="space-y-3 text-sm text-slate-700" data-testid="lift">
        <p>
          Of <strong>{formatNumber(t.size)}</strong> customers sent an offer whose moment has come, <strong>{t.rate === null ? '—' : formatPercent(t.rate)}</strong> ordered
          within {days} days. Of <strong>{formatNumber(k.size)}</strong> held back, <strong>{k.rate === null ? '—' : formatPercent(k.rate)}</strong> did.
        </p>
        {enoughData && lift !== null && lower !== null && upper !== null ? (
          <>
            <p className="text-lg font-semibold text-slate-900">Lift {points(lift)}</p>
            <p>
              With 95% confidence the true lift is between <strong>{points(lower)}</strong> and <strong>{points(upper)}</strong>.
              {lower > 0 ? ' The whole range is above zero: the campaign is bringing customers back who would not have come otherwise.'
                : upper < 0 ? ' The whole range is below zero: those sent an offer are coming back less than those held back.'
                  : ' The range includes zero: so far the difference could be chance.'}
            </p>
          </>
        ) : (
          <p className="flex items-start gap-2 rounded-md bg-slate-50 p-3">
            <AlertTriangle className="mt-0.5 size-4 shrink-0 text-amber-600" aria-hidden="true" />
            Not enough data yet: each group needs at least {minimumGroup} customers whose moment has come before the lift means anything.
          </p>
        )}
        <p className="text-xs text-slate-600">
          Everyone enrolled is counted in their group from their offer’s moment, whether or not the email reached them, and customers who ordered before that
          moment are left out of both. The interval is Newcombe’s for a difference of two shares (from each group’s Wilson
          interval): it narrows as more customers reach the end of their window.{open > 0 ? ` ${formatNumber(open)} compared customers are still inside theirs, so the rates can still rise.` : ''}
        </p>
      </CardBody>
    </Card>
  );
}

function Messages({ id, completed }: { id: string; completed: boolean }) {
  const { data, isPending, error, refetch } = useCampaignMessages(id);
  const retry = useRetryMessages();
  const { toast } = useToast();
  async function again(ids?: string[]) {
    try {
      const r = await retry.mutateAsync({ id, ids });
      toast({ title: r.retried === 1 ? 'One message goes again' : `${formatNumber(r.retried)} messages go again`, variant: 'success' });
    } catch (err) {
      toast({ title: 'Could not retry', description: errorText(err, 'Try again'), variant: 'error' });
    }
  }
  if (isPending) return <LoadingBlock label="Loading messages" rows={2} className="rounded-lg border border-slate-200 bg-white" />;
  if (error) return <ErrorState title="Could not load the messages" message={error.message} onRetry={() => void refetch()} />;
  if (data.messages.length === 0) return null;
  return (
    <Card data-testid="dead-letters">
      <CardHeader title="Messages that need you"
        description={`${formatNumber(data.failed)} failed after their retries, ${formatNumber(data.held)} held. Held messages go by themselves once the reason is fixed (a key saved in Settings, the campaign resumed).`}
        actions={data.failed > 0 && !completed ? <Button size="sm" onClick={() => void again()} loading={retry.isPending}>Retry all failed</Button> : null} />
      <Table>
        <caption className="sr-only">Failed and held messages</caption>
        <THead><TR><TH>Customer</TH><TH>Status</TH><TH>Why</TH><TH className="text-right">Attempts</TH><TH><span className="sr-only">Actions</span></TH></TR></THead>
        <TBody>
          {data.messages.map((m) => (
            <TR key={m.id}>
              <TD className="max-w-56 truncate">{m.email}</TD>
              <TD><Badge variant={m.status === 'failed' ? 'danger' : 'warning'}>{m.status === 'failed' ? 'Failed' : 'Held'}</Badge></TD>
              <TD className="min-w-56 text-xs">{m.reason ?? '—'}</TD>
              <TD className="text-right tabular-nums">{m.attempts}</TD>
              <TD className="text-right">
                {m.status === 'failed' && !completed
                  ? <Button size="sm" variant="ghost" onClick={() => void again([m.id])} aria-label={`Retry the message to ${m.email}`}>Retry</Button> : null}
              </TD>
            </TR>
          ))}
        </TBody>
      </Table>
    </Card>
  );
}

function Recipients({ id }: { id: string }) {
  const [status, setStatus] = useState<string>('');
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const { data, isPending, error, refetch, isPlaceholderData } = useRecipients(id, status || undefined, after);
  const total = data ? Object.values(data.counts).reduce((a, b) => a + b, 0) : 0;
  return (
    <Card>
      <CardHeader title="Recipients" description="Everyone enrolled, in both groups."
        actions={
          <div className="flex items-center gap-2">
            <label htmlFor="wb-recipient-status" className="text-sm text-slate-600">Show</label>
            <Select id="wb-recipient-status" value={status} className="w-52" onChange={(e) => { setStatus(e.target.value); setCursors([]); }}>
              <option value="">All ({formatNumber(total)})</option>
              {RECIPIENT_STATUSES.filter((s) => data?.counts[s]).map((s) => (
                <option key={s} value={s}>{RECIPIENT_LABELS[s]} ({formatNumber(data?.counts[s] ?? 0)})</option>
              ))}
            </Select>
          </div>
        } />
      {isPending ? <LoadingBlock label="Loading recipients" rows={5} />
        : error ? <ErrorState title="Could not load recipients" message={error.message} onRetry={() => void refetch()} />
          : data.recipients.length === 0 ? <EmptyState icon={Mail} title="No recipients" description="No one in the audience yet. Customers join as they become at risk or churned." />
            : (
              <div className={isPlaceholderData ? 'opacity-60' : undefined}>
                <Table>
                  <caption className="sr-only">Recipients</caption>
                  <THead><TR><TH>Customer</TH><TH>Status</TH><TH>Offer’s moment</TH><TH>Code</TH><TH className="text-right">Recovered</TH></TR></THead>
                  <TBody>
                    {data.recipients.map((r) => (
                      <TR key={r.id}>
                        <TD className="max-w-64">
                          <Link href={`/dashboard/customers/${r.customerId}`} className="block truncate text-brand-800 underline-offset-2 hover:underline">{r.email}</Link>
                          {r.firstName || r.lastName ? <span className="block text-xs text-slate-500">{[r.firstName, r.lastName].filter(Boolean).join(' ')}</span> : null}
                        </TD>
                        <TD>
                          <Badge variant={RECIPIENT_VARIANTS[r.status] ?? 'secondary'}>{RECIPIENT_LABELS[r.status] ?? r.status}</Badge>
                          {r.arm === 'control' && r.status !== 'control' ? <span className="ml-1 text-xs text-slate-500">(control)</span> : null}
                          {r.endedReason || (r.messageStatus === 'held' || r.messageStatus === 'failed' ? r.messageReason : null)
                            ? <span className="block text-xs text-slate-500">{r.endedReason ?? r.messageReason}</span> : null}
                        </TD>
                        <TD className="whitespace-nowrap">{formatDate(r.sendAt)}</TD>
                        <TD className="font-mono text-xs">{r.couponCode ?? (r.pointsAwarded ? `${formatNumber(r.pointsAwarded)} pts` : '—')}</TD>
                        <TD className="text-right tabular-nums">{r.recoveredAt ? `${formatMoney(r.recoveryValue)} · ${formatDate(r.recoveredAt)}` : '—'}</TD>
                      </TR>
                    ))}
                  </TBody>
                </Table>
                <nav aria-label="Recipient pages" className="flex justify-end gap-2 border-t border-slate-200 px-5 py-3">
                  <Button variant="secondary" size="sm" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
                    <ChevronLeft className="size-4" aria-hidden="true" /> Previous
                  </Button>
                  <Button variant="secondary" size="sm" disabled={!data.next} onClick={() => data.next && setCursors((c) => [...c, data.next ?? ''])}>
                    Next {RECIPIENTS_PAGE} <ChevronRight className="size-4" aria-hidden="true" />
                  </Button>
                </nav>
              </div>
            )}
    </Card>
  );
}
