import { z } from 'zod';

/**
 * The field types every request schema is built from, on the server and in the browser alike,
 * so a limit and its message are written once: the forms read these same schemas.
 */

// C0 controls other than tab, newline and carriage return, and DEL. Postgres refuses NUL in text.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
// Half of a surrogate pair on its own is not Unicode text; it cannot be stored or sent back as UTF-8.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when a string holds only characters text may hold. */
export function isCleanText(value: string): boolean {
  return !CONTROL.test(value) && !LONE_SURROGATE.test(value);
}

/** The string without the characters text may not hold (for input that is cleaned, not refused). */
export function stripUncleanText(value: string): string {
  return value.replace(new RegExp(CONTROL.source, 'g'), '').replace(new RegExp(LONE_SURROGATE.source, 'g'), '');
}

/**
 * True when a JSON value nests at most `maxDepth` levels and every key and string in it is clean
 * text (jsonb refuses `\u0000`). Walked with a stack, so no input can exhaust the call stack.
 */
export function isCleanJson(value: unknown, maxDepth = 10): boolean {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (typeof v === 'string') {
      if (!isCleanText(v)) return false;
    } else if (v && typeof v === 'object') {
      if (depth >= maxDepth) return false;
      for (const [k, child] of Object.entries(v)) {
        if (!isCleanText(k)) return false;
        stack.push({ v: child, depth: depth + 1 });
      }
    }
  }
  return true;
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Text a person typed: trimmed, at most `max` characters, and refused (400) when it holds a
 * control character or a broken surrogate, whatever route it comes through.
 */
export function text(options: { max: number; min?: number; required?: string }) {
  const base = z
    .string({ error: 'Must be text' })
    .trim()
    .refine(isCleanText, 'Contains characters that are not allowed')
    .max(options.max, `At most ${count(options.max)} characters`);
  if (options.min !== undefined) return base.min(options.min, options.required ?? `At least ${count(options.min)} characters`);
  return options.required ? base.min(1, options.required) : base;
}

/** A whole number from `min` to `max`; Infinity, NaN and fractions are refused. */
export function wholeNumber(min: number, max: number) {
  return z
    .number({ error: 'Enter a number' })
    .int('Enter a whole number')
    .min(min, `Enter ${count(min)} or more`)
    .max(max, `Enter at most ${count(max)}`);
}

/**
 * A decimal amount from `min` (or above it, when `above`) to `max`; with `cents`, at most two
 * decimal places (money is stored to the cent: 9.999 would silently become 10.00).
 */
export function decimal(min: number, max: number, options: { above?: boolean; cents?: boolean } = {}) {
  const base = z.number({ error: 'Enter a number' });
  const low = options.above ? base.gt(min, `Enter more than ${count(min)}`) : base.min(min, `Enter ${count(min)} or more`);
  const ranged = low.max(max, `Enter at most ${count(max)}`);
  return options.cents ? ranged.refine((v) => Math.round(v * 100) / 100 === v, 'Use at most 2 decimal places') : ranged;
}

/**
 * What a number input's text means for a field: empty is no value (null), anything else is
 * checked by the field's own schema, so the browser shows the server's message before sending.
 */
export function readNumberInput(raw: string, field: z.ZodType): { value: number | null; error?: string } {
  const trimmed = raw.trim();
  if (trimmed === '') return { value: null };
  const parsed = field.safeParse(Number(trimmed));
  if (parsed.success) return { value: typeof parsed.data === 'number' ? parsed.data : null };
  return { value: null, error: parsed.error.issues[0]?.message ?? 'Enter a number' };
}

/** The first message for each top-level field of a failed parse ("criteria.min_ltv" counts as "criteria"). */
export function issuesByField(error: z.ZodError, depth = 1): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.slice(0, depth).map(String).join('.') || 'form';
    out[key] ??= issue.message;
  }
  return out;
}

/** The fields every paged list answers with, next to its items: `{ customers: [...], ...pageFields }`. */
export const pageFields = {
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
};

/** Where a keyset page starts: the first page, after a row, before a row, or the last page. */
export interface PageRequest {
  after?: string | undefined;
  before?: string | undefined;
  end?: 'last' | undefined;
}

/** Query fields of a keyset list; at most one of after, before and end. */
export const pageRequestFields = {
  after: text({ max: 400 }).optional(),
  before: text({ max: 400 }).optional(),
  end: z.literal('last').optional(),
};

/** Refuses a request naming two starting points (a 400 on the second one). */
export function oneStart(q: PageRequest, ctx: z.RefinementCtx): void {
  const given = (['after', 'before', 'end'] as const).filter((k) => q[k] !== undefined);
  if (given.length > 1) ctx.addIssue({ code: 'custom', path: [given[1] ?? 'end'], message: `Give only one of ${given.join(' and ')}` });
}

/** The fields every keyset list answers with, next to its items. */
export const keysetPageFields = {
  /** Every row the filters match. */
  total: z.number().int(),
  limit: z.number().int(),
  /** Pass as `before` for the page before this one; null on the first page. */
  prev: z.string().nullable(),
  /** Pass as `after` for the page after this one; null on the last page. */
  next: z.string().nullable(),
};

