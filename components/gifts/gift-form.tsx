'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import { Button } from '@/components/ui/button';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { useToast } from '@/components/ui/toast';
import { useCreateGift } from '@/hooks/use-gifts';
import { ApiError } from '@/lib/api-client';
import { errorText } from '@/lib/error-text';
import { giftCreateSchema } from '@/lib/gifts/schemas';

type Input = z.input<typeof giftCreateSchema>;
type Output = z.output<typeof giftCreateSchema>;
const FIELDS = ['recipientEmail', 'recipientName', 'senderName', 'senderEmail', 'message', 'value', 'scheduledDeliveryAt', 'expiresInDays'] as const;
const isField = (f: string | undefined): f is (typeof FIELDS)[number] => (FIELDS as readonly string[]).includes(f ?? '');

const orNull = (v: unknown) => (v === '' || v === undefined || v === null ? null : Number(v));
/** A datetime-local value (the browser's time) as an instant; empty: at once. */
const instant = (v: unknown) => (typeof v === 'string' && v !== '' ? new Date(v).toISOString() : null);

/**
 * A new gift from the dashboard: react-hook-form with the API's own zod schema, so a limit and
 * its message are written once; the server's answer for a field lands on that field.
 */
export function GiftForm({ currency, onDone, onCancel }: { currency: string; onDone: () => void; onCancel: () => void }) {
  const create = useCreateGift();
  const { toast } = useToast();
  const [when, setWhen] = useState<'now' | 'later'>('now');
  const { register, handleSubmit, setError, formState: { errors, isSubmitting } } = useForm<Input, unknown, Output>({
    resolver: zodResolver(giftCreateSchema),
    defaultValues: { expiresInDays: 90 },
    // The day and time leave the form when "Now" is chosen, so a stale one is not checked.
    shouldUnregister: true,
  });

  const onSubmit = handleSubmit(async (values) => {
    if (when === 'later' && !values.scheduledDeliveryAt) {
      setError('scheduledDeliveryAt', { message: 'Pick a day and time, or choose “Now”' });
      return;
    }
    try {
      const gift = await create.mutateAsync({ ...values, scheduledDeliveryAt: when === 'later' ? values.scheduledDeliveryAt : null });
      toast({
        variant: 'success',
        title: 'Gift created',
        description: gift.scheduledDeliveryAt ? `It will be announced to ${gift.recipientEmail} on its day.` : `It is being announced to ${gift.recipientEmail} now.`,
      });
      onDone();
    } catch (err) {
      const message = errorText(err, 'Could not create the gift. Please try again.');
      if (err instanceof ApiError && isField(err.field)) setError(err.field, { message });
      else setError('root', { message });
    }
  });

  const error = (name: (typeof FIELDS)[number]) => errors[name]?.message;
  const described = (name: (typeof FIELDS)[number], hint = false) => fieldDescribedBy(`gift-${name}`, { hint, error: Boolean(error(name)) });
  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4" aria-label="New gift">
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Recipient’s email" htmlFor="gift-recipientEmail" required error={error('recipientEmail')}>
          <Input id="gift-recipientEmail" type="email" autoComplete="off" invalid={Boolean(error('recipientEmail'))}
            aria-describedby={described('recipientEmail')} {...register('recipientEmail')} />
        </Field>
        <Field label="Recipient’s name" htmlFor="gift-recipientName" error={error('recipientName')}>
          <Input id="gift-recipientName" autoComplete="off" aria-describedby={described('recipientName')} {...register('recipientName')} />
        </Field>
        <Field label="From" htmlFor="gift-senderName" required hint="Shown to the recipient as written, e.g. “The Haven team” or “Ada”." error={error('senderName')}>
          <Input id="gift-senderName" autoComplete="off" invalid={Boolean(error('senderName'))} aria-describedby={described('senderName', true)} {...register('senderName')} />
        </Field>
        <Field label="Sender’s email" htmlFor="gift-senderEmail" hint="Kept with the gift; never shown to the recipient." error={error('senderEmail')}>
          <Input id="gift-senderEmail" type="email" autoComplete="off" aria-describedby={described('senderEmail', true)} {...register('senderEmail')} />
        </Field>
      </div>
      <Field label="Message" htmlFor="gift-message" hint="Shown on the claim page and sent with the email. Up to 1,000 characters." error={error('message')}>
        <textarea id="gift-message" rows={3} aria-describedby={described('message', true)} {...register('message')}
          className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-brand-500 focus:outline-none focus:ring-2 focus:ring-brand-500/30" />
      </Field>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label={`Value (${currency})`} htmlFor="gift-value" hint="Claiming it gives a single-use code for this amount off. Leave empty when the order itself is the gift."
          error={error('value')}>
          <Input id="gift-value" type="number" inputMode="decimal" step="0.01" min="0" invalid={Boolean(error('value'))}
            aria-describedby={described('value', true)} {...register('value', { setValueAs: orNull })} />
        </Field>
        <Field label="Days to claim it" htmlFor="gift-expiresInDays" hint="Counted from its delivery." error={error('expiresInDays')}>
          <Input id="gift-expiresInDays" type="number" inputMode="numeric" min="1" max="365" invalid={Boolean(error('expiresInDays'))}
            aria-describedby={described('expiresInDays', true)} {...register('expiresInDays', { setValueAs: (v: unknown) => Number(v) })} />
        </Field>
      </div>
      <fieldset className="space-y-2">
        <legend className="text-sm font-medium text-slate-800">Announce it</legend>
        <div className="flex flex-wrap gap-4 text-sm">
          <label className="flex items-center gap-2"><input type="radio" name="gift-when" checked={when === 'now'} onChange={() => setWhen('now')} /> Now</label>
          <label className="flex items-center gap-2"><input type="radio" name="gift-when" checked={when === 'later'} onChange={() => setWhen('later')} /> On a day</label>
        </div>
        {when === 'later' ? (
          <Field label="Day and time" htmlFor="gift-scheduledDeliveryAt" hint="In this browser’s time zone; within a year." error={error('scheduledDeliveryAt')}>
            <Input id="gift-scheduledDeliveryAt" type="datetime-local" invalid={Boolean(error('scheduledDeliveryAt'))}
              aria-describedby={described('scheduledDeliveryAt', true)} {...register('scheduledDeliveryAt', { setValueAs: instant })} />
          </Field>
        ) : null}
      </fieldset>
      {errors.root?.message ? <p role="alert" className="text-sm font-medium text-red-700">{errors.root.message}</p> : null}
      <div className="flex flex-wrap justify-end gap-2">
        <Button type="button" variant="secondary" onClick={onCancel}>Cancel</Button>
        <Button type="submit" disabled={isSubmitting}>{isSubmitting ? 'Creating…' : 'Create gift'}</Button>
      </div>
    </form>
  );
}
