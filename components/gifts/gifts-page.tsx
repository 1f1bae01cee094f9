'use client';

import { ChevronLeft, ChevronRight, Gift as GiftIcon, Link2, Plus, Send, TriangleAlert, X } from 'lucide-react';
import Link from 'next/link';
import { useRef, useState } from 'react';
import { GiftForm } from '@/components/gifts/gift-form';
import { deliveryLine, isOpen, STATUS_LABELS, STATUS_VARIANTS } from '@/components/gifts/labels';
import { PageContainer } from '@/components/layout/page-container';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { CopyButton } from '@/components/ui/copy-button';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Modal } from '@/components/ui/modal';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Stat } from '@/components/ui/stat';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { GIFTS_PAGE, useCancelGift, useGiftLink, useGifts, useGiftStats, useResendGift } from '@/hooks/use-gifts';
import { errorText } from '@/lib/error-text';
import { formatDate, formatDateTime, formatMoney, formatNumber, formatPercent } from '@/lib/format';
import { GIFT_STATUSES, type Gift, type GiftStats, type GiftStatus } from '@/lib/gifts/schemas';

/** Gifts: the figures, the list by status, and what the merchant can do with each gift. */
export function GiftsPage() {
  const stats = useGiftStats();
  const [creating, setCreating] = useState(false);
  const currency = stats.data?.currency ?? 'USD';
  return (
    <PageContainer title="Gifts"
      description="Gifts shoppers send with an order (the gift_recipient_email note attribute) or that you send from here. The recipient is told through your Klaviyo, now or on the day chosen, and claims the gift on a page of its own with the email it was sent to; a gift with a value becomes a single-use code for that amount."
      actions={<Button onClick={() => setCreating(true)}><Plus className="size-4" aria-hidden="true" /> New gift</Button>}>
      {stats.isPending ? <LoadingBlock label="Loading gift figures" rows={2} className="rounded-lg border border-slate-200 bg-white" />
        : stats.error ? <ErrorState title="Could not load gift figures" message={stats.error.message} onRetry={() => void stats.refetch()} />
          : <Figures stats={stats.data} />}
      <GiftList currency={currency} total={stats.data?.total} byStatus={stats.data?.byStatus} onCreate={() => setCreating(true)} />
      <Modal open={creating} onClose={() => setCreating(false)} title="New gift" size="lg" dismissOnBackdrop={false}
        description="The recipient gets a “Gift Received” event in your Klaviyo with the claim link; a flow on that metric sends the email.">
        {creating ? <GiftForm currency={currency} onDone={() => setCreating(false)} onCancel={() => setCreating(false)} /> : null}
      </Modal>
    </PageContainer>
  );
}

function Figures({ stats }: { stats: GiftStats }) {
  const waiting = stats.byStatus.pending + stats.byStatus.delivered;
  return (
    <>
      {stats.held > 0 ? (
        <div role="status" className="flex items-start gap-3 rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900">
          <TriangleAlert className="mt-0.5 size-4 shrink-0" aria-hidden="true" />
          <p>
            {formatNumber(stats.held)} {stats.held === 1 ? 'announcement is' : 'announcements are'} held for want of a working Klaviyo key: those gifts stay
            pending until one is saved in <Link href="/dashboard/settings" className="font-medium underline">Settings</Link>, then they go by themselves.
          </p>
        </div>
      ) : null}
      <section aria-label="Gift figures" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat label="Gifts" value={formatNumber(stats.total)} definition="Every gift made, from orders and from this page, whatever its status." />
        <Stat label="Waiting to be claimed" value={formatNumber(waiting)}
          hint={`${formatNumber(stats.byStatus.pending)} not yet announced`}
          definition="Gifts pending (not yet announced) or delivered (announced, not claimed) that have not expired or been cancelled." />
        <Stat label="Claim rate" value={stats.claimRate === null ? '—' : formatPercent(stats.claimRate)}
          hint={`${formatNumber(stats.byStatus.claimed)} of ${formatNumber(stats.announced)} announced`}
          definition="Claimed gifts ÷ gifts the recipient was told of (by email or a link you handed out), since the start." />
        <Stat label="Value claimed" value={formatMoney(stats.valueClaimed, stats.currency)}
          hint={`${formatMoney(stats.valueOutstanding, stats.currency)} still to be claimed`}
          definition="The sum of the values of claimed gifts: each became a single-use code for that amount. Gifts without a value count zero." />
      </section>
    </>
  );
}

function GiftList({ currency, total, byStatus, onCreate }: {
  currency: string; total: number | undefined; byStatus: Record<GiftStatus, number> | undefined; onCreate: () => void;
}) {
  const [status, setStatus] = useState<GiftStatus | ''>('');
  const [cursors, setCursors] = useState<string[]>([]);
  const { data, isPending, error, refetch, isPlaceholderData } = useGifts(status || undefined, cursors.at(-1));
  const [link, setLink] = useState<{ url: string; to: string } | null>(null);
  const [confirm, setConfirm] = useState<{ gift: Gift; action: 'cancel' | 'send_now' } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const pick = (s: GiftStatus | '') => { setStatus(s); setCursors([]); };
  // After an action that removes the button it came from, focus goes to the list, not the page.
  const refocus = () => heading.current?.focus();
  const actions: RowActions = {
    onLink: (g, url) => setLink({ url, to: g.recipientEmail }),
    onCancel: (g) => setConfirm({ gift: g, action: 'cancel' }),
    onSendNow: (g) => setConfirm({ gift: g, action: 'send_now' }),
  };
  return (
    <Card>
      <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-200 px-5 py-4">
        <h2 ref={heading} tabIndex={-1} className="text-base font-semibold text-slate-900 focus:outline-none">All gifts</h2>
        <div role="group" aria-label="Show gifts by status" className="flex flex-wrap gap-1.5">
          {(['', ...GIFT_STATUSES] as const).map((s) => (
            <button key={s || 'all'} type="button" aria-pressed={status === s} onClick={() => pick(s)}
              className={`rounded-full border px-3 py-1 text-xs font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600 ${
                status === s ? 'border-brand-700 bg-brand-700 text-white' : 'border-slate-300 bg-white text-slate-700 hover:bg-slate-50'}`}>
              {s ? STATUS_LABELS[s] : 'All'}
              {(s ? byStatus?.[s] : total) !== undefined ? <span className="ml-1 tabular-nums">{formatNumber(s ? byStatus?.[s] ?? 0 : total ?? 0)}</span> : null}
            </button>
          ))}
        </div>
      </div>
      {isPending ? <LoadingBlock label="Loading gifts" rows={5} />
        : error ? <ErrorState title="Could not load gifts" message={error.message} onRetry={() => void refetch()} />
          : data.gifts.length === 0 ? (
            <EmptyState icon={GiftIcon} title={status ? `No ${STATUS_LABELS[status].toLowerCase()} gifts` : 'No gifts yet'}
              description={status ? 'Pick another status to see the rest.' : 'Gifts appear here when a shopper’s order names a recipient, or when you send one.'}
              action={status ? undefined : <Button onClick={onCreate}><Plus className="size-4" aria-hidden="true" /> New gift</Button>} />
          ) : (
            <div className={isPlaceholderData ? 'opacity-60' : undefined}>
              {/* A phone gets one card a gift; a wider screen the table. */}
              <ul aria-label="Gifts, newest first" className="divide-y divide-slate-200 md:hidden">
                {data.gifts.map((g) => (
                  <li key={g.id} className="space-y-2 px-5 py-4">
                    <div className="flex items-start justify-between gap-3">
                      <Recipient gift={g} />
                      <span className="shrink-0 text-right tabular-nums">{g.value === null ? null : formatMoney(g.value, g.currency || currency)}</span>
                    </div>
                    <GiftStatusCell gift={g} />
                    <p className="text-xs text-slate-500">{senderLine(g)} · claim by {formatDate(g.expiresAt)}</p>
                    <Actions gift={g} actions={actions} labels />
                  </li>
                ))}
              </ul>
              <div className="hidden md:block">
                <Table>
                  <caption className="sr-only">Gifts, newest first</caption>
                  <THead>
                    <TR><TH>Recipient</TH><TH>From</TH><TH className="text-right">Value</TH><TH>Status</TH><TH>Claim by</TH><TH><span className="sr-only">Actions</span></TH></TR>
                  </THead>
                  <TBody>
                    {data.gifts.map((g) => (
                      <TR key={g.id}>
                        <TD className="max-w-56"><Recipient gift={g} /></TD>
                        <TD className="max-w-44">
                          <span className="block truncate" title={g.senderName ?? g.senderEmail ?? undefined}>{g.senderName ?? g.senderEmail ?? '—'}</span>
                          <span className="block text-xs text-slate-500">{g.origin === 'order' ? `Order ${g.shopOrderId ?? ''}` : 'From the dashboard'}</span>
                        </TD>
                        <TD className="text-right tabular-nums">
                          {g.value === null ? '—' : formatMoney(g.value, g.currency || currency)}
                          {g.couponCode ? <span className="block font-mono text-xs text-slate-500">{g.couponCode}</span> : null}
                        </TD>
                        <TD className="max-w-56"><GiftStatusCell gift={g} /></TD>
                        <TD className="whitespace-nowrap">{formatDate(g.expiresAt)}</TD>
                        <TD><Actions gift={g} actions={actions} /></TD>
                      </TR>
                    ))}
                  </TBody>
                </Table>
              </div>
              <nav aria-label="Gift pages" className="flex justify-end gap-2 border-t border-slate-200 px-5 py-3">
                <Button variant="secondary" size="sm" aria-disabled={cursors.length === 0}
                  onClick={() => { if (cursors.length > 0) { setCursors((c) => c.slice(0, -1)); refocus(); } }}>
                  <ChevronLeft className="size-4" aria-hidden="true" /> Newer
                </Button>
                <Button variant="secondary" size="sm" aria-disabled={!data.next}
                  onClick={() => { if (data.next) { const next = data.next; setCursors((c) => [...c, next]); refocus(); } }}>
                  Older {GIFTS_PAGE} <ChevronRight className="size-4" aria-hidden="true" />
                </Button>
              </nav>
            </div>
          )}
      <Modal open={link !== null} onClose={() => setLink(null)} title="Claim link" dismissOnBackdrop={false}
        description={`Give this link to ${link?.to ?? 'the recipient'} yourself. It is shown only now (we keep no copy); the recipient claims with the email the gift was sent to.`}>
        {link ? (
          <div className="flex flex-wrap items-center gap-2">
            <code className="min-w-0 flex-1 break-all rounded-md bg-slate-100 px-3 py-2 text-xs">{link.url}</code>
            <CopyButton text={link.url} label="Copy link" aria-label="Copy link" />
          </div>
        ) : null}
      </Modal>
      <ConfirmDialog pending={confirm} onClose={() => setConfirm(null)} onDone={refocus} />
    </Card>
  );
}

interface RowActions {
  onLink: (g: Gift, url: string) => void;
  onCancel: (g: Gift) => void;
  onSendNow: (g: Gift) => void;
}

const senderLine = (g: Gift) => `From ${g.senderName ?? g.senderEmail ?? 'someone'}${g.origin === 'order' ? ` (order ${g.shopOrderId ?? ''})` : ''}`;

function Recipient({ gift: g }: { gift: Gift }) {
  return (
    <div className="min-w-0">
      <span className="block truncate font-medium text-slate-900" title={g.recipientName ?? g.recipientEmail}>{g.recipientName ?? g.recipientEmail}</span>
      {g.recipientName ? <span className="block truncate text-xs text-slate-500" title={g.recipientEmail}>{g.recipientEmail}</span> : null}
      {g.message ? <span className="block truncate text-xs italic text-slate-500" title={g.message}>“{g.message}”</span> : null}
    </div>
  );
}

function GiftStatusCell({ gift: g }: { gift: Gift }) {
  const stuck = g.announcement?.status === 'held' || g.announcement?.status === 'failed';
  return (
    <div>
      <Badge variant={STATUS_VARIANTS[g.status]}>{STATUS_LABELS[g.status]}</Badge>
      <span className={`block text-xs ${stuck ? 'font-medium text-amber-800' : 'text-slate-500'}`}>{deliveryLine(g)}</span>
    </div>
  );
}

/** Which announcement action a gift offers: send a scheduled one now, send again, or none while one is going or held. */
function announceAction(g: Gift): 'send_now' | 'resend' | null {
  const a = g.announcement;
  if (a?.status === 'pending') return Date.parse(a.dueAt) > Date.now() ? 'send_now' : null;
  if (a?.status === 'held') return null;
  return 'resend';
}

function Actions({ gift: g, actions, labels = false }: { gift: Gift; actions: RowActions; labels?: boolean }) {
  const resend = useResendGift();
  const link = useGiftLink();
  const { toast } = useToast();
  if (!isOpen(g)) return null;
  const announce = announceAction(g);
  const doResend = () => {
    if (resend.isPending) return;
    resend.mutate(g.id, {
      onSuccess: (r) => toast({
        variant: 'success',
        title: r.action === 'retried' ? 'Trying the announcement again' : 'Queued to go now',
        description: 'It goes out through your Klaviyo key; if none is saved it waits, and the gift shows why.',
      }),
      onError: (err) => toast({ variant: 'error', title: 'Could not send it again', description: errorText(err, 'Please try again.') }),
    });
  };
  const doLink = () => {
    if (link.isPending) return;
    link.mutate(g.id, {
      onSuccess: (r) => actions.onLink(g, r.url),
      onError: (err) => toast({ variant: 'error', title: 'Could not make a link', description: errorText(err, 'Please try again.') }),
    });
  };
  // Labels where there is room (a phone's card, a wide screen); icons with their name otherwise.
  const label = labels ? '' : 'hidden 2xl:inline';
  return (
    <div className={`flex flex-wrap gap-1 ${labels ? '' : 'justify-end'}`}>
      {announce === 'resend' ? (
        <Button variant="ghost" size="sm" onClick={doResend} aria-disabled={resend.isPending} title="Send the announcement again"
          aria-label={`Send the announcement again to ${g.recipientEmail}`}>
          <Send className="size-4" aria-hidden="true" /><span className={label}>Resend</span>
        </Button>
      ) : announce === 'send_now' ? (
        <Button variant="ghost" size="sm" onClick={() => actions.onSendNow(g)} title="Send the announcement now instead of on its day"
          aria-label={`Send the announcement to ${g.recipientEmail} now`}>
          <Send className="size-4" aria-hidden="true" /><span className={label}>Send now</span>
        </Button>
      ) : null}
      <Button variant="ghost" size="sm" onClick={doLink} aria-disabled={link.isPending} title="Get a claim link to hand out"
        aria-label={`Get a claim link for ${g.recipientEmail}`}>
        <Link2 className="size-4" aria-hidden="true" /><span className={label}>Link</span>
      </Button>
      <Button variant="ghost" size="sm" onClick={() => actions.onCancel(g)} title="Cancel the gift" aria-label={`Cancel the gift to ${g.recipientEmail}`}>
        <X className="size-4" aria-hidden="true" /><span className={label}>Cancel</span>
      </Button>
    </div>
  );
}

function ConfirmDialog({ pending, onClose, onDone }: { pending: { gift: Gift; action: 'cancel' | 'send_now' } | null; onClose: () => void; onDone: () => void }) {
  const cancel = useCancelGift();
  const resend = useResendGift();
  const { toast } = useToast();
  const gift = pending?.gift;
  const busy = cancel.isPending || resend.isPending;
  const finish = (title: string) => { toast({ variant: 'success', title }); onClose(); onDone(); };
  const fail = (title: string) => (err: Error) => toast({ variant: 'error', title, description: errorText(err, 'Please try again.') });
  const confirm = () => {
    if (!gift || busy) return;
    if (pending.action === 'cancel') cancel.mutate(gift.id, { onSuccess: () => finish('Gift cancelled'), onError: fail('Could not cancel') });
    else resend.mutate(gift.id, { onSuccess: () => finish('Sending it now instead of on its day'), onError: fail('Could not send it now') });
  };
  const due = gift?.announcement?.dueAt;
  return (
    <Modal open={pending !== null} onClose={onClose}
      title={pending?.action === 'send_now' ? 'Send this gift now?' : 'Cancel this gift?'}
      description={!gift ? undefined : pending?.action === 'send_now'
        ? `The gift to ${gift.recipientEmail} is to be announced on ${due ? formatDateTime(due) : 'its day'}. Sending it now cannot be undone.`
        : `The gift to ${gift.recipientEmail} stops: an announcement not yet sent is not sent, and its claim link stops working. This cannot be undone.`}
      footer={
        <>
          <Button variant="secondary" onClick={onClose}>{pending?.action === 'send_now' ? 'Keep the day' : 'Keep it'}</Button>
          <Button variant={pending?.action === 'send_now' ? 'primary' : 'danger'} onClick={confirm} aria-disabled={busy}>
            {busy ? 'Working…' : pending?.action === 'send_now' ? 'Send now' : 'Cancel gift'}
          </Button>
        </>
      } />
  );
}
