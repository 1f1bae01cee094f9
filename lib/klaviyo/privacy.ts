import 'server-only';
import { z } from 'zod';
import { db } from '@/lib/db';
import { KlaviyoClient } from '@/lib/klaviyo/client';
import { RetryLaterError } from '@/lib/klaviyo/deliver';
import { decryptCredential } from '@/lib/settings/integrations';

/**
 * The job that asks Klaviyo to delete an erased shopper's profile (added by the erasure, see
 * migration klaviyo_shopper_erase). Klaviyo's 202 lets the email go; a refused key or request
 * keeps it, marked failed with Klaviyo's reason, until a key is saved (its trigger runs this
 * again); a 429 or an outage is retried by the queue.
 */
const payloadSchema = z.object({ u: z.uuid(), d: z.uuid() });

export type DeletionOutcome = 'sent' | 'waiting' | 'failed';

export async function requestKlaviyoDeletion(payload: unknown): Promise<DeletionOutcome> {
  const { u: userId, d: id } = payloadSchema.parse(payload);
  const [claim] = await db()<{ c: { email: string; ciphertext: string } | null }[]>`
    select private.klaviyo_deletion_claim(${userId}, ${id}) as c`;
  // Already sent, or no key now: nothing to do until one is saved.
  if (!claim?.c) return 'waiting';
  let client: KlaviyoClient;
  try {
    client = new KlaviyoClient(decryptCredential(userId, 'klaviyo', claim.c.ciphertext));
  } catch {
    await db()`select private.klaviyo_deletion_result(${userId}, ${id}, false, 'The stored Klaviyo key could not be read; save it again')`;
    return 'failed';
  }
  const r = await client.requestProfileDeletion(claim.c.email);
  if (r.ok) {
    await db()`select private.klaviyo_deletion_result(${userId}, ${id}, true)`;
    return 'sent';
  }
  if (r.kind === 'unauthorized' || r.kind === 'rejected') {
    await db()`select private.klaviyo_deletion_result(${userId}, ${id}, false, ${r.detail})`;
    return 'failed';
  }
  throw new RetryLaterError(r.detail);
}
