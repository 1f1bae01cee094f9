import 'server-only';
import { z } from 'zod';
import { db } from '@/lib/db';
import { KlaviyoClient, type KlaviyoOutcome } from '@/lib/klaviyo/client';
import { RetryLaterError } from '@/lib/klaviyo/deliver';
import { decryptCredential } from '@/lib/settings/integrations';

/**
 * The job that mirrors one segment to its Klaviyo list: the membership changes queued by the
 * segment_memberships triggers, oldest first, a batch at a time. The last change of each
 * customer in the batch wins. Additions go through the bulk profile import with the list as its
 * relationship (by email: no profile ids needed); removals need Klaviyo's profile ids, looked
 * up by email once and kept on the customer. Changes are deleted only once Klaviyo has taken
 * them, so a failure sends them again (both calls are idempotent on Klaviyo's side).
 */
const payloadSchema = z.object({ u: z.uuid(), s: z.uuid() });
const BATCH = 1000;

interface Segment {
  name: string;
  syncEnabled: boolean;
  klaviyoSegmentId: string | null;
  ciphertext: string | null;
}

interface Change {
  id: string;
  customerId: string;
  op: 'add' | 'remove';
  email: string;
  firstName: string | null;
  lastName: string | null;
  klaviyoProfileId: string | null;
}

const setError = (userId: string, segmentId: string, error: string | null) =>
  db()`update public.customer_segments set klaviyo_sync_error = ${error?.slice(0, 300) ?? null} where user_id = ${userId} and id = ${segmentId}`;

/** A failed call: wait for a 429, retry what may pass, or stop with the reason on the segment. */
async function failed(userId: string, segmentId: string, r: Exclude<KlaviyoOutcome, { ok: true }>, again: (delayMs: number) => Promise<void>): Promise<void> {
  if (r.kind === 'rate_limited') return again(r.retryAfterMs);
  if (r.kind === 'unavailable') throw new RetryLaterError(r.detail);
  await setError(userId, segmentId, r.kind === 'unauthorized' ? `${r.detail}. Check the API key in Settings` : r.detail);
}

/** `again`: run this segment's job once more after a delay (the next batch, or after a 429). */
export async function syncSegmentList(payload: unknown, again: (delayMs: number) => Promise<void>): Promise<void> {
  const { u: userId, s: segmentId } = payloadSchema.parse(payload);
  const [segment] = await db()<Segment[]>`
    select s.name, s.sync_enabled, s.klaviyo_segment_id, c.ciphertext
      from public.customer_segments s
      left join public.merchant_credentials c on c.user_id = s.user_id and c.provider = 'klaviyo'
     where s.user_id = ${userId} and s.id = ${segmentId}`;
  if (!segment?.syncEnabled) return;
  if (!segment.ciphertext) {
    await setError(userId, segmentId, 'No Klaviyo API key: the list is updated once one is saved in Settings');
    return;
  }
  const client = new KlaviyoClient(decryptCredential(userId, 'klaviyo', segment.ciphertext));

  let listId = segment.klaviyoSegmentId;
  if (!listId) {
    const created = await client.createList(`${segment.name} (Haven Hub)`);
    if (!created.ok) return failed(userId, segmentId, created, again);
    listId = (created.body as { data?: { id?: string } } | null)?.data?.id ?? null;
    if (!listId) throw new RetryLaterError('Klaviyo created a list without an id');
    await db()`update public.customer_segments set klaviyo_segment_id = ${listId} where user_id = ${userId} and id = ${segmentId}`;
  }

  const changes = await db()<Change[]>`
    select k.id::text, k.customer_id, k.op, c.email, c.first_name, c.last_name, c.klaviyo_profile_id
      from private.klaviyo_list_changes k
      join public.customers c on c.user_id = k.user_id and c.id = k.customer_id
     where k.user_id = ${userId} and k.segment_id = ${segmentId}
     order by k.id limit ${BATCH}`;
  if (changes.length === 0) return;
  const last = new Map<string, Change>();
  for (const c of changes) last.set(c.customerId, c);
  const adds = [...last.values()].filter((c) => c.op === 'add');
  const removes = [...last.values()].filter((c) => c.op === 'remove');

  if (adds.length) {
    const r = await client.bulkImportProfiles(adds.map((c) => ({
      email: c.email, ...(c.firstName ? { first_name: c.firstName } : {}), ...(c.lastName ? { last_name: c.lastName } : {}),
    })), listId);
    if (!r.ok) return failed(userId, segmentId, r, again);
  }
  if (removes.length) {
    const unknown = removes.filter((c) => !c.klaviyoProfileId);
    for (let i = 0; i < unknown.length; i += 100) {
      const chunk = unknown.slice(i, i + 100);
      const r = await client.profilesByEmail(chunk.map((c) => c.email));
      if (!r.ok) return failed(userId, segmentId, r, again);
      const found = ((r.body as { data?: { id: string; attributes?: { email?: string } }[] } | null)?.data ?? [])
        .filter((p) => typeof p.id === 'string' && typeof p.attributes?.email === 'string');
      for (const p of found) {
        const c = chunk.find((x) => x.email === p.attributes?.email);
        if (c) c.klaviyoProfileId = p.id;
      }
      if (found.length) {
        await db()`
          update public.customers c set klaviyo_profile_id = f.id
            from unnest(${found.map((p) => p.attributes?.email ?? '')}::text[], ${found.map((p) => p.id)}::text[]) as f(email, id)
           where c.user_id = ${userId} and c.email = f.email`;
      }
    }
    // Someone Klaviyo has never heard of is not on the list: nothing to take off.
    const ids = removes.map((c) => c.klaviyoProfileId).filter((id): id is string => Boolean(id));
    for (let i = 0; i < ids.length; i += 1000) {
      const r = await client.removeFromList(listId, ids.slice(i, i + 1000));
      if (!r.ok) return failed(userId, segmentId, r, again);
    }
  }

  const upTo = changes.at(-1)?.id ?? '0';
  const [left] = await db()<{ left: boolean }[]>`
    with done as (
      delete from private.klaviyo_list_changes where user_id = ${userId} and segment_id = ${segmentId} and id <= ${upTo}::bigint
    )
    update public.customer_segments s
       set last_synced_at = now(), klaviyo_sync_error = null,
           klaviyo_synced_count = case when exists (
             select 1 from private.klaviyo_list_changes k where k.user_id = s.user_id and k.segment_id = s.id and k.id > ${upTo}::bigint)
             then s.klaviyo_synced_count else s.customer_count end
     where s.user_id = ${userId} and s.id = ${segmentId}
    returning exists (select 1 from private.klaviyo_list_changes k where k.user_id = s.user_id and k.segment_id = s.id and k.id > ${upTo}::bigint) as left`;
  // More waiting: the next batch at once.
  if (left?.left) await again(0);
}
