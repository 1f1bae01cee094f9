'use client';

import type { ReactNode } from 'react';
import type { CriteriaErrors, CriteriaForm, NumericKey } from '@/components/segments/criteria';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Select } from '@/components/ui/select';
import { useCollections } from '@/hooks/use-collections';
import { STAGE_LABELS, STAGES } from '@/lib/customers/schemas';

export type CriteriaBuilderProps = {
  form: CriteriaForm;
  errors: CriteriaErrors;
  onChange: (form: CriteriaForm) => void;
};

/** Input id for a criteria key, shared with the editor so server errors can focus the right control. */
export const criteriaInputId = (key: keyof CriteriaForm) => `segment-${key.replaceAll('_', '-')}`;

function toggle<T>(list: T[], value: T, on: boolean): T[] {
  return on ? [...list.filter((v) => v !== value), value] : list.filter((v) => v !== value);
}

function CheckGroup({ legend, error, errorId, children }: { legend: string; error?: string; errorId: string; children: ReactNode }) {
  return (
    <fieldset aria-describedby={error ? errorId : undefined}>
      <legend className="text-sm font-medium text-slate-800">{legend}</legend>
      <div className="mt-2 grid grid-cols-2 gap-2 sm:grid-cols-4">{children}</div>
      {error ? <p id={errorId} role="alert" className="mt-1 text-xs font-medium text-red-700">{error}</p> : null}
    </fieldset>
  );
}

function Check({ label, checked, onChange }: { label: string; checked: boolean; onChange: (on: boolean) => void }) {
  return (
    <label className="flex cursor-pointer items-center gap-2 rounded-md border border-slate-200 px-2.5 py-1.5 text-sm text-slate-800 hover:bg-slate-50 has-[:checked]:border-brand-300 has-[:checked]:bg-brand-50">
      <input type="checkbox" className="size-4 accent-brand-700" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      {label}
    </label>
  );
}

/** Segment rule editor: every criterion optional, all given criteria must match. */
export function CriteriaBuilder({ form, errors, onChange }: CriteriaBuilderProps) {
  const set = <K extends keyof CriteriaForm>(key: K, value: CriteriaForm[K]) => onChange({ ...form, [key]: value });
  const collections = useCollections().data?.collections ?? [];

  function numberField({ k, label, money = false }: { k: NumericKey; label: string; money?: boolean }) {
    const id = criteriaInputId(k);
    return (
      <Field label={label} htmlFor={id} error={errors[k]}>
        <Input id={id} type="number" min={0} step={money ? '0.01' : '1'} inputMode={money ? 'decimal' : 'numeric'}
          value={form[k]} onChange={(e) => set(k, e.target.value)} placeholder="Any"
          invalid={Boolean(errors[k])} aria-describedby={fieldDescribedBy(id, { error: Boolean(errors[k]) })} />
      </Field>
    );
  }

  return (
    <div className="space-y-5">
      <CheckGroup legend="Stages" error={errors.stages} errorId={`${criteriaInputId('stages')}-error`}>
        {STAGES.map((s) => (
          <Check key={s} label={STAGE_LABELS[s]} checked={form.stages.includes(s)} onChange={(on) => set('stages', toggle(form.stages, s, on))} />
        ))}
      </CheckGroup>
      <CheckGroup legend="Collections" error={errors.collections} errorId={`${criteriaInputId('collections')}-error`}>
        {collections.length === 0 ? <p className="text-sm text-slate-500">No collections yet: add them under Settings.</p> : null}
        {collections.map((c) => (
          <Check key={c.slug} label={c.name} checked={form.collections.includes(c.slug)}
            onChange={(on) => set('collections', toggle(form.collections, c.slug, on))} />
        ))}
      </CheckGroup>
      <div className="grid gap-4 sm:grid-cols-2">
        {numberField({ k: 'min_ltv', label: 'Min lifetime value', money: true })}
        {numberField({ k: 'max_ltv', label: 'Max lifetime value', money: true })}
        {numberField({ k: 'min_orders', label: 'Min orders' })}
        {numberField({ k: 'max_orders', label: 'Max orders' })}
        {numberField({ k: 'min_days_since_purchase', label: 'Min days since last purchase' })}
        {numberField({ k: 'max_days_since_purchase', label: 'Max days since last purchase' })}
      </div>
      <Field label="Email subscription" htmlFor={criteriaInputId('email_subscribed')} error={errors.email_subscribed}>
        <Select id={criteriaInputId('email_subscribed')} value={form.email_subscribed}
          onChange={(e) => set('email_subscribed', e.target.value === 'yes' ? 'yes' : e.target.value === 'no' ? 'no' : 'any')}>
          <option value="any">Any</option>
          <option value="yes">Subscribed to email</option>
          <option value="no">Not subscribed to email</option>
        </Select>
      </Field>
    </div>
  );
}
