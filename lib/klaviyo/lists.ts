import 'server-only';
import { z } from 'zod';
import { db } from '@/lib/db';
import { KlaviyoClient, type KlaviyoEvent, type KlaviyoOutcome } from '@/lib/klaviyo/client';
import { RetryLaterError } from '@/lib/klaviyo/deliver';
import { type Endpoint, processPacer } from '@/lib/klaviyo/pacer';
import { decryptCredential } from '@/lib/settings/integrations';

/**
 * The job that mirrors one segment to its Klaviyo list: the membership changes queued by the
 * segment_memberships triggers, oldest first, in the batch sizes Klaviyo documents. The last
 * change of each customer in a batch wins.
 * - Additions go through the bulk profile import with the list as its relationship (by email:
 *   no profile ids needed), up to 10,000 profiles and under 4 MB a job (Klaviyo's limit is 5 MB).
 * - Removals need Klaviyo's profile ids: looked up by email 100 at a time (Get Profiles' page),
 *   kept on the customer, then taken off the list 1,000 at a time.
 * Every request waits for its endpoint's slot under Klaviyo's per-account limits (the process
 * pacer); a wait longer than a moment hands the job on to a run due when the slot is. Changes
 * leave the queue only once Klaviyo has taken them (the additions before the removals are
 * tried), so a failure or a stop sends at most one batch again, and both calls are idempotent
 * on Klaviyo's side. A run sends batches for RUN_MS, then hands on to its next run.
 */
const payloadSchema = z.object({ u: z.uuid(), s: z.uuid() });
/** Changes read at a time: one bulk import's worth. */
const BATCH = 10_000;
/** A bulk import job's payload must stay under 5 MB; a job is cut well below it. */
const IMPORT_BYTES = 4_000_000;
/** Emails in one Get Profiles filter (its page holds at most 100). */
const LOOKUP = 100;
/** Profiles in one Remove Profiles from List request. */
const REMOVE = 1000;
/**
 * How long one run sends batches before its next run takes over: short enough that a run
 * started near the end of a cron call's budget (CRON_BUDGET_SECONDS, 10 by default) ends
 * within the call; a handing on costs one queue row.
 */
const RUN_MS = 5_000;
/** Longest a request waits in the run for its slot; beyond it the run hands on with that delay. */
const MAX_WAIT_MS = 2_000;

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

/** One run of a segment's job: whose, until when it may send, and how many requests it has sent. */
interface Run {
  userId: string;
  segmentId: string;
  until: number;
  sent: number;
}

/** Why a batch stopped before its end: wait (a slot, a 429, the run's end), or a failure already recorded. */
type Stop = { wait: number } | { failed: true };

const setError = (userId: string, segmentId: string, error: string | null) =>
  db()`update public.customer_segments set klaviyo_sync_error = ${error?.slice(0, 300) ?? null} where user_id = ${userId} and id = ${segmentId}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One request under its endpoint's limits: wait for the slot (briefly, or stop with the wait),
 * tell the pacer what Klaviyo said of its window, and turn a failure into the batch's stop.
 */
async function paced(endpoint: Endpoint, run: Run, request: () => Promise<KlaviyoOutcome>): Promise<KlaviyoOutcome & { ok: true } | Stop> {
  const { userId, segmentId } = run;
  // The run's time is up: hand on now (what was sent is kept; the next run goes on from there).
  // Its first request always goes, so every run moves on.
  if (run.sent > 0 && Date.now() >= run.until) return { wait: 0 };
  const pacer = processPacer(endpoint);
  for (;;) {
    const wait = pacer.reserve(userId);
    if (wait === 0) break;
    if (wait > MAX_WAIT_MS) return { wait };
    await sleep(wait);
  }
  const r = await request();
  run.sent += 1;
  pacer.observe(userId, r.rate);
  if (r.ok) return r;
  if (r.kind === 'rate_limited') {
    pacer.block(userId, Date.now() + r.retryAfterMs);
    return { wait: r.retryAfterMs };
  }
  if (r.kind === 'unavailable') throw new RetryLaterError(r.detail);
  await setError(userId, segmentId, r.kind === 'unauthorized' ? `${r.detail}. Check the API key in Settings` : r.detail);
  return { failed: true };
}
const stopped = (r: { ok: true } | Stop): r is Stop => !('ok' in r);

/** The additions as bulk import jobs: at most 10,000 profiles and IMPORT_BYTES each. */
export function importJobs(adds: Pick<Change, 'email' | 'firstName' | 'lastName'>[]): KlaviyoEvent['profile'][][] {
  const jobs: KlaviyoEvent['profile'][][] = [];
  let job: KlaviyoEvent['profile'][] = [];
  let bytes = 0;
  for (const c of adds) {
    const profile = { email: c.email, ...(c.firstName ? { first_name: c.firstName } : {}), ...(c.lastName ? { last_name: c.lastName } : {}) };
    const size = Buffer.byteLength(JSON.stringify(profile)) + 40;
    if (job.length === 10_000 || (job.length > 0 && bytes + size > IMPORT_BYTES)) {
      jobs.push(job);
      job = [];
      bytes = 0;
    }
    job.push(profile);
    bytes += size;
  }
  if (job.length) jobs.push(job);
  return jobs;
}

/** These changes (by the ids the batch read) leave the queue; whether more are waiting. */
const taken = async (userId: string, segmentId: string, ids: string[]): Promise<boolean> => {
  const [r] = await db()<{ more: boolean }[]>`
    select private.klaviyo_list_taken(${userId}, ${segmentId}, ${ids}::bigint[]) as more`;
  return r?.more ?? false;
};

/** Send the oldest batch of changes. Returns whether more are waiting, or why it stopped. */
async function sendBatch(client: KlaviyoClient, run: Run, listId: string): Promise<boolean | Stop> {
  const { userId, segmentId } = run;
  const read = await db()<(Omit<Change, 'email'> & { email: string | null; gone: boolean })[]>`
    select k.id::text, k.customer_id, k.op, c.email, c.first_name, c.last_name, c.klaviyo_profile_id,
           c.id is null or c.erased_at is not null as gone
      from private.klaviyo_list_changes k
      left join public.customers c on c.user_id = k.user_id and c.id = k.customer_id
     where k.user_id = ${userId} and k.segment_id = ${segmentId}
     order by k.id limit ${BATCH}`;
  if (read.length === 0) return taken(userId, segmentId, []);
  // A change whose shopper was erased (or deleted) after it was queued leaves the queue unsent:
  // the queue holds no lock on the customer, so an erasure does not wait for a change queued
  // meanwhile, and the placeholder it leaves is not Klaviyo's to know.
  const changes: Change[] = [];
  const gone: string[] = [];
  for (const { gone: isGone, email, ...c } of read) {
    if (isGone || email === null) gone.push(c.id);
    else changes.push({ ...c, email });
  }
  if (gone.length > 0) {
    const more = await taken(userId, segmentId, gone);
    if (changes.length === 0) return more;
  }
  const last = new Map<string, Change>();
  for (const c of changes) last.set(c.customerId, c);
  const adds = [...last.values()].filter((c) => c.op === 'add');
  const removes = [...last.values()].filter((c) => c.op === 'remove');

  for (const job of importJobs(adds)) {
    const r = await paced('bulkImport', run, () => client.bulkImportProfiles(job, listId));
    if (stopped(r)) return r;
  }
  // The additions are Klaviyo's now: a stop among the removals does not send them again.
  if (adds.length && removes.length) {
    const added = new Set(adds.map((c) => c.customerId));
    await taken(userId, segmentId, changes.filter((c) => added.has(c.customerId)).map((c) => c.id));
  }

  const unknown = removes.filter((c) => !c.klaviyoProfileId);
  for (let i = 0; i < unknown.length; i += LOOKUP) {
    const chunk = unknown.slice(i, i + LOOKUP);
    const r = await paced('getProfiles', run, () => client.profilesByEmail(chunk.map((c) => c.email)));
    if (stopped(r)) return r;
    const byEmail = new Map(chunk.map((c) => [c.email, c]));
    const found = ((r.body as { data?: { id: string; attributes?: { email?: string } }[] } | null)?.data ?? [])
      .filter((p) => typeof p.id === 'string' && typeof p.attributes?.email === 'string' && byEmail.has(p.attributes.email));
    for (const p of found) {
      const c = byEmail.get(p.attributes?.email ?? '');
      if (c) c.klaviyoProfileId = p.id;
    }
    // Kept, so a stop before the removals does not look them up again.
    if (found.length) {
      await db()`
        update public.customers c set klaviyo_profile_id = f.id
          from unnest(${found.map((p) => p.attributes?.email ?? '')}::text[], ${found.map((p) => p.id)}::text[]) as f(email, id)
         where c.user_id = ${userId} and c.email = f.email`;
    }
  }
  // Someone Klaviyo has never heard of is not on the list: nothing to take off.
  const ids = removes.map((c) => c.klaviyoProfileId).filter((id): id is string => Boolean(id));
  for (let i = 0; i < ids.length; i += REMOVE) {
    const chunk = ids.slice(i, i + REMOVE);
    const r = await paced('listProfiles', run, () => client.removeFromList(listId, chunk));
    if (stopped(r)) return r;
  }
  return taken(userId, segmentId, changes.map((c) => c.id));
}

export interface SyncOptions {
  /** How long this run sends batches before handing on (default RUN_MS; 0: one batch). */
  runMs?: number;
}

/** `again`: run this segment's job once more after a delay (the next batches, a slot, a 429). */
export async function syncSegmentList(payload: unknown, again: (delayMs: number) => Promise<void>, options: SyncOptions = {}): Promise<void> {
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
    const created = await paced('createList', { userId, segmentId, until: Infinity, sent: 0 }, () => client.createList(`${segment.name} (Haven Hub)`));
    if (stopped(created)) return 'wait' in created ? again(created.wait) : undefined;
    listId = (created.body as { data?: { id?: string } } | null)?.data?.id ?? null;
    if (!listId) throw new RetryLaterError('Klaviyo created a list without an id');
    await db()`update public.customer_segments set klaviyo_segment_id = ${listId} where user_id = ${userId} and id = ${segmentId}`;
  }

  await db()`select private.klaviyo_list_round(${userId}, ${segmentId})`;
  // A run sends for RUN_MS, checked before every request: a batch of many lookups stops
  // among them (the ids found are kept, the additions already taken) rather than running
  // past a cron call's budget.
  const run: Run = { userId, segmentId, until: Date.now() + (options.runMs ?? RUN_MS), sent: 0 };
  for (;;) {
    const r = await sendBatch(client, run, listId);
    if (r === false) return;
    if (r !== true) return 'wait' in r ? again(r.wait) : undefined;
    if (Date.now() >= run.until) return again(0);
  }
}
