import 'server-only';
import { AppError } from '@/lib/errors';
import { csvPagesResponse } from '@/lib/csv';
import { assertCollections } from '@/lib/collections/service';
import { asServer, fieldsOf, type Tx, withTenant } from '@/lib/db';
import { type Keyed, keysetPage, sortKeyOf } from '@/lib/db/keyset';
import type { PageRequest } from '@/lib/fields';
import {
  segmentSchema, type Segment, type SegmentCreate, type SegmentCriteria, type SegmentEvaluation, type SegmentMember,
  type SegmentMembers, type SegmentPatch,
} from '@/lib/segments/schemas';

/** The fields computed in the query; the rest are the table's columns of the same name. */
const COMPUTED = new Set<string>(['customerCount', 'building', 'buildProgress']);
const STORED = fieldsOf(segmentSchema).filter((f) => !COMPUTED.has(f));

/** A segment as the API returns it: its count with what is not folded yet, its build's progress. */
const segmentRows = (tx: Tx) => tx`
  select ${tx(STORED)}, public.segment_member_count(user_id, id) as customer_count,
         build_started_at is not null as building,
         case when build_started_at is not null
              then round(('x' || substr(coalesce(build_after::text, '00000000'), 1, 8))::bit(32)::bigint / 4294967295.0, 3)::float8
         end as build_progress
    from public.customer_segments`;

export async function listSegments(tx: Tx, userId: string): Promise<Segment[]> {
  return tx<Segment[]>`${segmentRows(tx)} where user_id = ${userId} order by created_at desc, id`;
}

export async function getSegment(tx: Tx, userId: string, id: string): Promise<Segment> {
  const [row] = await tx<Segment[]>`${segmentRows(tx)} where id = ${id} and user_id = ${userId}`;
  if (!row) throw new AppError('not_found', 'Segment not found');
  return row;
}

/** Rebuild memberships from scratch now, to the end (members who match again are re-added). */
export async function evaluateSegment(tx: Tx, userId: string, id: string): Promise<SegmentEvaluation> {
  await getSegment(tx, userId, id);
  // Memberships and counts are the server's to write, never the API roles'.
  const [r] = await asServer(tx, () => tx<SegmentEvaluation[]>`select added, removed, total from public.evaluate_segment(${userId}, ${id})`);
  return r ?? { added: 0, removed: 0, total: 0 };
}

/** How long a request spends building a new or edited segment before the segments job takes over. */
const BUILD_IN_REQUEST_MS = 2_000;

/**
 * Run a pending build's steps in this request for up to BUILD_IN_REQUEST_MS: a store of a few
 * thousand customers sees its members at once; a million-customer store sees the build's
 * progress, and /api/cron/segments finishes it from the cursor.
 */
async function buildSome(tx: Tx, userId: string, id: string): Promise<void> {
  const deadline = Date.now() + BUILD_IN_REQUEST_MS;
  await asServer(tx, async () => {
    for (;;) {
      const [step] = await tx<{ done: boolean }[]>`select done from private.segment_build_step(${userId}, ${id}, now())`;
      if (!step || step.done || Date.now() >= deadline) return;
    }
  });
}

/** Create a segment from named fields only, then fill it. */
export async function createSegment(tx: Tx, userId: string, input: SegmentCreate): Promise<Segment> {
  await assertCollections(tx, userId, input.criteria.collections, 'criteria.collections');
  const [row] = await tx<{ id: string }[]>`
    insert into public.customer_segments (user_id, name, description, criteria, is_dynamic)
    values (${userId}, ${input.name}, ${input.description ?? null}, ${tx.json(input.criteria)}, ${input.isDynamic})
    returning id`;
  if (!row) throw new AppError('internal', 'Segment was not created');
  await buildSome(tx, userId, row.id);
  return getSegment(tx, userId, row.id);
}

export async function updateSegment(tx: Tx, userId: string, id: string, patch: SegmentPatch): Promise<Segment> {
  await assertCollections(tx, userId, patch.criteria?.collections, 'criteria.collections');
  const changes: Partial<Pick<Segment, 'name' | 'description' | 'isDynamic' | 'isActive'>> & { criteria?: ReturnType<Tx['json']> } = {};
  if (patch.name !== undefined) changes.name = patch.name;
  if (patch.description !== undefined) changes.description = patch.description;
  if (patch.criteria !== undefined) changes.criteria = tx.json(patch.criteria);
  if (patch.isDynamic !== undefined) changes.isDynamic = patch.isDynamic;
  if (patch.isActive !== undefined) changes.isActive = patch.isActive;
  const updated = Object.keys(changes).length > 0
    ? await tx`update public.customer_segments set ${tx(changes)} where id = ${id} and user_id = ${userId}`
    : await tx`select 1 from public.customer_segments where id = ${id} and user_id = ${userId}`;
  if (updated.count === 0) throw new AppError('not_found', 'Segment not found');
  // The list sync is the server's to switch (its trigger queues the members for Klaviyo).
  if (patch.syncEnabled !== undefined) {
    await asServer(tx, () => tx`update public.customer_segments set sync_enabled = ${patch.syncEnabled ?? false} where id = ${id} and user_id = ${userId}`);
  }
  // New criteria, or following again after a pause, start a build (the table's trigger).
  await buildSome(tx, userId, id);
  return getSegment(tx, userId, id);
}

export async function deleteSegment(tx: Tx, userId: string, id: string): Promise<void> {
  const deleted = await tx`delete from public.customer_segments where id = ${id} and user_id = ${userId}`;
  if (deleted.count === 0) throw new AppError('not_found', 'Segment not found');
}

/** How many customers match criteria right now (the builder's live count). */
export async function previewSegment(tx: Tx, userId: string, criteria: SegmentCriteria): Promise<number> {
  // The server counts (the predicate is private), for the signed-in merchant's id only.
  const [r] = await asServer(tx, () => tx<{ n: number }[]>`select count(*)::int as n from public.segment_member_ids(${userId}, ${tx.json(criteria)})`);
  return r?.n ?? 0;
}

const memberQuery = (tx: Tx, userId: string, id: string) => tx`
  select c.id, c.email, c.first_name, c.last_name, c.stage, c.total_orders, c.lifetime_value, c.last_purchase_at, m.added_at
    from public.segment_memberships m
    join public.customers c on c.id = m.customer_id and c.user_id = m.user_id
   where m.segment_id = ${id} and m.user_id = ${userId} and m.removed_at is null`;

/**
 * Current members, newest first, a keyset page: the page is cut from the memberships' own index
 * (segment_memberships_list_idx: added_at, then the customer id) before any customer row is
 * read, and the total is the segment's count, not a count of its members.
 */
export async function listMembers(tx: Tx, userId: string, id: string, page: PageRequest & { limit: number }): Promise<SegmentMembers> {
  const segment = await getSegment(tx, userId, id);
  const key = sortKeyOf(tx, 'added', { column: 'x.added_at', type: 'timestamptz' }, 'desc', 'x.customer_id');
  const members = await keysetPage<SegmentMember>(tx, key, page, page.limit, (scan) => tx<(SegmentMember & Keyed)[]>`
    select c.id, c.email, c.first_name, c.last_name, c.stage, c.total_orders, c.lifetime_value, c.last_purchase_at, x.added_at ${scan.cursor}
      from (select x.customer_id, x.added_at from public.segment_memberships x
             where x.user_id = ${userId} and x.segment_id = ${id} and x.removed_at is null and ${scan.where}
             order by ${scan.orderBy}
             limit ${scan.limit}) x
      join public.customers c on c.user_id = ${userId} and c.id = x.customer_id
     order by ${scan.orderBy}`);
  return { members: members.rows, total: segment.customerCount, limit: page.limit, prev: members.prev, next: members.next };
}

/**
 * Every current member as a CSV download by email, read page by page as the client takes it
 * (2,000 members a page by keyset, each its own short transaction: a stalled download holds no
 * connection, and a 400,000-member segment never sits in memory). Checks the segment first, so
 * another merchant's id is a 404 before anything is sent.
 */
export async function membersCsvResponse(tx: Tx, userId: string, id: string, filename: string): Promise<Response> {
  await getSegment(tx, userId, id);
  const PAGE = 2_000;
  return csvPagesResponse<string>(filename, ['email', 'first_name', 'last_name', 'stage', 'total_orders', 'lifetime_value', 'last_purchase_at', 'added_at'],
    (after) => withTenant(userId, async (t) => {
      const rows = await t<SegmentMember[]>`
        ${memberQuery(t, userId, id)} ${after === null ? t`` : t`and c.email > ${after}`} order by c.email limit ${PAGE}`;
      return {
        rows: rows.map((r) => [r.email, r.firstName, r.lastName, r.stage, r.totalOrders, r.lifetimeValue.toFixed(2), r.lastPurchaseAt, r.addedAt]),
        next: rows.length === PAGE ? (rows.at(-1)?.email ?? null) : null,
      };
    }));
}
