import { z } from 'zod';

const day = z.iso.date({ message: 'must be a date, YYYY-MM-DD' });

/** GET /api/analytics/trends: a period of whole UTC days, `to` included, at most a year and a day. */
export const trendsQuery = z
  .object({
    from: day,
    to: day,
    interval: z.enum(['day', 'week']).default('day'),
  })
  .refine((q) => q.from <= q.to, { message: 'The start must not be after the end', path: ['from'] })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) <= 366 * 86_400_000, { message: 'At most 366 days at a time', path: ['to'] });
export type TrendsQuery = z.infer<typeof trendsQuery>;

const figures = {
  /** Order totals less refunds, of orders placed in the bucket that were not cancelled. */
  revenue: z.number(),
  /** Orders placed in the bucket that were not cancelled. */
  orders: z.number().int(),
  /** Customers first seen (by an event or an order) in the bucket. */
  newCustomers: z.number().int(),
  /** Customers who left an email (became a lead) in the bucket. */
  leads: z.number().int(),
};

export const trendPointSchema = z.object({ bucket: z.iso.date(), ...figures });
export type TrendPoint = z.infer<typeof trendPointSchema>;

export const trendTotalsSchema = z.object(figures);
export type TrendTotals = z.infer<typeof trendTotalsSchema>;

export const trendsSchema = z.object({
  from: z.iso.date(),
  to: z.iso.date(),
  interval: z.enum(['day', 'week']),
  /** One point per day (or per week starting Monday), empty buckets included. */
  points: z.array(trendPointSchema),
  totals: trendTotalsSchema,
  /** The same figures for the period of equal length just before. */
  previous: trendTotalsSchema.extend({ from: z.iso.date(), to: z.iso.date() }),
});
export type Trends = z.infer<typeof trendsSchema>;
