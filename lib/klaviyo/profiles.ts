import 'server-only';
import { z } from 'zod';
import { db } from '@/lib/db';
import { KlaviyoClient, type KlaviyoEvent } from '@/lib/klaviyo/client';
import { RetryLaterError } from '@/lib/klaviyo/deliver';
import { processPacer } from '@/lib/klaviyo/pacer';
import { decryptCredential } from '@/lib/settings/integrations';

/**
 * The job that keeps one merchant's Klaviyo profiles up to date (points balance, tier,
 * referral code and link, stage): the profiles marked changed, up to 10,000 a request (the bulk
 * import's limit), through POST /api/profile-bulk-import-jobs. What Klaviyo accepted is
 * cleared; a profile that changed again meanwhile stays for the next run.
 */
const payloadSchema = z.object({ u: z.uuid() });
const BATCH = 10_000;

interface Row {
  customerId: string;
  changedAt: string;
  profile: KlaviyoEvent['profile'];
}

/** `again`: run once more after a delay (more waiting, or a 429). */
export async function syncProfiles(payload: unknown, again: (delayMs: number) => Promise<void>): Promise<number> {
  const { u: userId } = payloadSchema.parse(payload);
  const [key] = await db()<{ ciphertext: string }[]>`
    select ciphertext from public.merchant_credentials where user_id = ${userId} and provider = 'klaviyo'`;
  // No key: the changes wait; saving one sends them (its trigger adds this job).
  if (!key) return 0;
  // changed_at as text: to the microsecond, so clearing what was sent matches exactly.
  const rows = await db()<Row[]>`select customer_id, changed_at::text, profile from private.klaviyo_profiles_batch(${userId}, ${BATCH})`;
  if (rows.length === 0) return 0;
  const client = new KlaviyoClient(decryptCredential(userId, 'klaviyo', key.ciphertext));
  // The bulk import's limits are the account's, shared with the segment list sync: one pacer.
  const pacer = processPacer('bulkImport');
  const wait = pacer.reserve(userId);
  if (wait > 0) {
    await again(wait);
    return 0;
  }
  const r = await client.bulkImportProfiles(rows.map((x) => x.profile));
  pacer.observe(userId, r.rate);
  if (!r.ok) {
    if (r.kind === 'rate_limited') {
      pacer.block(userId, Date.now() + r.retryAfterMs);
      await again(r.retryAfterMs);
      return 0;
    }
    // A refused key or request: the changes wait for the key to be fixed (the key trigger runs this again).
    if (r.kind === 'unauthorized' || r.kind === 'rejected') return 0;
    throw new RetryLaterError(r.detail);
  }
  const [more] = await db()<{ more: boolean }[]>`
    select private.klaviyo_profiles_sent(${userId}, ${rows.map((x) => x.customerId)}::uuid[], ${rows.map((x) => x.changedAt)}::timestamptz[]) as more`;
  if (more?.more) await again(rows.length === BATCH ? 0 : 30_000);
  return rows.length;
}
