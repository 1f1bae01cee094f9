'use client';

import { Loader2, Users } from 'lucide-react';
import { useMemo, useState, type FormEvent } from 'react';
import { CriteriaBuilder, criteriaInputId } from '@/components/segments/criteria-builder';
import { klaviyoSyncStatus } from '@/components/segments/sync-status';
import { EMPTY_CRITERIA, fromForm, toForm, type CriteriaErrors, type CriteriaForm } from '@/components/segments/criteria';
import { Button } from '@/components/ui/button';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Modal } from '@/components/ui/modal';
import { useToast } from '@/components/ui/toast';
import { useDebouncedValue } from '@/hooks/use-debounced-value';
import { useCreateSegment, useSegmentPreview, useUpdateSegment } from '@/hooks/use-segments';
import { ApiError } from '@/lib/api-client';
import { errorText } from '@/lib/error-text';
import { formatNumber } from '@/lib/format';
import { segmentCreate, segmentDescription, segmentName, type Segment } from '@/lib/segments/schemas';
import { issuesByField } from '@/lib/fields';

const DETAILS = segmentCreate.pick({ name: true, description: true });

type TopErrors = { name?: string; description?: string; form?: string };

const CRITERIA_KEYS = new Set<string>(Object.keys(EMPTY_CRITERIA));

function LiveCount({ criteria, valid }: { criteria: ReturnType<typeof fromForm>['criteria']; valid: boolean }) {
  const debounced = useDebouncedValue(criteria, 300);
  const preview = useSegmentPreview(debounced, valid);
  let text: string;
  if (!valid) text = 'Fix the highlighted fields to count matches.';
  else if (preview.isPending) text = 'Counting matching customers…';
  else if (preview.error) text = `Could not count matches: ${preview.error.message}`;
  else text = `${formatNumber(preview.data.count)} ${preview.data.count === 1 ? 'customer matches' : 'customers match'} right now`;
  return (
    <div className="mr-auto flex min-w-40 flex-1 basis-0 items-center gap-2 text-sm font-medium text-brand-900" role="status" aria-live="polite" data-testid="segment-preview">
      {valid && preview.isFetching ? <Loader2 className="size-4 animate-spin" aria-hidden="true" /> : <Users className="size-4" aria-hidden="true" />}
      <span>{text}</span>
    </div>
  );
}

/** Create or edit a segment in a modal, with a live member count and server errors next to their fields. */
export function SegmentEditor({ segment, onClose, onSaved }: { segment: Segment | null; onClose: () => void; onSaved: (s: Segment) => void }) {
  const create = useCreateSegment();
  const update = useUpdateSegment();
  const { toast } = useToast();
  const [name, setName] = useState(segment?.name ?? '');
  const [description, setDescription] = useState(segment?.description ?? '');
  const [isDynamic, setIsDynamic] = useState(segment?.isDynamic ?? true);
  const [isActive, setIsActive] = useState(segment?.isActive ?? true);
  const [syncEnabled, setSyncEnabled] = useState(segment?.syncEnabled ?? false);
  const [form, setForm] = useState<CriteriaForm>(segment ? toForm(segment.criteria) : EMPTY_CRITERIA);
  const [serverErrors, setServerErrors] = useState<CriteriaErrors>({});
  const [top, setTop] = useState<TopErrors>({});
  const { criteria, errors: localErrors } = useMemo(() => fromForm(form), [form]);
  const valid = Object.keys(localErrors).length === 0;
  const errors = { ...serverErrors, ...localErrors };

  function changeForm(next: CriteriaForm) {
    setForm(next);
    setServerErrors({});
  }

  function showServerError(err: unknown) {
    const message = errorText(err, 'Could not save the segment');
    const field = err instanceof ApiError ? err.field : undefined;
    const key = field?.startsWith('criteria.') ? field.split('.')[1] : undefined;
    if (key && CRITERIA_KEYS.has(key)) {
      setServerErrors({ [key]: message });
      document.getElementById(criteriaInputId(key as keyof CriteriaForm))?.focus();
    } else if (field === 'name' || field === 'description') {
      setTop({ [field]: message });
      document.getElementById(`segment-${field}`)?.focus();
    } else setTop({ form: message });
  }

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setTop({});
    // The server's own rules for the name and description, checked before sending.
    const details = DETAILS.safeParse({ name, description: description.trim() === '' ? null : description });
    if (!details.success) {
      const byField = issuesByField(details.error);
      setTop(byField);
      document.getElementById(byField.name ? 'segment-name' : 'segment-description')?.focus();
      return;
    }
    if (!valid) return;
    const body = { ...details.data, description: details.data.description ?? null, criteria, isDynamic };
    try {
      const saved = segment
        ? await update.mutateAsync({ id: segment.id, patch: { ...body, isActive, syncEnabled } })
        : await create.mutateAsync(body);
      toast({
        title: segment ? 'Segment saved' : 'Segment created',
        description: `${saved.name}: ${formatNumber(saved.customerCount)} ${saved.customerCount === 1 ? 'customer' : 'customers'}`,
        variant: 'success',
      });
      onSaved(saved);
    } catch (err) {
      showServerError(err);
    }
  }

  const saving = create.isPending || update.isPending;
  return (
    <Modal open onClose={onClose} size="lg" title={segment ? `Edit “${segment.name}”` : 'New segment'}
      description="Customers matching every criterion you set belong to the segment."
      footer={<>
        <LiveCount criteria={criteria} valid={valid} />
        <Button variant="ghost" onClick={onClose}>Cancel</Button>
        <Button type="submit" form="segment-form" loading={saving}>{segment ? 'Save changes' : 'Create segment'}</Button>
      </>}>
      <form id="segment-form" onSubmit={submit} noValidate className="space-y-5">
        {top.form ? <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{top.form}</p> : null}
        <Field label="Name" htmlFor="segment-name" required error={top.name}>
          <Input id="segment-name" value={name} onChange={(e) => { setName(e.target.value); setTop(({ name: _cleared, ...rest }) => rest); }} maxLength={segmentName.maxLength ?? undefined} required
            invalid={Boolean(top.name)} aria-describedby={fieldDescribedBy('segment-name', { error: Boolean(top.name) })} />
        </Field>
        <Field label="Description" htmlFor="segment-description" error={top.description}>
          <Input id="segment-description" value={description} onChange={(e) => setDescription(e.target.value)} maxLength={segmentDescription.maxLength ?? undefined}
            invalid={Boolean(top.description)} aria-describedby={fieldDescribedBy('segment-description', { error: Boolean(top.description) })} />
        </Field>
        <div className="flex flex-wrap gap-x-6 gap-y-2">
          <label className="flex items-center gap-2 text-sm text-slate-800">
            <input type="checkbox" className="size-4 accent-brand-700" checked={isDynamic} onChange={(e) => setIsDynamic(e.target.checked)} />
            Dynamic (members follow changes)
          </label>
          {segment ? (
            <label className="flex items-center gap-2 text-sm text-slate-800">
              <input type="checkbox" className="size-4 accent-brand-700" checked={isActive} onChange={(e) => setIsActive(e.target.checked)} />
              Active
            </label>
          ) : null}
          {segment ? (
            <label className="flex items-center gap-2 text-sm text-slate-800">
              <input type="checkbox" className="size-4 accent-brand-700" checked={syncEnabled} onChange={(e) => setSyncEnabled(e.target.checked)} />
              Mirror to a Klaviyo list
            </label>
          ) : null}
        </div>
        {segment?.syncEnabled ? (
          <SyncStatusLine segment={segment} />
        ) : null}
        <CriteriaBuilder form={form} errors={errors} onChange={changeForm} />
      </form>
    </Modal>
  );
}

function SyncStatusLine({ segment }: { segment: Segment }) {
  const status = klaviyoSyncStatus(segment);
  return (
    <div className="space-y-1 text-xs text-slate-600" data-testid="segment-sync-status">
      <p className={status.failed ? 'text-red-700' : undefined}>{status.detail}</p>
      {status.percent === null ? null : (
        <progress className="h-1.5 w-full accent-brand-700" max={100} value={status.percent} aria-label="Sent to the Klaviyo list">{status.percent}%</progress>
      )}
    </div>
  );
}
