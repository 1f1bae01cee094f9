import type { z } from 'zod';
import { checkCouponTerms, couponFields, type Coupon, type CouponCreate, type DiscountType } from '@/lib/coupons/schemas';
import { readNumberInput } from '@/lib/fields';

/** Editable coupon terms: numbers and dates stay strings while typing so a half-typed value is not lost. */
export interface TermsForm {
  discountType: DiscountType;
  discountValue: string;
  buyQuantity: string;
  getQuantity: string;
  usageLimit: string;
  perCustomerLimit: string;
  minimumPurchase: string;
  minimumQuantity: string;
  firstTimeOnly: boolean;
  /** `datetime-local` values, in the browser's time zone. */
  startsAt: string;
  expiresAt: string;
  description: string;
}

/** The request fields the terms produce, named like the API's fields. */
export type TermsBody = Omit<CouponCreate, 'code' | 'status'>;
export type TermsField = keyof TermsForm;
/** Error messages keyed by API field name (`code`, `discountValue`, ...) plus `form` for the rest. */
export type FormErrors = Partial<Record<string, string>>;

export const EMPTY_TERMS: TermsForm = {
  discountType: 'percentage', discountValue: '', buyQuantity: '', getQuantity: '', usageLimit: '',
  perCustomerLimit: '', minimumPurchase: '', minimumQuantity: '', firstTimeOnly: false,
  startsAt: '', expiresAt: '', description: '',
};

const pad = (n: number) => String(n).padStart(2, '0');

/** An ISO instant as a `datetime-local` value in the browser's time zone ('' for none). */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value (local wall time) as an ISO 8601 instant with its zone (UTC `Z`); null if unreadable. */
export function fromLocalInput(value: string): string | null {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** The browser's time zone name, for the date hints ("Europe/Paris"). */
export function localTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return 'your local time';
  }
}

const str = (n: number | null | undefined) => (n == null ? '' : String(n));

/** Loads a saved coupon's terms into the form. */
export function termsFromCoupon(c: Coupon): TermsForm {
  return {
    discountType: c.discountType,
    discountValue: str(c.discountValue),
    buyQuantity: str(c.buyQuantity),
    getQuantity: str(c.getQuantity),
    usageLimit: str(c.usageLimit),
    perCustomerLimit: str(c.perCustomerLimit),
    minimumPurchase: str(c.minimumPurchase),
    minimumQuantity: str(c.minimumQuantity),
    firstTimeOnly: c.firstTimeOnly,
    startsAt: toLocalInput(c.startsAt),
    expiresAt: toLocalInput(c.expiresAt),
    description: c.description ?? '',
  };
}

/** The number fields of the form, each checked by the server's own field schema. */
const NUMBER_FIELDS = ['usageLimit', 'perCustomerLimit', 'minimumPurchase', 'minimumQuantity', 'buyQuantity', 'getQuantity'] as const;

/**
 * Validates the terms with the server's own field schemas and cross-field rules, and builds the
 * request fields. `initial` is the form as loaded for an edit: unchanged dates are left out, so
 * minute rounding never moves them.
 */
export function termsToBody(
  form: TermsForm,
  opts: { include?: TermsField[]; initial?: TermsForm } = {},
): { body: TermsBody; errors: FormErrors } {
  const errors: FormErrors = {};
  const shown = (k: TermsField) => !opts.include || opts.include.includes(k);
  const num = (k: TermsField & keyof typeof couponFields) => {
    const r = readNumberInput(String(form[k]), couponFields[k]);
    if (r.error) errors[k] = r.error;
    return r.value;
  };
  const type = form.discountType;
  const body: TermsBody = { discountType: type };
  const hasValue = type === 'percentage' || type === 'fixed_amount';
  body.discountValue = hasValue ? num('discountValue') : null;
  body.buyQuantity = type === 'buy_x_get_y' ? num('buyQuantity') : null;
  body.getQuantity = type === 'buy_x_get_y' ? num('getQuantity') : null;
  for (const k of NUMBER_FIELDS) if (k !== 'buyQuantity' && k !== 'getQuantity' && shown(k)) body[k] = num(k);
  if (shown('firstTimeOnly')) body.firstTimeOnly = form.firstTimeOnly;
  if (shown('description')) body.description = form.description.trim() === '' ? null : form.description.trim();

  const starts = form.startsAt === '' ? null : fromLocalInput(form.startsAt);
  const expires = form.expiresAt === '' ? null : fromLocalInput(form.expiresAt);
  if (form.startsAt !== '' && starts === null) errors.startsAt = 'Enter a valid start date and time';
  if (form.expiresAt !== '' && expires === null) errors.expiresAt = 'Enter a valid end date and time';
  if (starts && form.startsAt !== opts.initial?.startsAt) body.startsAt = starts;
  if (form.expiresAt !== opts.initial?.expiresAt) body.expiresAt = expires;

  // The same cross-field rules the server runs (a value for the type, percent at most 100, dates in order).
  const problem = checkCouponTerms({ ...body, startsAt: starts ?? undefined, expiresAt: expires });
  if (problem && !errors[problem.field]) errors[problem.field] = problem.message;
  return { body, errors };
}

/** Checks a built request against the contract's own schema; the first message per field. */
export function schemaErrors(schema: z.ZodType, body: unknown): FormErrors {
  const result = schema.safeParse(body);
  if (result.success) return {};
  const errors: FormErrors = {};
  for (const issue of result.error.issues) {
    const key = typeof issue.path[0] === 'string' ? issue.path[0] : 'form';
    errors[key] ??= issue.message;
  }
  return errors;
}

/** The API field a server error names, reduced to its top-level key ("productIds.0" → "productIds"). */
export function errorKey(field: string | undefined): string | undefined {
  return field?.split('.')[0];
}

/** Errors for fields the form does not show are moved to `form`, so no message is ever lost. */
export function placeErrors(errors: FormErrors, shownFields: string[]): FormErrors {
  const out: FormErrors = {};
  for (const [key, message] of Object.entries(errors)) {
    if (!message) continue;
    if (key === 'form' || shownFields.includes(key)) out[key] ??= message;
    else out.form ??= message;
  }
  return out;
}

/** Focuses the first field (in form order) that has an error. */
export function focusFirstError(errors: FormErrors, order: string[], idOf: (key: string) => string): void {
  const first = order.find((k) => errors[k]);
  if (first) document.getElementById(idOf(first))?.focus();
}
