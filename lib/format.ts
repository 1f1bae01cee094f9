const EM_DASH = '—';

type DateInput = string | Date | null | undefined;

function toDate(value: DateInput): Date | null {
  if (value === null || value === undefined || value === '') return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function toNumber(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Formats a currency amount (numbers or numeric strings); missing/invalid values render as an em dash. */
/** Money for a chart axis: "$14K", "$950". */
export function formatMoneyShort(amount: number, currency = 'USD'): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }).format(amount);
  } catch {
    return `${Math.round(amount)} ${currency}`;
  }
}

export function formatMoney(amount: number | string | null | undefined, currency = 'USD'): string {
  const n = toNumber(amount);
  if (n === null) return EM_DASH;
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(n);
  } catch {
    return `${n.toFixed(2)} ${currency}`;
  }
}

/** Formats a count with thousands separators; missing/invalid values render as an em dash. */
export function formatNumber(n: number | string | null | undefined): string {
  const value = toNumber(n);
  if (value === null) return EM_DASH;
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }).format(value);
}

/** Formats a ratio as a percentage (0.1234 -> '12.3%'); non-finite values render as an em dash. */
export function formatPercent(ratio: number, digits = 1): string {
  if (!Number.isFinite(ratio)) return EM_DASH;
  return new Intl.NumberFormat('en-US', {
    style: 'percent',
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(ratio);
}

/** Formats a date as 'Nov 24, 2026'; missing/invalid values render as an em dash. */
export function formatDate(iso: DateInput): string {
  const date = toDate(iso);
  if (!date) return EM_DASH;
  return new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric' }).format(date);
}

/** Formats a date with time as 'Nov 24, 2026, 3:04 PM'; missing/invalid values render as an em dash. */
export function formatDateTime(iso: DateInput): string {
  const date = toDate(iso);
  if (!date) return EM_DASH;
  return new Intl.DateTimeFormat('en-US', {
    month: 'short',
    day: 'numeric',
    year: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
  }).format(date);
}

const RELATIVE_UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 24 * 60 * 60],
  ['month', 30 * 24 * 60 * 60],
  ['week', 7 * 24 * 60 * 60],
  ['day', 24 * 60 * 60],
  ['hour', 60 * 60],
  ['minute', 60],
];

/** Formats a date relative to `now` ('3 days ago', 'in 2 hours', 'just now'); invalid values render as an em dash. */
export function formatRelative(iso: DateInput, now: Date = new Date()): string {
  const date = toDate(iso);
  if (!date) return EM_DASH;
  const diffSeconds = (date.getTime() - now.getTime()) / 1000;
  const abs = Math.abs(diffSeconds);
  if (abs < 45) return 'just now';
  const rtf = new Intl.RelativeTimeFormat('en-US', { numeric: 'always' });
  for (const [unit, seconds] of RELATIVE_UNITS) {
    if (abs >= seconds) return rtf.format(Math.trunc(diffSeconds / seconds), unit);
  }
  return rtf.format(diffSeconds < 0 ? -1 : 1, 'minute');
}
