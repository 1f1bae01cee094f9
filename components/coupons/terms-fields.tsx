import type { ReactNode } from 'react';
import { TYPE_HINTS, TYPE_ICONS, TYPE_LABELS } from '@/components/coupons/labels';
import { localTimeZone, type FormErrors, type TermsField, type TermsForm } from '@/components/coupons/coupon-form';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { cn } from '@/lib/cn';
import { DISCOUNT_TYPES, type DiscountType } from '@/lib/coupons/schemas';

export type TermsFieldsProps = {
  /** Prefix for input ids, so two forms on a page never share an id. */
  idPrefix: string;
  form: TermsForm;
  errors: FormErrors;
  onChange: (form: TermsForm) => void;
  /** Only these optional fields are shown (the discount type and its values always are). */
  include?: TermsField[];
};

/** Input id for an API field name, shared with the forms so server errors can focus the right control. */
export const termsInputId = (prefix: string, key: string) => `${prefix}-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="space-y-3">
      <legend className="text-sm font-semibold text-slate-900">{title}</legend>
      {children}
    </fieldset>
  );
}

function Adorned({ prefix, suffix, children }: { prefix?: string; suffix?: string; children: ReactNode }) {
  return (
    <div className="relative">
      {prefix ? <span aria-hidden="true" className="pointer-events-none absolute left-3 top-1/2 -translate-y-1/2 text-sm text-slate-500">{prefix}</span> : null}
      {children}
      {suffix ? <span aria-hidden="true" className="pointer-events-none absolute right-3 top-1/2 -translate-y-1/2 text-sm text-slate-500">{suffix}</span> : null}
    </div>
  );
}

/** Discount type picker, its value or quantities, limits, requirements, dates and description. */
export function TermsFields({ idPrefix, form, errors, onChange, include }: TermsFieldsProps) {
  const set = <K extends keyof TermsForm>(key: K, value: TermsForm[K]) => onChange({ ...form, [key]: value });
  const shown = (k: TermsField) => !include || include.includes(k);
  const id = (k: string) => termsInputId(idPrefix, k);

  function numberInput(k: Exclude<TermsField, 'discountType' | 'firstTimeOnly'>, opts: {
    label: string; hint?: string; placeholder?: string; money?: boolean; prefix?: string; suffix?: string; required?: boolean;
  }) {
    const error = errors[k];
    return (
      <Field label={opts.label} htmlFor={id(k)} hint={opts.hint} error={error} required={opts.required}>
        <Adorned prefix={opts.prefix} suffix={opts.suffix}>
          <Input id={id(k)} type="number" min={0} step={opts.money ? '0.01' : '1'} inputMode={opts.money ? 'decimal' : 'numeric'}
            value={form[k]} onChange={(e) => set(k, e.target.value)} placeholder={opts.placeholder} required={opts.required}
            className={cn(opts.prefix && 'pl-7', opts.suffix && 'pr-8')} invalid={Boolean(error)}
            aria-describedby={fieldDescribedBy(id(k), { hint: Boolean(opts.hint), error: Boolean(error) })} />
        </Adorned>
      </Field>
    );
  }

  const type = form.discountType;
  const typeErrorId = `${id('discountType')}-error`;
  return (
    <div className="space-y-6">
      <fieldset aria-describedby={errors.discountType ? typeErrorId : undefined}>
        <legend className="text-sm font-semibold text-slate-900">Discount type</legend>
        <div className="mt-2 grid gap-2 sm:grid-cols-2">
          {DISCOUNT_TYPES.map((t: DiscountType) => {
            const Icon = TYPE_ICONS[t];
            const optionId = `${id('discountType')}-${t}`;
            return (
              <label key={t} className={cn(
                'flex cursor-pointer items-start gap-3 rounded-md border border-slate-200 p-3 hover:bg-slate-50',
                'has-[:checked]:border-brand-400 has-[:checked]:bg-brand-50 has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-offset-1 has-[:focus-visible]:outline-brand-600',
              )}>
                <input type="radio" name={id('discountType')} id={t === type ? id('discountType') : undefined} value={t}
                  checked={t === type} onChange={() => set('discountType', t)}
                  aria-labelledby={`${optionId}-label`} aria-describedby={`${optionId}-hint`}
                  className="mt-0.5 size-4 shrink-0 accent-brand-700 focus-visible:outline-none" />
                <span className="flex min-w-0 flex-col">
                  <span id={`${optionId}-label`} className="flex items-center gap-1.5 text-sm font-medium text-slate-900">
                    <Icon className="size-4 text-brand-700" aria-hidden="true" />
                    {TYPE_LABELS[t]}
                  </span>
                  <span id={`${optionId}-hint`} className="text-xs text-slate-600">{TYPE_HINTS[t]}</span>
                </span>
              </label>
            );
          })}
        </div>
        {errors.discountType ? <p id={typeErrorId} role="alert" className="mt-1 text-xs font-medium text-red-700">{errors.discountType}</p> : null}
      </fieldset>

      {type === 'percentage' ? (
        <div className="grid gap-4 sm:grid-cols-2">
          {numberInput('discountValue', { label: 'Percentage off', suffix: '%', placeholder: '10', money: true, required: true })}
        </div>
      ) : null}
      {type === 'fixed_amount' ? (
        <div className="grid gap-4 sm:grid-cols-2">
          {numberInput('discountValue', { label: 'Amount off', prefix: '$', placeholder: '10.00', money: true, required: true })}
        </div>
      ) : null}
      {type === 'buy_x_get_y' ? (
        <div className="grid gap-4 sm:grid-cols-2">
          {numberInput('buyQuantity', { label: 'Customer buys', hint: 'Items at full price', placeholder: '2', required: true })}
          {numberInput('getQuantity', { label: 'Customer gets free', hint: 'Items added free', placeholder: '1', required: true })}
        </div>
      ) : null}

      {shown('usageLimit') || shown('perCustomerLimit') ? (
        <Section title="Limits">
          <div className="grid gap-4 sm:grid-cols-2">
            {shown('usageLimit') ? numberInput('usageLimit', { label: 'Total uses', hint: 'Leave empty for unlimited', placeholder: 'Unlimited' }) : null}
            {shown('perCustomerLimit') ? numberInput('perCustomerLimit', { label: 'Uses per customer', hint: 'Leave empty for unlimited', placeholder: 'Unlimited' }) : null}
          </div>
        </Section>
      ) : null}

      <Section title="Requirements">
        <div className="grid gap-4 sm:grid-cols-2">
          {shown('minimumPurchase') ? numberInput('minimumPurchase', { label: 'Minimum purchase', prefix: '$', placeholder: 'None', money: true }) : null}
          {shown('minimumQuantity') ? numberInput('minimumQuantity', { label: 'Minimum quantity', placeholder: 'None' }) : null}
        </div>
        {shown('firstTimeOnly') ? (
          <label className="flex items-center gap-2 text-sm text-slate-800">
            <input type="checkbox" className="size-4 accent-brand-700" checked={form.firstTimeOnly} onChange={(e) => set('firstTimeOnly', e.target.checked)} />
            First-time customers only
          </label>
        ) : null}
      </Section>

      <Section title="Active dates">
        <div className="grid gap-4 sm:grid-cols-2">
          {(['startsAt', 'expiresAt'] as const).map((k) => {
            const hint = k === 'startsAt' ? 'Leave empty to start now' : 'Leave empty to never expire';
            return (
              <Field key={k} label={k === 'startsAt' ? 'Starts' : 'Expires'} htmlFor={id(k)} hint={hint} error={errors[k]}>
                <Input id={id(k)} type="datetime-local" value={form[k]} onChange={(e) => set(k, e.target.value)}
                  invalid={Boolean(errors[k])} aria-describedby={fieldDescribedBy(id(k), { hint: true, error: Boolean(errors[k]) })} />
              </Field>
            );
          })}
        </div>
        <p className="text-xs text-slate-600">Times are in your time zone ({localTimeZone()}).</p>
      </Section>

      {shown('description') ? (
        <Field label="Description" htmlFor={id('description')} hint="What the coupon is for, e.g. “Welcome offer for newsletter sign-ups”." error={errors.description}>
          <Input id={id('description')} value={form.description} onChange={(e) => set('description', e.target.value)} maxLength={500}
            invalid={Boolean(errors.description)} aria-describedby={fieldDescribedBy(id('description'), { hint: true, error: Boolean(errors.description) })} />
        </Field>
      ) : null}
    </div>
  );
}
