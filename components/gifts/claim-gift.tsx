'use client';

import { CircleAlert, Clock, Gift as GiftIcon, PartyPopper, Store } from 'lucide-react';
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Button, buttonClasses } from '@/components/ui/button';
import { CopyButton } from '@/components/ui/copy-button';
import { Field } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Skeleton } from '@/components/ui/skeleton';
import { useClaimGift, usePublicGift } from '@/hooks/use-gifts';
import { emailSchema } from '@/lib/auth/schemas';
import { ApiError } from '@/lib/api-client';
import { errorText } from '@/lib/error-text';
import { formatDate, formatMoney } from '@/lib/format';
import type { ClaimResult, PublicGift } from '@/lib/gifts/schemas';

/** How long a 429 asks to wait, in words. */
function waitText(err: unknown): string {
  const s = err instanceof ApiError ? err.retryAfter : undefined;
  if (!s) return 'Please wait a little and try again.';
  if (s < 90) return `Please try again in ${Math.ceil(s)} seconds.`;
  if (s < 5400) return `Please try again in ${Math.ceil(s / 60)} minutes.`;
  return `Please try again in ${Math.ceil(s / 3600)} hours, or ask the store for a new link.`;
}

/**
 * The recipient's page: what the gift is, and a claim with the email it was sent to. Every
 * state has its own words (not found, not yet, claimed, expired, cancelled); the result of a
 * claim is announced and takes the focus, so a screen reader hears it at once.
 */
export function ClaimGift({ code }: { code: string }) {
  const view = usePublicGift(code);
  const [claimed, setClaimed] = useState<ClaimResult | null>(null);
  if (claimed) return <Claimed result={claimed} />;
  if (view.isPending) {
    return (
      <Shell>
        <div role="status" aria-label="Loading your gift" className="space-y-4">
          <Skeleton className="mx-auto size-14 rounded-full" />
          <Skeleton className="mx-auto h-7 w-2/3" />
          <Skeleton className="h-20 w-full" />
          <Skeleton className="h-10 w-full" />
        </div>
      </Shell>
    );
  }
  if (view.error) {
    const limited = view.error instanceof ApiError && view.error.status === 429;
    const missing = view.error instanceof ApiError && view.error.status === 404;
    return (
      <Shell>
        <Notice icon={CircleAlert} tone="danger" title={missing ? 'We can’t find this gift' : limited ? 'Too many tries' : 'Something went wrong'}>
          {missing ? 'This gift link is not valid. Check that it is the whole link from your email; links are long and some mail apps break them.'
            : limited ? `${waitText(view.error)} Then reload this page.`
              : 'We could not load your gift. Check your connection and try again.'}
        </Notice>
        {missing || limited ? null : <Button className="mt-6 w-full" onClick={() => void view.refetch()}>Try again</Button>}
      </Shell>
    );
  }
  const gift = view.data.gift;
  return (
    <Shell store={gift.storeName}>
      {gift.status === 'ready' || gift.status === 'on_its_way' ? <Claimable code={code} gift={gift} onClaimed={setClaimed} />
        : gift.status === 'claimed' ? <AlreadyClaimed code={code} gift={gift} onClaimed={setClaimed} />
          : gift.status === 'expired' ? (
            <Notice icon={Clock} title="This gift has expired">
              It could be claimed until {formatDate(gift.expiresAt)}. {gift.storeName ? `Contact ${gift.storeName} if you think this is a mistake.` : null}
            </Notice>
          ) : (
            <Notice icon={CircleAlert} title="This gift was cancelled">
              {gift.storeName ? `${gift.storeName} cancelled it` : 'The store cancelled it'}, so it can no longer be claimed.
            </Notice>
          )}
    </Shell>
  );
}

function Shell({ store, children }: { store?: string | null; children: ReactNode }) {
  return (
    <main className="flex min-h-screen items-start justify-center bg-slate-50 px-4 py-10 sm:items-center">
      <div className="w-full max-w-md">
        {store ? (
          <p className="mb-4 flex items-center justify-center gap-2 text-sm font-medium text-slate-600">
            <Store className="size-4" aria-hidden="true" /> {store}
          </p>
        ) : null}
        <div className="rounded-xl border border-slate-200 bg-white p-6 shadow-sm sm:p-8">{children}</div>
      </div>
    </main>
  );
}

function Notice({ icon: Icon, title, tone = 'neutral', children }: { icon: typeof GiftIcon; title: string; tone?: 'neutral' | 'danger'; children: ReactNode }) {
  return (
    <div className="text-center">
      <Icon className={`mx-auto size-12 ${tone === 'danger' ? 'text-red-500' : 'text-slate-400'}`} aria-hidden="true" />
      <h1 className="mt-4 text-xl font-semibold text-slate-900">{title}</h1>
      <p className="mt-2 text-sm text-slate-600">{children}</p>
    </div>
  );
}

function Heading({ gift }: { gift: PublicGift }) {
  return (
    <div className="text-center">
      <div className="mx-auto flex size-14 items-center justify-center rounded-full bg-brand-50">
        <GiftIcon className="size-7 text-brand-700" aria-hidden="true" />
      </div>
      <h1 className="mt-4 text-2xl font-semibold text-slate-900">You’ve received a gift</h1>
      {gift.from ? <p className="mt-1 text-slate-600">from {gift.from}</p> : null}
    </div>
  );
}

function Claimable({ code, gift, onClaimed }: { code: string; gift: PublicGift; onClaimed: (r: ClaimResult) => void }) {
  return (
    <>
      <Heading gift={gift} />
      {gift.message ? (
        <blockquote className="mt-6 whitespace-pre-line break-words rounded-lg bg-slate-50 p-4 text-center italic text-slate-700">“{gift.message}”</blockquote>
      ) : null}
      {gift.value ? (
        <p className="mt-6 text-center text-sm text-slate-700">
          <span className="block text-3xl font-semibold text-slate-900">{formatMoney(gift.value, gift.currency)}</span>
          to spend{gift.storeName ? ` at ${gift.storeName}` : ''}
        </p>
      ) : null}
      <ClaimForm code={code} onClaimed={onClaimed} cta="Claim your gift"
        hint="Use the email address this gift was sent to." />
      <p className="mt-4 text-center text-xs text-slate-500">Claim by {formatDate(gift.expiresAt)}</p>
    </>
  );
}

function AlreadyClaimed({ code, gift, onClaimed }: { code: string; gift: PublicGift; onClaimed: (r: ClaimResult) => void }) {
  return (
    <>
      <Notice icon={GiftIcon} title="This gift has already been claimed">
        Each gift can be claimed once. If you claimed it, enter your email to see your code again.
      </Notice>
      <ClaimForm code={code} onClaimed={onClaimed} cta="Show my code" hint="The email you claimed it with." />
      {gift.storeUrl ? <a href={gift.storeUrl} className={buttonClasses('secondary', 'md', 'mt-3 w-full')}>Go to the store</a> : null}
    </>
  );
}

function ClaimForm({ code, onClaimed, cta, hint }: { code: string; onClaimed: (r: ClaimResult) => void; cta: string; hint: string }) {
  const claim = useClaimGift(code);
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = emailSchema.safeParse(email);
    if (!parsed.success) {
      setError(parsed.error.issues[0]?.message ?? 'Enter a valid email address');
      return;
    }
    setError(null);
    claim.mutate(parsed.data, {
      onSuccess: onClaimed,
      onError: (err) => setError(err instanceof ApiError && err.status === 429
        ? `Too many tries. ${waitText(err)}`
        : errorText(err, 'Could not claim the gift. Please try again.')),
    });
  };
  return (
    <form onSubmit={submit} noValidate className="mt-6 space-y-4" aria-label="Claim the gift">
      <Field label="Your email" htmlFor="claim-email" hint={hint} error={error}>
        <Input id="claim-email" type="email" autoComplete="email" inputMode="email" value={email} invalid={Boolean(error)}
          aria-describedby={error ? 'claim-email-hint claim-email-error' : 'claim-email-hint'}
          onChange={(e) => setEmail(e.target.value)} />
      </Field>
      <Button type="submit" className="w-full" disabled={claim.isPending}>{claim.isPending ? 'Claiming…' : cta}</Button>
    </form>
  );
}

function Claimed({ result }: { result: ClaimResult }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const { gift, coupon } = result;
  return (
    <Shell store={gift.storeName}>
      <div className="text-center" role="status">
        <PartyPopper className="mx-auto size-12 text-brand-700" aria-hidden="true" />
        <h1 ref={heading} tabIndex={-1} className="mt-4 text-2xl font-semibold text-slate-900 focus:outline-none">
          {result.again ? 'Your gift' : 'Gift claimed!'}
        </h1>
        <p className="mt-2 text-sm text-slate-600">
          {coupon ? 'Use this code at checkout. It works once.' : `It’s yours${gift.storeName ? ` — ${gift.storeName} has it on record` : ''}.`}
        </p>
      </div>
      {coupon ? (
        <div className="mt-6 rounded-lg border border-dashed border-brand-300 bg-brand-50 p-4 text-center">
          <p className="text-sm text-slate-700">{formatMoney(coupon.amount, coupon.currency)} off</p>
          <p className="mt-1 break-all font-mono text-xl font-semibold tracking-wider text-slate-900">{coupon.code}</p>
          <CopyButton text={coupon.code} label="Copy code" aria-label="Copy code" className="mt-3" />
          {coupon.expiresAt ? <p className="mt-2 text-xs text-slate-500">Valid until {formatDate(coupon.expiresAt)}</p> : null}
        </div>
      ) : null}
      {gift.storeUrl ? <a href={gift.storeUrl} className={buttonClasses('primary', 'md', 'mt-6 w-full')}>Go to {gift.storeName ?? 'the store'}</a> : null}
    </Shell>
  );
}
