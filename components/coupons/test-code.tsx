'use client';

import { CircleAlert, CircleCheck, FlaskConical } from 'lucide-react';
import { useState, type FormEvent } from 'react';
import { errorKey, type FormErrors } from '@/components/coupons/coupon-form';
import { REASON_LABELS } from '@/components/coupons/labels';
import { Button } from '@/components/ui/button';
import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { useValidateCoupon } from '@/hooks/use-coupons';
import { ApiError } from '@/lib/api-client';
import { couponValidate, type CouponValidation } from '@/lib/coupons/schemas';
import { issuesByField, readNumberInput } from '@/lib/fields';
import { errorText } from '@/lib/error-text';
import { formatMoney } from '@/lib/format';

const FIELDS = ['code', 'email', 'cartTotal', 'quantity'] as const;
const inputId = (k: string) => `test-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function Result({ code, result }: { code: string; result: CouponValidation }) {
  if (result.valid) {
    const parts = [
      result.discountAmount != null && result.discountAmount > 0 ? `${formatMoney(result.discountAmount)} off` : null,
      result.freeShipping ? 'free shipping' : null,
    ].filter((p): p is string => p !== null);
    return (
      <p className="flex items-start gap-2 rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-900">
        <CircleCheck className="mt-0.5 size-4 shrink-0 text-emerald-600" aria-hidden="true" />
        <span><strong className="font-semibold">{code} is valid.</strong> {parts.length > 0 ? `The customer gets ${parts.join(' and ')}.` : 'It applies to this cart.'}</span>
      </p>
    );
  }
  const why = result.message ?? (result.reason ? REASON_LABELS[result.reason] : 'It does not apply to this cart.');
  return (
    <p className="flex items-start gap-2 rounded-md bg-red-50 px-3 py-2 text-sm text-red-900">
      <CircleAlert className="mt-0.5 size-4 shrink-0 text-red-600" aria-hidden="true" />
      <span><strong className="font-semibold">{code} would be refused.</strong> {why}</span>
    </p>
  );
}

/** Asks the server what a checkout would: does this code apply to this customer and cart, and for how much. */
export function TestCodeCard() {
  const validate = useValidateCoupon();
  const [values, setValues] = useState<Record<(typeof FIELDS)[number], string>>({ code: '', email: '', cartTotal: '', quantity: '1' });
  const [errors, setErrors] = useState<FormErrors>({});
  const [result, setResult] = useState<{ code: string; result: CouponValidation } | null>(null);

  const set = (k: (typeof FIELDS)[number], v: string) => {
    setValues((old) => ({ ...old, [k]: v }));
    setErrors(({ [k]: _drop, ...rest }) => rest);
  };

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    // The request the server's own schema would accept, with its messages for anything it would not.
    const cartTotal = readNumberInput(values.cartTotal, couponValidate.shape.cartTotal);
    const quantity = readNumberInput(values.quantity, couponValidate.shape.quantity);
    const parsed = couponValidate.safeParse({
      code: values.code, email: values.email, cartTotal: cartTotal.value ?? Number.NaN, quantity: quantity.value ?? Number.NaN, productIds: [],
    });
    const local: FormErrors = parsed.success ? {} : issuesByField(parsed.error);
    if (cartTotal.error) local.cartTotal = cartTotal.error;
    else if (values.cartTotal.trim() === '') local.cartTotal = 'Enter the cart total';
    if (quantity.error) local.quantity = quantity.error;
    setResult(null);
    if (!parsed.success) {
      setErrors(local);
      const first = FIELDS.find((k) => local[k]);
      if (first) document.getElementById(inputId(first))?.focus();
      return;
    }
    setErrors({});
    try {
      const answer = await validate.mutateAsync(parsed.data);
      setResult({ code: parsed.data.code, result: answer });
    } catch (err) {
      const message = errorText(err, 'Could not check the code');
      const key = errorKey(err instanceof ApiError ? err.field : undefined);
      const known = FIELDS.find((k) => k === key);
      setErrors(known ? { [known]: message } : { form: message });
      if (known) document.getElementById(inputId(known))?.focus();
    }
  }

  function field(k: (typeof FIELDS)[number], label: string, props: { type?: string; placeholder?: string; prefix?: string; step?: string; inputMode?: 'decimal' | 'numeric' | 'email' }) {
    const id = inputId(k);
    return (
      <Field label={label} htmlFor={id} error={errors[k]}>
        <div className="relative">
          {props.prefix ? <span aria-hidden="true" className="pointer-events-none absolute left-3 top-1/2 -translate-y-1/2 text-sm text-slate-500">{props.prefix}</span> : null}
          <Input id={id} type={props.type ?? 'text'} value={values[k]} onChange={(e) => set(k, k === 'code' ? e.target.value.toUpperCase() : e.target.value)}
            placeholder={props.placeholder} step={props.step} min={props.type === 'number' ? 0 : undefined} inputMode={props.inputMode}
            autoComplete="off" className={props.prefix ? 'pl-7' : k === 'code' ? 'font-mono uppercase' : undefined}
            invalid={Boolean(errors[k])} aria-describedby={fieldDescribedBy(id, { error: Boolean(errors[k]) })} />
        </div>
      </Field>
    );
  }

  return (
    <Card>
      <CardHeader title="Test a code" description="See what a customer would get at checkout. Nothing is redeemed or counted." />
      <CardBody>
        <form onSubmit={submit} noValidate aria-label="Test a code" className="space-y-4">
          {errors.form ? <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{errors.form}</p> : null}
          <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-[minmax(0,1fr)_minmax(0,1.4fr)_minmax(0,1fr)_minmax(0,0.7fr)_auto] lg:items-start">
            {field('code', 'Code', { placeholder: 'WELCOME10' })}
            {field('email', 'Customer email', { type: 'email', placeholder: 'jane@example.com', inputMode: 'email' })}
            {field('cartTotal', 'Cart total', { type: 'number', placeholder: '50.00', prefix: '$', step: '0.01', inputMode: 'decimal' })}
            {field('quantity', 'Items', { type: 'number', step: '1', inputMode: 'numeric' })}
            <Button type="submit" variant="secondary" loading={validate.isPending} className="lg:mt-7">
              {validate.isPending ? null : <FlaskConical className="size-4" aria-hidden="true" />}
              Check code
            </Button>
          </div>
          <div role="status" aria-live="polite" data-testid="test-code-result">
            {result ? <Result code={result.code} result={result.result} /> : null}
          </div>
        </form>
      </CardBody>
    </Card>
  );
}
