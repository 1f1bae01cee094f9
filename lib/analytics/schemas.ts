import { z } from 'zod';

const day = z.iso.date({ message: 'must be a date, YYYY-MM-DD' });

/**
 * GET /api/analytics/trends: a period of whole days of the merchant's time zone, `to` included,
 * at most a year and a day: either `from` and `to`, or the last `days` days up to today.
 */
export const trendsQuery = z
  .object({
    from: day.optional(),
    to: day.optional(),
    days: z.coerce.number({ message: 'must be a number of days' }).int('must be a whole number of days').min(1, 'at least 1 day').max(366, 'at most 366 days').optional(),
    interval: z.enum(['day', 'week']).default('day'),
  })
  .refine((q) => q.days !== undefined || q.from !== undefined, { message: 'Give a start date (or a number of days)', path: ['from'] })
  .refine((q) => q.days !== undefined || q.to !== undefined, { message: 'Give an end date (or a number of days)', path: ['to'] })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'The start must not be after the end', path: ['from'] })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) - Date.parse(q.from) <= 365 * 86_400_000, { message: 'At most 366 days at a time', path: ['to'] });
export type TrendsQuery = z.infer<typeof trendsQuery>;

/** The additive figures of a day, a week or a period; what each one means is said once, here. */
export const trendFiguresSchema = z.object({
  /** Order totals less refunds, of orders placed in the bucket that were not cancelled. */
  revenue: z.number(),
  /** Orders placed in the bucket that were not cancelled. */
  orders: z.number().int(),
  /** Of those orders, the ones by a customer who had ordered before (a standing, earlier order). */
  repeatOrders: z.number().int(),
  /** Customers first seen (by a storefront event or an order) in the bucket. */
  newCustomers: z.number().int(),
  /** Customers who left their email (became a lead) in the bucket. */
  leads: z.number().int(),
  /** Customers who moved into "at risk". */
  intoAtRisk: z.number().int(),
  /** Customers who came back from "at risk" or "churned" to an active stage. */
  wonBack: z.number().int(),
  /** Customers who moved into "churned". */
  churned: z.number().int(),
});
export type TrendFigures = z.infer<typeof trendFiguresSchema>;

const withRate = trendFiguresSchema.extend({
  /** repeatOrders / orders; null when there were no orders. */
  repeatRate: z.number().min(0).max(1).nullable(),
});

export const trendPointSchema = withRate.extend({ bucket: z.iso.date() });
export type TrendPoint = z.infer<typeof trendPointSchema>;

export const trendTotalsSchema = withRate;
export type TrendTotals = z.infer<typeof trendTotalsSchema>;

export const trendsSchema = z.object({
  from: z.iso.date(),
  to: z.iso.date(),
  interval: z.enum(['day', 'week']),
  /** The merchant's time zone: the one the days are days of. */
  timeZone: z.string(),
  /** One point per day (or per week starting Monday), empty buckets included. */
  points: z.array(trendPointSchema),
  totals: trendTotalsSchema,
  /** The same figures for the period of equal length just before. */
  previous: trendTotalsSchema.extend({ from: z.iso.date(), to: z.iso.date() }),
});
export type Trends = z.infer<typeof trendsSchema>;

/** GET /api/analytics/cohorts: the last `months` first-order months, this one included. */
export const cohortsQuery = z.object({
  months: z.coerce.number({ message: 'must be a number of months' }).int('must be a whole number').min(2, 'at least 2 months').max(24, 'at most 24 months').default(12),
});
export type CohortsQuery = z.infer<typeof cohortsQuery>;

export const cohortSchema = z.object({
  /** The month of the customers' first order, YYYY-MM. */
  cohort: z.string().regex(/^\d{4}-\d{2}$/),
  /** Customers whose first standing order was in that month. */
  customers: z.number().int(),
  /**
   * For each later month (1 = the month after the first order) up to the current month: how
   * many of them placed an order that month, and that as a share of the cohort.
   */
  retained: z.array(z.object({ offset: z.number().int().min(1), customers: z.number().int(), share: z.number().min(0).max(1).nullable() })),
});
export type Cohort = z.infer<typeof cohortSchema>;

export const cohortsSchema = z.object({
  timeZone: z.string(),
  /** The current month, YYYY-MM: its figures are so far. */
  currentMonth: z.string().regex(/^\d{4}-\d{2}$/),
  cohorts: z.array(cohortSchema),
});
export type Cohorts = z.infer<typeof cohortsSchema>;
