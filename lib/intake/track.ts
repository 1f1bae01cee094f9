import 'server-only';
import { z } from 'zod';
import { AppError } from '@/lib/errors';
import { emailSchema } from '@/lib/auth/schemas';
import { collectionSlug } from '@/lib/collections/schemas';
import { CHANNELS, TOUCHPOINT_TYPES } from '@/lib/customers/schemas';
import { jsonb, type Tx } from '@/lib/db';
import { decimal, isCleanJson, text as cleanText } from '@/lib/fields';

export const MAX_TRACK_EVENTS = 500;
const FUTURE_SLACK_MS = 5 * 60 * 1000;
// A public key is in every storefront's page: events may not be backdated far enough to move
// someone's stage by time (a fake old lead would be "churned" at once).
const MAX_AGE_MS = 48 * 60 * 60 * 1000;
// Email opens and clicks come from the email provider, not from anyone holding the public key.
const NOT_FROM_STOREFRONT = new Set(['purchase', 'email_open', 'email_click']);
const text = (max: number) => cleanText({ max });

/** One storefront event. Purchases are not accepted here: they come from the order webhook. */
export const trackEventSchema = z.object({
  type: z
    .enum(TOUCHPOINT_TYPES)
    .refine((t) => !NOT_FROM_STOREFRONT.has(t), {
      message: "purchases come from your shop's order webhook and email events from your email provider, not /api/track",
    }),
  channel: z.enum(CHANNELS),
  email: emailSchema,
  occurredAt: z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
    .refine((v) => Date.parse(v) <= Date.now() + FUTURE_SLACK_MS, { message: 'must not be in the future' })
    .refine((v) => Date.parse(v) >= Date.now() - MAX_AGE_MS, { message: 'must be within the last 48 hours' })
    .optional(),
  // A slug the merchant has no collection for is recorded as none (the storefront may run ahead).
  collection: collectionSlug.optional(),
  value: decimal(0, 100_000_000).optional(),
  referenceId: text(200).optional(),
  referenceType: text(64).optional(),
  utm: z.object({ source: text(200).optional(), medium: text(200).optional(), campaign: text(200).optional() }).optional(),
  metadata: z
    .record(z.string(), z.unknown())
    // Depth and characters first: stringifying a value nested 100,000 deep would throw.
    .refine((m) => isCleanJson(m), { message: 'must nest at most 10 levels and hold only text characters that are allowed', abort: true })
    .refine((m) => JSON.stringify(m).length <= 4096, { message: 'must be at most 4 KB of JSON' })
    .optional(),
});
export type TrackEvent = z.infer<typeof trackEventSchema>;

/** The envelope is checked first so a wrong key is a 401 before any event is looked at. */
export const trackEnvelopeSchema = z.object({
  key: text(100),
  events: z.array(z.unknown()).min(1, 'Send at least one event').max(MAX_TRACK_EVENTS, `At most ${MAX_TRACK_EVENTS} events per request`),
});

const eventsSchema = z.array(trackEventSchema);

/** The merchant owning a publishable key, or 401. */
export async function merchantForTrackingKey(tx: Tx, key: string): Promise<string> {
  const [row] = await tx<{ userId: string }[]>`select user_id from public.merchant_settings where tracking_key = ${key}`;
  if (!row) throw new AppError('unauthorized', 'Unknown tracking key');
  return row.userId;
}

/**
 * Validate every event (one bad event refuses the whole batch, naming its index and field),
 * then record them all in one set-based SQL call. The touchpoints are stored at once; their
 * fold into the customers (activity, lead capture, affinity, stage) is queued for the
 * touchpoints cron, which keeps the storefront's call near the cost of the insert.
 */
export async function ingestEvents(tx: Tx, key: string, events: unknown[], now = new Date()): Promise<{ accepted: number }> {
  const userId = await merchantForTrackingKey(tx, key);
  const parsed = eventsSchema.safeParse(events);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['events', ...(issue?.path ?? []).map(String)].join('.');
    throw new AppError('bad_request', `${field}: ${issue?.message ?? 'invalid event'}`, { field });
  }
  const rows = parsed.data.map((e) => ({ ...e, occurredAt: e.occurredAt ?? now.toISOString() }));
  const [r] = await tx<{ n: number }[]>`select private.queue_touchpoints(${userId}, ${jsonb(tx, rows)}, ${now}) as n`;
  return { accepted: r?.n ?? 0 };
}
