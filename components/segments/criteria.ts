import { collectionName, type Collection } from '@/lib/collections/schemas';
import { STAGE_LABELS, type Stage } from '@/lib/customers/schemas';
import { segmentCriteria, type SegmentCriteria } from '@/lib/segments/schemas';
import { issuesByField, readNumberInput } from '@/lib/fields';
import { formatMoney, formatNumber } from '@/lib/format';

/** Editable criteria: numbers stay strings while typing so a half-typed value is not lost. */
export interface CriteriaForm {
  stages: Stage[];
  /** Collection slugs. */
  collections: string[];
  min_ltv: string;
  max_ltv: string;
  min_orders: string;
  max_orders: string;
  min_days_since_purchase: string;
  max_days_since_purchase: string;
  email_subscribed: 'any' | 'yes' | 'no';
}

export type NumericKey = 'min_ltv' | 'max_ltv' | 'min_orders' | 'max_orders' | 'min_days_since_purchase' | 'max_days_since_purchase';

/** Error messages keyed like the API's `criteria.<key>` fields, minus the prefix. */
export type CriteriaErrors = Partial<Record<keyof CriteriaForm, string>>;

const NUMERIC: NumericKey[] = [
  'min_ltv', 'max_ltv', 'min_orders', 'max_orders', 'min_days_since_purchase', 'max_days_since_purchase',
];

/** An empty form: no criteria means every customer matches. */
export const EMPTY_CRITERIA: CriteriaForm = {
  stages: [], collections: [], min_ltv: '', max_ltv: '', min_orders: '', max_orders: '',
  min_days_since_purchase: '', max_days_since_purchase: '', email_subscribed: 'any',
};

/** Loads a saved segment's criteria into the form. */
export function toForm(c: SegmentCriteria): CriteriaForm {
  const str = (n: number | undefined) => (n === undefined ? '' : String(n));
  return {
    stages: c.stages ?? [], collections: c.collections ?? [],
    min_ltv: str(c.min_ltv), max_ltv: str(c.max_ltv), min_orders: str(c.min_orders), max_orders: str(c.max_orders),
    min_days_since_purchase: str(c.min_days_since_purchase), max_days_since_purchase: str(c.max_days_since_purchase),
    email_subscribed: c.email_subscribed === undefined ? 'any' : c.email_subscribed ? 'yes' : 'no',
  };
}

/**
 * Validates with the server's own schema (each number by its field's rule, then the min/max
 * pairs) and builds the API shape; returns errors instead when something is off.
 */
export function fromForm(form: CriteriaForm): { criteria: SegmentCriteria; errors: CriteriaErrors } {
  const errors: CriteriaErrors = {};
  const criteria: SegmentCriteria = {};
  if (form.stages.length > 0) criteria.stages = form.stages;
  if (form.collections.length > 0) criteria.collections = form.collections;
  for (const key of NUMERIC) {
    const r = readNumberInput(form[key], segmentCriteria.shape[key]);
    if (r.error) errors[key] = r.error;
    else if (r.value !== null) criteria[key] = r.value;
  }
  if (form.email_subscribed !== 'any') criteria.email_subscribed = form.email_subscribed === 'yes';
  const checked = segmentCriteria.safeParse(criteria);
  if (!checked.success) {
    for (const [key, message] of Object.entries(issuesByField(checked.error))) {
      if (key in form) errors[key as keyof CriteriaForm] ??= message;
    }
  }
  return { criteria, errors };
}

/** One-line summary of criteria for the segment list, collections by their names. */
export function describeCriteria(c: SegmentCriteria, collections?: readonly Collection[]): string {
  const parts: string[] = [];
  if (c.stages?.length) parts.push(c.stages.map((s) => STAGE_LABELS[s]).join(' or '));
  if (c.collections?.length) parts.push(`likes ${c.collections.map((x) => collectionName(collections, x)).join(' or ')}`);
  const range = (lo: number | undefined, hi: number | undefined, fmt: (n: number) => string, what: string) => {
    if (lo !== undefined && hi !== undefined) parts.push(`${what} ${fmt(lo)}–${fmt(hi)}`);
    else if (lo !== undefined) parts.push(`${what} ≥ ${fmt(lo)}`);
    else if (hi !== undefined) parts.push(`${what} ≤ ${fmt(hi)}`);
  };
  range(c.min_ltv, c.max_ltv, (n) => formatMoney(n), 'LTV');
  range(c.min_orders, c.max_orders, formatNumber, 'orders');
  range(c.min_days_since_purchase, c.max_days_since_purchase, formatNumber, 'days since purchase');
  if (c.email_subscribed !== undefined) parts.push(c.email_subscribed ? 'email subscribed' : 'not email subscribed');
  return parts.length > 0 ? parts.join(' · ') : 'All customers';
}
