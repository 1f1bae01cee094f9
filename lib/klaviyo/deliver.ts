import 'server-only';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { db } from '@/lib/db';
import { appUrl } from '@/lib/api/urls';
import { giftClaimLink } from '@/lib/gifts/delivery';
import { KlaviyoClient } from '@/lib/klaviyo/client';
import { type Pacer, processPacer } from '@/lib/klaviyo/pacer';
import { decryptCredential } from '@/lib/settings/integrations';

/**
 * Send one message (a row of klaviyo_messages) to Klaviyo: the job the queue runs for it.
 * The claim and the record of the result are two short transactions around the request, so
 * no transaction is open while Klaviyo is called; what makes it exactly-once is the message's
 * id sent as `unique_id` (a repeat after a crash counts once on Klaviyo's side) and the rule
 * that only a 202 marks a message sent (a crash before that record sends again, never marks).
 */
export const jobPayloadSchema = z.object({ u: z.uuid(), m: z.uuid() });

const eventSchema = z.object({
  uniqueId: z.uuid(),
  metric: z.string(),
  properties: z.record(z.string(), z.unknown()),
  value: z.number().optional(),
  time: z.string(),
  profile: z.object({
    email: z.string(),
    first_name: z.string().optional(),
    last_name: z.string().optional(),
    external_id: z.string().optional(),
  }),
});

const claimSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('send'), source: z.string(), keyCiphertext: z.string(), attempts: z.number().int(), event: eventSchema }),
  z.object({ action: z.literal('busy'), leaseUntil: z.string() }),
  z.object({ action: z.enum(['skip', 'hold', 'cancel']) }),
]);

/**
 * What a source adds to an event on the way out, where the server knows what SQL does not: the
 * app's own address, and secrets that must not be stored (a gift's claim code). Runs after the
 * claim, before the request, on every attempt.
 */
export type Decorator = (message: { userId: string; messageId: string; properties: Record<string, unknown> }) => Promise<Record<string, unknown>>;

const DECORATORS: Record<string, Decorator> = {
  // Win-back: the links and the open pixel that carry the recipient's token back (the email
  // template uses {{ event.click_url }} and {{ event.open_pixel_url }}).
  winback: async ({ properties: p }) => {
    if (typeof p.tracking_token !== 'string') return p;
    const token = encodeURIComponent(p.tracking_token);
    const { tracking_token: _token, ...rest } = p;
    return { ...rest, click_url: appUrl(`/api/track/winback/${token}`), open_pixel_url: appUrl(`/api/track/winback/${token}/open`) };
  },
  // Gifts: a new claim link ({{ event.claim_url }}, {{ event.gift_code }}).
  gift: giftClaimLink,
};

/** Thrown so the queue retries later: another runner holds the message's lease, or Klaviyo may recover. */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
}

export type Delivery = 'sent' | 'deferred' | 'retry' | 'failed' | 'key_rejected' | 'skip' | 'hold' | 'cancel';

export interface Attempt {
  /** This run's attempt number as the queue counts them (1 on the first run). */
  attempts: number;
  maxAttempts: number;
}

// Longest a send waits in-process for the pacer; beyond it the message is rescheduled.
const MAX_PACE_WAIT_MS = 2000;

async function record(userId: string, id: string, outcome: string, reason: string | null, delayMs: number | null, attempt: number | null): Promise<void> {
  const delay = delayMs === null ? null : `${Math.ceil(delayMs)} milliseconds`;
  // One statement is its own transaction: no BEGIN and COMMIT round trips per send.
  await db()`select private.klaviyo_result(${userId}, ${id}, ${outcome}, ${reason}, ${delay}::interval, now(), ${attempt}::int)`;
}

/**
 * Wait for the pacer's slot before anything is claimed (a claim issues the incentive and counts
 * an attempt): a short wait in place, a longer one moves the message's due time instead.
 */
async function paced(userId: string, id: string, pacer: Pacer): Promise<boolean> {
  for (;;) {
    const wait = pacer.reserve(userId);
    if (wait === 0) return true;
    if (wait > MAX_PACE_WAIT_MS) {
      await record(userId, id, 'defer', 'Waiting for Klaviyo\u2019s rate limit', wait, null);
      return false;
    }
    await sleep(wait);
  }
}

export async function deliverMessage(payload: unknown, attempt: Attempt, pacer: Pacer = processPacer('events')): Promise<Delivery> {
  const { u: userId, m: id } = jobPayloadSchema.parse(payload);
  if (!(await paced(userId, id, pacer))) return 'deferred';
  const [row] = await db()<{ c: unknown }[]>`select private.klaviyo_claim(${userId}, ${id}) as c`;
  const claim = claimSchema.parse(row?.c);
  if (claim.action === 'busy') throw new RetryLaterError(`Message ${id} is being sent by another runner until ${claim.leaseUntil}`);
  if (claim.action !== 'send') return claim.action;
  const last = attempt.attempts >= attempt.maxAttempts;
  try {
    return await send(userId, id, claim, attempt, pacer);
  } catch (err) {
    // Whatever went wrong after the claim (a key that no longer decrypts, the database away
    // while recording), the last attempt leaves the message failed for the merchant to see,
    // never pending with no job behind it.
    if (last && !(err instanceof RetryLaterError)) {
      await record(userId, id, 'failed', 'Could not be sent (an error on our side); retry it from the campaign', null, claim.attempts).catch(() => undefined);
    }
    throw err;
  }
}

type SendClaim = Extract<z.infer<typeof claimSchema>, { action: 'send' }>;

async function send(userId: string, id: string, claim: SendClaim, attempt: Attempt, pacer: Pacer): Promise<Delivery> {
  const decorate = DECORATORS[claim.source];
  const event = decorate ? { ...claim.event, properties: await decorate({ userId, messageId: id, properties: claim.event.properties }) } : claim.event;
  const client = new KlaviyoClient(decryptCredential(userId, 'klaviyo', claim.keyCiphertext));
  const result = await client.createEvent(event);
  pacer.observe(userId, result.rate);
  const token = claim.attempts;
  if (result.ok) {
    await record(userId, id, 'sent', null, null, token);
    return 'sent';
  }
  switch (result.kind) {
    case 'rate_limited':
      pacer.block(userId, Date.now() + result.retryAfterMs);
      await record(userId, id, 'defer', `Klaviyo asked us to wait ${Math.ceil(result.retryAfterMs / 1000)} s (rate limit)`, result.retryAfterMs, token);
      return 'deferred';
    case 'unauthorized':
      await record(userId, id, 'key_rejected', `${result.detail}. Check the API key in Settings, Integrations (it needs events:write)`, null, token);
      return 'key_rejected';
    case 'rejected':
      await record(userId, id, 'failed', result.detail, null, token);
      return 'failed';
    case 'unavailable':
      if (attempt.attempts >= attempt.maxAttempts) {
        await record(userId, id, 'failed', `${result.detail} (gave up after ${attempt.attempts} attempts)`, null, token);
        return 'failed';
      }
      await record(userId, id, 'retry', `${result.detail} (attempt ${attempt.attempts} of ${attempt.maxAttempts}; trying again)`, null, token);
      throw new RetryLaterError(result.detail);
  }
}
