'use client';

import { useState, type FormEvent } from 'react';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { ErrorState } from '@/components/ui/error-state';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Select } from '@/components/ui/select';
import { LoadingBlock } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import { useStoreSettings, useUpdateStoreSettings } from '@/hooks/use-settings';
import { errorText } from '@/lib/error-text';
import { storeSettingsUpdateSchema, type StoreSettings } from '@/lib/settings/schemas';

/** The browser's own time zone, offered as a one-click choice when the store's differs. */
function browserTimeZone(): string | null {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone ?? null;
  } catch {
    return null;
  }
}

/** The store's name (what gift recipients see) and time zone (the days and months every trend, chart and cohort is counted in). */
export function StoreSettingsCard() {
  const { data, isPending, error, refetch } = useStoreSettings();
  return (
    <Card>
      <CardHeader title="Store" description="Your store’s name as shoppers know it, and the time zone days and months on the Overview (trends, cohorts) are counted in." />
      <CardBody>
        {isPending ? <LoadingBlock label="Loading store settings" rows={2} />
          : error ? <ErrorState title="Could not load store settings" message={error.message} onRetry={() => void refetch()} />
            : <div className="space-y-6"><StoreNameForm settings={data} /><TimeZoneForm settings={data} /></div>}
      </CardBody>
    </Card>
  );
}

function StoreNameForm({ settings }: { settings: StoreSettings }) {
  const update = useUpdateStoreSettings();
  const { toast } = useToast();
  const [name, setName] = useState(settings.storeName ?? '');
  const [message, setMessage] = useState<string | null>(null);

  async function save(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    // Unchanged: nothing to send (the button stays focusable, so focus is not lost after a save).
    if (name.trim() === (settings.storeName ?? '') || update.isPending) return;
    const parsed = storeSettingsUpdateSchema.safeParse({ storeName: name });
    if (!parsed.success) {
      setMessage(parsed.error.issues[0]?.message ?? 'Check the name');
      return;
    }
    try {
      await update.mutateAsync(parsed.data);
      setMessage(null);
      toast({ title: 'Store name saved', description: parsed.data.storeName ? `Gift recipients now see “${parsed.data.storeName}”.` : 'Gift recipients see your shop’s domain instead.', variant: 'success' });
    } catch (err) {
      setMessage(errorText(err, 'Could not save the name'));
    }
  }

  return (
    <form onSubmit={save} method="post" className="flex flex-wrap items-end gap-3" noValidate aria-label="Store name">
      <Field label="Store name" htmlFor="store-name" className="min-w-0 flex-1 basis-64"
        hint="Shown on a gift’s claim page and in its email. Empty: your shop’s domain is used." error={message ?? undefined}>
        <Input id="store-name" value={name} maxLength={80} invalid={Boolean(message)}
          aria-describedby={fieldDescribedBy('store-name', { hint: true, error: Boolean(message) })}
          onChange={(e) => { setName(e.target.value); setMessage(null); }} />
      </Field>
      <Button type="submit" aria-disabled={name.trim() === (settings.storeName ?? '') || update.isPending} aria-busy={update.isPending || undefined}>Save</Button>
    </form>
  );
}

function TimeZoneForm({ settings }: { settings: StoreSettings }) {
  const update = useUpdateStoreSettings();
  const { toast } = useToast();
  const [zone, setZone] = useState(settings.timeZone);
  const [message, setMessage] = useState<string | null>(null);
  const local = browserTimeZone();
  const suggest = local && local !== settings.timeZone && settings.timeZones.includes(local) ? local : null;

  async function save(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (zone === settings.timeZone || update.isPending) return;
    const parsed = storeSettingsUpdateSchema.safeParse({ timeZone: zone });
    if (!parsed.success) {
      setMessage(parsed.error.issues[0]?.message ?? 'Choose a time zone');
      return;
    }
    try {
      await update.mutateAsync(parsed.data);
      setMessage(null);
      toast({ title: 'Time zone saved', description: `Trends and cohorts are now counted in ${parsed.data.timeZone}.`, variant: 'success' });
    } catch (err) {
      setMessage(errorText(err, 'Could not save the time zone'));
    }
  }

  return (
    <form onSubmit={save} method="post" className="flex flex-wrap items-end gap-3" noValidate aria-label="Store time zone">
      <Field label="Time zone" htmlFor="store-time-zone" className="min-w-0 flex-1 basis-64"
        hint="Changing it recomputes every daily and monthly figure at once." error={message ?? undefined}>
        <Select id="store-time-zone" value={zone} invalid={Boolean(message)}
          aria-describedby={fieldDescribedBy('store-time-zone', { hint: true, error: Boolean(message) })}
          onChange={(e) => { setZone(e.target.value); setMessage(null); }}>
          {settings.timeZones.map((z) => <option key={z} value={z}>{z.replaceAll('_', ' ')}</option>)}
        </Select>
      </Field>
      <div className="flex flex-wrap gap-2">
        {suggest && zone !== suggest ? (
          <Button type="button" variant="secondary" onClick={() => setZone(suggest)}>Use {suggest.replaceAll('_', ' ')}</Button>
        ) : null}
        <Button type="submit" aria-disabled={zone === settings.timeZone || update.isPending} aria-busy={update.isPending || undefined}>Save</Button>
      </div>
    </form>
  );
}
