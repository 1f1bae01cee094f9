'use client';

import { Shuffle } from 'lucide-react';
import { useState, type FormEvent } from 'react';
import {
  EMPTY_TERMS, errorKey, focusFirstError, placeErrors, schemaErrors, termsFromCoupon, termsToBody, type FormErrors, type TermsForm,
} from '@/components/coupons/coupon-form';
import { describeDiscount } from '@/components/coupons/labels';
import { TermsFields, termsInputId } from '@/components/coupons/terms-fields';
import { Button } from '@/components/ui/button';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { Modal } from '@/components/ui/modal';
import { useToast } from '@/components/ui/toast';
import { useCreateCoupon, useUpdateCoupon } from '@/hooks/use-coupons';
import { ApiError } from '@/lib/api-client';
import { couponCreate, couponPatch, type Coupon } from '@/lib/coupons/schemas';
import { errorText } from '@/lib/error-text';

const PREFIX = 'coupon';
/** Form order, so the first invalid field gets focus. */
const FIELD_ORDER = [
  'code', 'discountType', 'discountValue', 'buyQuantity', 'getQuantity', 'usageLimit', 'perCustomerLimit',
  'minimumPurchase', 'minimumQuantity', 'startsAt', 'expiresAt', 'description',
];
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random, easy-to-read 8 character code (no 0/O or 1/I). */
function randomCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => CODE_ALPHABET[b % CODE_ALPHABET.length] ?? 'X').join('');
}

export type CouponEditorProps = { coupon: Coupon | null; onClose: () => void; onSaved: (c: Coupon) => void };

/** Create or edit one coupon in a modal; server errors appear under the field they name, the rest above the form. */
export function CouponEditor({ coupon, onClose, onSaved }: CouponEditorProps) {
  const create = useCreateCoupon();
  const update = useUpdateCoupon();
  const { toast } = useToast();
  const [initial] = useState<TermsForm>(() => (coupon ? termsFromCoupon(coupon) : EMPTY_TERMS));
  const [terms, setTerms] = useState<TermsForm>(initial);
  const [code, setCode] = useState(coupon?.code ?? '');
  const [activate, setActivate] = useState(true);
  const [errors, setErrors] = useState<FormErrors>({});

  function changeTerms(next: TermsForm) {
    setTerms(next);
    setErrors(({ code: codeError }) => ({ code: codeError }));
  }

  function showServerError(err: unknown) {
    const message = errorText(err, 'Could not save the coupon');
    const key = errorKey(err instanceof ApiError ? err.field : undefined);
    const input = key ? document.getElementById(termsInputId(PREFIX, key)) : null;
    if (key && input) {
      setErrors({ [key]: message });
      input.focus();
    } else setErrors({ form: message });
  }

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const { body, errors: local } = termsToBody(terms, { initial: coupon ? initial : undefined });
    const normalized = code.trim().toUpperCase();
    if (!coupon && normalized === '') local.code = 'Enter a code, or generate one';
    if (Object.keys(local).length === 0) {
      Object.assign(local, coupon
        ? schemaErrors(couponPatch, body)
        : schemaErrors(couponCreate, { code: normalized, status: activate ? 'active' : 'draft', ...body }));
    }
    const shown = placeErrors(local, FIELD_ORDER);
    setErrors(shown);
    if (Object.keys(shown).length > 0) {
      focusFirstError(shown, FIELD_ORDER, (k) => termsInputId(PREFIX, k));
      return;
    }
    try {
      const saved = coupon
        ? await update.mutateAsync({ id: coupon.id, patch: body })
        : await create.mutateAsync({ code: normalized, status: activate ? 'active' : 'draft', ...body });
      toast({ title: coupon ? 'Coupon saved' : 'Coupon created', description: `${saved.code}: ${describeDiscount(saved)}`, variant: 'success' });
      onSaved(saved);
    } catch (err) {
      showServerError(err);
    }
  }

  const codeId = termsInputId(PREFIX, 'code');
  const saving = create.isPending || update.isPending;
  return (
    <Modal open onClose={onClose} size="lg" title={coupon ? `Edit ${coupon.code}` : 'Create coupon'}
      description={coupon ? 'Changes apply to the next order that uses the code.' : 'A code customers enter at checkout.'}
      footer={<>
        <Button variant="ghost" onClick={onClose}>Cancel</Button>
        <Button type="submit" form="coupon-form" loading={saving}>{coupon ? 'Save changes' : 'Create coupon'}</Button>
      </>}>
      <form id="coupon-form" onSubmit={submit} noValidate className="space-y-6">
        {errors.form ? <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{errors.form}</p> : null}
        <div className="grid gap-4 sm:grid-cols-2 sm:items-start">
          <Field label="Code" htmlFor={codeId} required={!coupon} error={errors.code}
            hint={coupon ? 'A code cannot change once created.' : 'Letters, digits, dashes and underscores.'}>
            <div className="flex gap-2">
              <Input id={codeId} value={code} disabled={Boolean(coupon)} required={!coupon} maxLength={40} autoComplete="off" spellCheck={false}
                placeholder="SUMMER20" className="font-mono uppercase"
                onChange={(e) => {
                  setCode(e.target.value.toUpperCase());
                  setErrors(({ code: _drop, ...rest }) => rest);
                }}
                invalid={Boolean(errors.code)} aria-describedby={fieldDescribedBy(codeId, { hint: true, error: Boolean(errors.code) })} />
              {coupon ? null : (
                <Button variant="secondary" onClick={() => {
                  setCode(randomCode());
                  setErrors(({ code: _drop, ...rest }) => rest);
                }} aria-label="Generate a random code" title="Generate a random code">
                  <Shuffle className="size-4" aria-hidden="true" />
                </Button>
              )}
            </div>
          </Field>
          {coupon ? null : (
            <label className="flex items-start gap-2 pt-1 text-sm text-slate-800 sm:pt-8">
              <input type="checkbox" className="mt-0.5 size-4 accent-brand-700" checked={activate} onChange={(e) => setActivate(e.target.checked)} />
              <span>
                Active right away
                <span className="block text-xs text-slate-600">Unchecked saves a draft nobody can use yet.</span>
              </span>
            </label>
          )}
        </div>
        <TermsFields idPrefix={PREFIX} form={terms} errors={errors} onChange={changeTerms} />
      </form>
    </Modal>
  );
}
