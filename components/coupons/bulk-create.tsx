'use client';

import { CircleCheck, Download } from 'lucide-react';
import { useState, type FormEvent } from 'react';
import { EMPTY_TERMS, errorKey, focusFirstError, placeErrors, schemaErrors, termsToBody, type FormErrors, type TermsField, type TermsForm } from '@/components/coupons/coupon-form';
import { describeDiscount } from '@/components/coupons/labels';
import { TermsFields, termsInputId } from '@/components/coupons/terms-fields';
import { Button } from '@/components/ui/button';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Modal } from '@/components/ui/modal';
import { useToast } from '@/components/ui/toast';
import { useBulkCreateCoupons } from '@/hooks/use-coupons';
import { ApiError } from '@/lib/api-client';
import { couponBulkCreate, type CouponBatch } from '@/lib/coupons/schemas';
import { errorText } from '@/lib/error-text';
import { readNumberInput } from '@/lib/fields';
import { formatNumber } from '@/lib/format';

const PREFIX = 'bulk';
/** The batch size the server allows, read from its schema. */
const MAX_COUNT = couponBulkCreate.shape.count.maxValue ?? 10_000;
/** Bulk codes are single use, so the usage limits do not apply. */
const INCLUDE: TermsField[] = ['minimumPurchase', 'minimumQuantity', 'firstTimeOnly', 'startsAt', 'expiresAt', 'description'];
const FIELD_ORDER = ['prefix', 'count', 'discountType', 'discountValue', 'buyQuantity', 'getQuantity', 'minimumPurchase', 'minimumQuantity', 'startsAt', 'expiresAt', 'description'];

function Created({ batch, prefix, onClose }: { batch: CouponBatch; prefix: string; onClose: () => void }) {
  return (
    <Modal open onClose={onClose} title="Codes generated"
      footer={<Button onClick={onClose}>Done</Button>}>
      <div className="space-y-4" role="status">
        <p className="flex items-start gap-2 text-sm text-slate-800">
          <CircleCheck className="mt-0.5 size-5 shrink-0 text-emerald-600" aria-hidden="true" />
          <span>
            <strong className="font-semibold">{formatNumber(batch.count)} single-use codes</strong> starting with{' '}
            <code className="font-mono font-semibold">{prefix}-</code> are ready. Download them to hand out or import into your email tool.
          </span>
        </p>
        <a href={batch.csvUrl} download={`${prefix.toLowerCase()}-codes.csv`}
          className="inline-flex h-10 items-center gap-2 rounded-md bg-brand-700 px-4 text-sm font-medium text-white shadow-sm hover:bg-brand-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600">
          <Download className="size-4" aria-hidden="true" />
          Download CSV
        </a>
      </div>
    </Modal>
  );
}

/** Generates up to 10,000 single-use codes sharing one set of terms, then offers them as a CSV. */
export function BulkCreateModal({ onClose }: { onClose: () => void }) {
  const bulk = useBulkCreateCoupons();
  const { toast } = useToast();
  const [prefix, setPrefix] = useState('');
  const [count, setCount] = useState('100');
  const [terms, setTerms] = useState<TermsForm>(EMPTY_TERMS);
  const [errors, setErrors] = useState<FormErrors>({});
  const [batch, setBatch] = useState<CouponBatch | null>(null);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const { body, errors: local } = termsToBody(terms, { include: INCLUDE });
    const n = readNumberInput(count, couponBulkCreate.shape.count);
    if (n.error) local.count = n.error;
    else if (n.value === null) local.count = 'Enter how many codes to generate';
    const input = { prefix: prefix.trim().toUpperCase(), count: n.value ?? 0, ...body };
    if (Object.keys(local).length === 0) Object.assign(local, schemaErrors(couponBulkCreate, input));
    const shown = placeErrors(local, FIELD_ORDER);
    setErrors(shown);
    if (Object.keys(shown).length > 0) {
      focusFirstError(shown, FIELD_ORDER, (k) => termsInputId(PREFIX, k));
      return;
    }
    try {
      const created = await bulk.mutateAsync(input);
      toast({ title: `${formatNumber(created.count)} codes generated`, description: describeDiscount(body), variant: 'success' });
      setBatch(created);
    } catch (err) {
      const message = errorText(err, 'Could not generate the codes');
      const key = errorKey(err instanceof ApiError ? err.field : undefined);
      const el = key ? document.getElementById(termsInputId(PREFIX, key)) : null;
      if (key && el) {
        setErrors({ [key]: message });
        el.focus();
      } else setErrors({ form: message });
    }
  }

  if (batch) return <Created batch={batch} prefix={prefix.trim().toUpperCase()} onClose={onClose} />;

  const prefixId = termsInputId(PREFIX, 'prefix');
  const countId = termsInputId(PREFIX, 'count');
  return (
    <Modal open onClose={onClose} size="lg" title="Generate codes"
      description="Many unique single-use codes with the same discount, e.g. for a newsletter or printed inserts."
      footer={<>
        <Button variant="ghost" onClick={onClose}>Cancel</Button>
        <Button type="submit" form="bulk-form" loading={bulk.isPending}>Generate codes</Button>
      </>}>
      <form id="bulk-form" onSubmit={submit} noValidate className="space-y-6">
        {errors.form ? <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{errors.form}</p> : null}
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="Prefix" htmlFor={prefixId} required error={errors.prefix}
            hint={`Codes look like ${prefix.trim().toUpperCase() || 'PREFIX'}-XXXXXXXXXX`}>
            <Input id={prefixId} value={prefix} onChange={(e) => setPrefix(e.target.value.toUpperCase())} maxLength={12} required
              placeholder="SPRING" className="font-mono uppercase" autoComplete="off" spellCheck={false}
              invalid={Boolean(errors.prefix)} aria-describedby={fieldDescribedBy(prefixId, { hint: true, error: Boolean(errors.prefix) })} />
          </Field>
          <Field label="How many" htmlFor={countId} required error={errors.count} hint={`Up to ${formatNumber(MAX_COUNT)} per batch`}>
            <Input id={countId} type="number" min={1} max={MAX_COUNT} step={1} inputMode="numeric" value={count}
              onChange={(e) => setCount(e.target.value)} required
              invalid={Boolean(errors.count)} aria-describedby={fieldDescribedBy(countId, { hint: true, error: Boolean(errors.count) })} />
          </Field>
        </div>
        <TermsFields idPrefix={PREFIX} form={terms} errors={errors} include={INCLUDE}
          onChange={(next) => {
            setTerms(next);
            setErrors(({ prefix: p, count: c }) => ({ prefix: p, count: c }));
          }} />
      </form>
    </Modal>
  );
}
