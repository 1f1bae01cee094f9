'use client';

import { ArrowLeft, UserX } from 'lucide-react';
import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { REDEMPTION_BADGE } from '@/components/loyalty/loyalty-overview';
import { LoyaltyShell } from '@/components/loyalty/loyalty-shell';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { CopyButton } from '@/components/ui/copy-button';
import { EmptyState } from '@/components/ui/empty-state';
import { ErrorState } from '@/components/ui/error-state';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Pagination } from '@/components/ui/pagination';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { LEDGER_PAGE, useAdjust, useMember, useRedeem, useRewards } from '@/hooks/use-loyalty';
import { errorText } from '@/lib/error-text';
import { issuesByField } from '@/lib/fields';
import { formatDate, formatDateTime, formatMoney, formatNumber } from '@/lib/format';
import { adjustBody, type MemberDetail, type RedemptionResult } from '@/lib/loyalty/schemas';

export const LEDGER_LABELS: Record<MemberDetail['ledger']['rows'][number]['type'], string> = {
  earn_purchase: 'Order', earn_referral: 'Referral', earn_review: 'Review', earn_birthday: 'Birthday', earn_signup: 'Sign-up',
  earn_bonus: 'Bonus', clawback: 'Taken back', redeem: 'Redeemed', redeem_return: 'Returned', expire: 'Expired', adjustment: 'Adjustment',
};

const BASIS_UNIT = { points: (n: number) => `${formatNumber(n)} points`, spend: (n: number) => `${formatMoney(n)} of orders`, orders: (n: number) => `${formatNumber(n)} orders` };

/** One member: balance and tier with the way to the next, redeem a reward, adjust, the ledger and the redemptions. */
export function LoyaltyMemberDetail({ customerId }: { customerId: string }) {
  return (
    <LoyaltyShell title="Member" description="Points, tier, rewards and every change to the balance, newest first.">
      {() => <MemberBody customerId={customerId} />}
    </LoyaltyShell>
  );
}

function MemberBody({ customerId }: { customerId: string }) {
  const [offset, setOffset] = useState(0);
  const { data, isPending, error, refetch, isPlaceholderData } = useMember(customerId, offset);
  if (isPending) return <LoadingBlock label="Loading the member" rows={8} />;
  if (error) return <ErrorState title="Could not load the member" message={error.message} onRetry={() => void refetch()} />;
  if (!data) {
    return (
      <Card>
        <EmptyState icon={UserX} title="Not a member" description="This customer has no points account yet: it starts with their first points."
          action={<Link className="text-sm text-brand-700 hover:underline" href="/dashboard/loyalty/members">Back to members</Link>} />
      </Card>
    );
  }
  const name = [data.firstName, data.lastName].filter(Boolean).join(' ') || data.email;
  return (
    <>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <Link href="/dashboard/loyalty/members" className="inline-flex items-center gap-1 text-sm text-brand-700 hover:underline">
          <ArrowLeft className="size-4" aria-hidden="true" /> Members
        </Link>
        <Link href={`/dashboard/customers/${data.customerId}`} className="text-sm text-brand-700 hover:underline">Customer journey</Link>
      </div>
      <Summary data={data} name={name} />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <RedeemCard data={data} />
        <AdjustCard data={data} />
      </div>
      <Card>
        <CardHeader title="Points history" description="Every change to the balance, newest first; each row starts from the balance the one before left." />
        <div className={isPlaceholderData ? 'opacity-60 transition-opacity' : undefined}>
          <Table data-testid="ledger">
            <THead><TR><TH>Date</TH><TH>What</TH><TH>Details</TH><TH className="text-right">Points</TH><TH className="text-right">Balance</TH></TR></THead>
            <TBody>
              {data.ledger.rows.map((r) => (
                <TR key={r.seq}>
                  <TD className="whitespace-nowrap">{formatDateTime(r.createdAt)}</TD>
                  <TD>{LEDGER_LABELS[r.type]}</TD>
                  <TD className="max-w-72 text-sm text-slate-600">
                    <span className="block truncate">{r.description ?? ''}</span>
                    {r.shortfall > 0 ? <span className="block text-xs text-amber-700">{formatNumber(r.shortfall)} could not be taken back (balance too low)</span> : null}
                    {r.expiresAt && r.points > 0 ? <span className="block text-xs text-slate-500">Expires {formatDate(r.expiresAt)}</span> : null}
                  </TD>
                  <TD className={`text-right font-medium tabular-nums ${r.points < 0 ? 'text-red-700' : 'text-emerald-700'}`}>{r.points > 0 ? '+' : ''}{formatNumber(r.points)}</TD>
                  <TD className="text-right tabular-nums">{formatNumber(r.balanceAfter)}</TD>
                </TR>
              ))}
            </TBody>
          </Table>
          <div className="border-t border-slate-200 px-5 py-3">
            <Pagination offset={offset} limit={LEDGER_PAGE} total={data.ledger.total} onChange={setOffset} label="Points history pages" />
          </div>
        </div>
      </Card>
      <Card>
        <CardHeader title="Redemptions" description="Rewards taken and their single-use codes." />
        {data.redemptions.length === 0 ? <CardBody><p className="text-sm text-slate-600">No rewards redeemed yet.</p></CardBody> : (
          <Table>
            <THead><TR><TH>Date</TH><TH>Reward</TH><TH>Code</TH><TH className="text-right">Points</TH><TH>Status</TH></TR></THead>
            <TBody>
              {data.redemptions.map((r) => (
                <TR key={r.id}>
                  <TD className="whitespace-nowrap">{formatDate(r.createdAt)}</TD>
                  <TD>{r.rewardName}</TD>
                  <TD><code className="font-mono text-xs">{r.code}</code></TD>
                  <TD className="text-right tabular-nums">{formatNumber(r.pointsSpent)}</TD>
                  <TD><Badge variant={REDEMPTION_BADGE[r.status]}>{r.status}</Badge>{r.status === 'issued' && r.expiresAt ? <span className="ml-2 text-xs text-slate-500">until {formatDate(r.expiresAt)}</span> : null}</TD>
                </TR>
              ))}
            </TBody>
          </Table>
        )}
      </Card>
    </>
  );
}

function Summary({ data, name }: { data: MemberDetail; name: string }) {
  const unit = BASIS_UNIT[data.tierBasis];
  const progress = data.toNextTier === null ? 100 : null;
  return (
    <Card>
      <CardBody className="grid gap-6 md:grid-cols-3">
        <div className="min-w-0">
          <p className="text-sm text-slate-600">Member</p>
          <p className="truncate text-lg font-semibold text-slate-900" data-testid="member-name">{name}</p>
          {name !== data.email ? <p className="truncate text-sm text-slate-600">{data.email}</p> : null}
          <p className="mt-2 text-xs text-slate-500">Referral code <code className="font-mono">{data.referralCode}</code> · joined {formatDate(data.joinedAt)}</p>
        </div>
        <div>
          <p className="text-sm text-slate-600">Points balance</p>
          <p className="text-3xl font-semibold tabular-nums text-slate-900" data-testid="member-balance">{formatNumber(data.pointsBalance)}</p>
          <p className="text-xs text-slate-600">{formatNumber(data.pointsEarned)} earned · {formatNumber(data.pointsRedeemed)} redeemed · {formatNumber(data.pointsExpired)} expired</p>
        </div>
        <div>
          <p className="text-sm text-slate-600">Tier</p>
          <p className="text-lg font-semibold text-slate-900" data-testid="member-tier">{data.tierName ?? 'None yet'}</p>
          {data.nextTierName && data.toNextTier !== null ? (
            <TierProgress label={`${unit(data.toNextTier)} to ${data.nextTierName}`} toNext={data.toNextTier} basis={data} />
          ) : progress === 100 ? <p className="text-xs text-slate-600">The highest tier.</p> : null}
        </div>
      </CardBody>
    </Card>
  );
}

function TierProgress({ label, toNext, basis }: { label: string; toNext: number; basis: MemberDetail }) {
  const have = basis.tierBasis === 'points' ? basis.pointsEarned : null;
  const pct = have !== null && have + toNext > 0 ? Math.round((have / (have + toNext)) * 100) : null;
  return (
    <div className="mt-1">
      {pct !== null ? (
        <div className="h-2 w-full overflow-hidden rounded bg-slate-100" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label={label}>
          <div className="h-full rounded bg-brand-600" style={{ width: `${pct}%` }} />
        </div>
      ) : null}
      <p className="mt-1 text-xs text-slate-600">{label}</p>
    </div>
  );
}

function RedeemCard({ data }: { data: MemberDetail }) {
  const rewards = useRewards();
  const redeem = useRedeem(data.customerId);
  const { toast } = useToast();
  const [rewardId, setRewardId] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [result, setResult] = useState<RedemptionResult | null>(null);
  // One id per redemption the merchant means to make: a retry (a lost answer) spends once.
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  const active = (rewards.data?.rewards ?? []).filter((r) => r.isActive);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!rewardId) {
      setMessage('Choose a reward');
      return;
    }
    try {
      const r = await redeem.mutateAsync({ rewardId, requestId });
      setRequestId(crypto.randomUUID());
      setResult(r);
      setMessage(null);
      toast({ title: 'Reward redeemed', description: `Code ${r.code}; ${formatNumber(r.balance)} points left.`, variant: 'success' });
    } catch (err) {
      setMessage(errorText(err, 'Could not redeem'));
    }
  }

  return (
    <Card>
      <CardHeader title="Redeem a reward" description="Spends the points and issues a single-use discount code for the member." />
      <CardBody>
        {rewards.isPending ? <LoadingBlock label="Loading rewards" rows={2} />
          : active.length === 0 ? <p className="text-sm text-slate-600">No active rewards. <Link className="text-brand-700 underline" href="/dashboard/loyalty/rewards">Add one</Link>.</p>
            : (
              <form onSubmit={submit} method="post" noValidate aria-label="Redeem a reward" className="space-y-3">
                <Field label="Reward" htmlFor="redeem-reward" error={message ?? undefined}>
                  <Select id="redeem-reward" value={rewardId} invalid={Boolean(message)} aria-describedby={fieldDescribedBy('redeem-reward', { error: Boolean(message) })}
                    onChange={(e) => { setRewardId(e.target.value); setMessage(null); setRequestId(crypto.randomUUID()); }}>
                    <option value="">Choose a reward…</option>
                    {active.map((r) => <option key={r.id} value={r.id}>{r.name} · {formatNumber(r.pointsCost)} points</option>)}
                  </Select>
                </Field>
                <Button type="submit" loading={redeem.isPending}>Redeem</Button>
              </form>
            )}
        {result ? (
          <div role="status" className="mt-4 rounded-md border border-emerald-200 bg-emerald-50 p-3 text-sm text-emerald-900" data-testid="redeemed-code">
            <p className="font-medium">Code for the member</p>
            <div className="mt-1 flex items-center gap-2">
              <code className="font-mono text-base">{result.code}</code>
              <CopyButton text={result.code} aria-label="Copy the code" />
            </div>
            <p className="mt-1 text-xs">Single use, valid until {formatDate(result.expiresAt)}. {formatNumber(result.balance)} points left.</p>
          </div>
        ) : null}
      </CardBody>
    </Card>
  );
}

function AdjustCard({ data }: { data: MemberDetail }) {
  const adjust = useAdjust(data.customerId);
  const { toast } = useToast();
  const [kind, setKind] = useState<'adjustment' | 'bonus'>('bonus');
  const [points, setPoints] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const parsed = adjustBody.safeParse({ kind, points: points.trim() === '' ? Number.NaN : Number(points), reason });
    if (!parsed.success) {
      setErrors(issuesByField(parsed.error));
      return;
    }
    try {
      const r = await adjust.mutateAsync(parsed.data);
      setErrors({});
      setPoints('');
      setReason('');
      toast({ title: kind === 'bonus' ? 'Bonus given' : 'Points adjusted', description: `The balance is now ${formatNumber(r.balance)}.`, variant: 'success' });
    } catch (err) {
      setErrors({ form: errorText(err, 'Could not change the points') });
    }
  }

  return (
    <Card>
      <CardHeader title="Give or take points" description="A bonus is earned points (it counts towards tiers); an adjustment corrects the balance either way. Both keep your reason." />
      <CardBody>
        <form onSubmit={submit} method="post" noValidate aria-label="Give or take points" className="space-y-3">
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label="Kind" htmlFor="adjust-kind">
              <Select id="adjust-kind" value={kind} onChange={(e) => setKind(e.target.value as 'adjustment' | 'bonus')}>
                <option value="bonus">Bonus (adds points)</option>
                <option value="adjustment">Adjustment (+ or −)</option>
              </Select>
            </Field>
            <Field label="Points" htmlFor="adjust-points" error={errors.points}>
              <Input id="adjust-points" inputMode="numeric" value={points} invalid={Boolean(errors.points)} placeholder={kind === 'bonus' ? '100' : '-50'}
                aria-describedby={fieldDescribedBy('adjust-points', { error: Boolean(errors.points) })}
                onChange={(e) => { setPoints(e.target.value); setErrors({}); }} />
            </Field>
          </div>
          <Field label="Reason" htmlFor="adjust-reason" error={errors.reason}>
            <Input id="adjust-reason" value={reason} maxLength={500} invalid={Boolean(errors.reason)} placeholder="e.g. Apology for a late delivery"
              aria-describedby={fieldDescribedBy('adjust-reason', { error: Boolean(errors.reason) })}
              onChange={(e) => { setReason(e.target.value); setErrors({}); }} />
          </Field>
          {errors.form ? <p role="alert" className="text-sm font-medium text-red-700">{errors.form}</p> : null}
          <Button type="submit" variant="secondary" loading={adjust.isPending}>{kind === 'bonus' ? 'Give bonus' : 'Adjust'}</Button>
        </form>
      </CardBody>
    </Card>
  );
}
