import 'server-only';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { withSystem } from '@/lib/db';
import { KlaviyoClient } from '@/lib/klaviyo/client';
import { Pacer } from '@/lib/klaviyo/pacer';
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
  z.object({ action: z.literal('send'), keyCiphertext: z.string(), attempts: z.number(), event: eventSchema }),
  z.object({ action: z.literal('busy'), leaseUntil: z.string() }),
  z.object({ action: z.enum(['skip', 'hold', 'cancel']) }),
]);

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

// One pacer per process: every concurrent send of a merchant shares its windows.
const holder = globalThis as typeof globalThis & { __havenKlaviyoPacer?: Pacer };
export function processPacer(): Pacer {
  holder.__havenKlaviyoPacer ??= new Pacer();
  return holder.__havenKlaviyoPacer;
}

async function record(userId: string, id: string, outcome: string, reason: string | null, delayMs: number | null = null): Promise<void> {
  const delay = delayMs === null ? null : `${Math.ceil(delayMs)} milliseconds`;
  await withSystem((tx) => tx`select private.klaviyo_result(${userId}, ${id}, ${outcome}, ${reason}, ${delay}::interval)`);
}

export async function deliverMessage(payload: unknown, attempt: Attempt, pacer: Pacer = processPacer()): Promise<Delivery> {
  const { u: userId, m: id } = jobPayloadSchema.parse(payload);
  const claim = claimSchema.parse(
    await withSystem(async (tx) => {
      const [row] = await tx<{ c: unknown }[]>`select private.klaviyo_claim(${userId}, ${id}) as c`;
      return row?.c;
    }),
  );
  if (claim.action === 'busy') throw new RetryLaterError(`Message ${id} is being sent by another runner until ${claim.leaseUntil}`);
  if (claim.action !== 'send') return claim.action;

  for (;;) {
    const wait = pacer.reserve(userId);
    if (wait === 0) break;
    if (wait > MAX_PACE_WAIT_MS) {
      await record(userId, id, 'defer', 'Waiting for Klaviyo\u2019s rate limit', wait);
      return 'deferred';
    }
    await sleep(wait);
  }

  const client = new KlaviyoClient(decryptCredential(userId, 'klaviyo', claim.keyCiphertext));
  const result = await client.createEvent(claim.event);
  pacer.observe(userId, result.rate);
  if (result.ok) {
    await record(userId, id, 'sent', null);
    return 'sent';
  }
  switch (result.kind) {
    case 'rate_limited':
      pacer.block(userId, Date.now() + result.retryAfterMs);
      await record(userId, id, 'defer', `Klaviyo asked us to wait ${Math.ceil(result.retryAfterMs / 1000)} s (rate limit)`, result.retryAfterMs);
      return 'deferred';
    case 'unauthorized':
      await record(userId, id, 'key_rejected', `${result.detail}. Check the API key in Settings, Integrations (it needs events:write)`);
      return 'key_rejected';
    case 'rejected':
      await record(userId, id, 'failed', result.detail);
      return 'failed';
    case 'unavailable':
      if (attempt.attempts >= attempt.maxAttempts) {
        await record(userId, id, 'failed', `${result.detail} (gave up after ${attempt.attempts} attempts)`);
        return 'failed';
      }
      await record(userId, id, 'retry', `${result.detail} (attempt ${attempt.attempts} of ${attempt.maxAttempts}; trying again)`);
      throw new RetryLaterError(result.detail);
  }
}
