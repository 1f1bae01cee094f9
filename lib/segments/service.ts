import 'server-only';
import { AppError } from '@/lib/errors';
import type { Stage } from '@/lib/customers/schemas';
import { toCsv } from '@/lib/csv';
import { assertCollections } from '@/lib/collections/service';
import type { Tx } from '@/lib/db';
import type { Segment, SegmentCreate, SegmentCriteria, SegmentEvaluation, SegmentMembers, SegmentPatch } from '@/lib/segments/schemas';

interface SegmentRow {
  id: string;
  name: string;
  description: string | null;
  criteria: SegmentCriteria;
  customer_count: number;
  is_dynamic: boolean;
  is_active: boolean;
  last_evaluated_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = ['id', 'name', 'description', 'criteria', 'customer_count', 'is_dynamic', 'is_active',
  'last_evaluated_at', 'created_at', 'updated_at'] as const;

function toSegment(r: SegmentRow): Segment {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    criteria: r.criteria,
    customerCount: r.customer_count,
    isDynamic: r.is_dynamic,
    isActive: r.is_active,
    lastEvaluatedAt: r.last_evaluated_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export async function listSegments(tx: Tx, userId: string): Promise<Segment[]> {
  const rows = await tx<SegmentRow[]>`
    select ${tx(COLUMNS)} from public.customer_segments where user_id = ${userId} order by created_at desc, id`;
  return rows.map(toSegment);
}

export async function getSegment(tx: Tx, userId: string, id: string): Promise<Segment> {
  const [row] = await tx<SegmentRow[]>`select ${tx(COLUMNS)} from public.customer_segments where id = ${id} and user_id = ${userId}`;
  if (!row) throw new AppError('not_found', 'Segment not found');
  return toSegment(row);
}

/** Bring memberships in line with the criteria in one SQL statement (members who match again are re-added). */
export async function evaluateSegment(tx: Tx, userId: string, id: string): Promise<SegmentEvaluation> {
  await getSegment(tx, userId, id);
  const [r] = await tx<SegmentEvaluation[]>`select added, removed, total from public.evaluate_segment(${userId}, ${id})`;
  return r ?? { added: 0, removed: 0, total: 0 };
}

/** Create a segment from named fields only, then fill it. */
export async function createSegment(tx: Tx, userId: string, input: SegmentCreate): Promise<Segment> {
  await assertCollections(tx, userId, input.criteria.collections, 'criteria.collections');
  const [row] = await tx<{ id: string }[]>`
    insert into public.customer_segments (user_id, name, description, criteria, is_dynamic)
    values (${userId}, ${input.name}, ${input.description ?? null}, ${tx.json(input.criteria)}, ${input.isDynamic})
    returning id`;
  if (!row) throw new AppError('internal', 'Segment was not created');
  await evaluateSegment(tx, userId, row.id);
  return getSegment(tx, userId, row.id);
}

export async function updateSegment(tx: Tx, userId: string, id: string, patch: SegmentPatch): Promise<Segment> {
  await assertCollections(tx, userId, patch.criteria?.collections, 'criteria.collections');
  const changes: Record<string, unknown> = {};
  if (patch.name !== undefined) changes.name = patch.name;
  if (patch.description !== undefined) changes.description = patch.description;
  if (patch.criteria !== undefined) changes.criteria = tx.json(patch.criteria);
  if (patch.isDynamic !== undefined) changes.is_dynamic = patch.isDynamic;
  if (patch.isActive !== undefined) changes.is_active = patch.isActive;
  const updated = await tx`update public.customer_segments set ${tx(changes)} where id = ${id} and user_id = ${userId}`;
  if (updated.count === 0) throw new AppError('not_found', 'Segment not found');
  if (patch.criteria !== undefined) await evaluateSegment(tx, userId, id);
  return getSegment(tx, userId, id);
}

export async function deleteSegment(tx: Tx, userId: string, id: string): Promise<void> {
  const deleted = await tx`delete from public.customer_segments where id = ${id} and user_id = ${userId}`;
  if (deleted.count === 0) throw new AppError('not_found', 'Segment not found');
}

/** How many customers match criteria right now (the builder's live count). */
export async function previewSegment(tx: Tx, userId: string, criteria: SegmentCriteria): Promise<number> {
  const [r] = await tx<{ n: number }[]>`select count(*)::int as n from public.segment_member_ids(${userId}, ${tx.json(criteria)})`;
  return r?.n ?? 0;
}

interface MemberRow {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  stage: Stage;
  total_orders: number;
  lifetime_value: string;
  last_purchase_at: Date | null;
  added_at: Date;
}

const memberQuery = (tx: Tx, userId: string, id: string) => tx`
  select c.id, c.email, c.first_name, c.last_name, c.stage, c.total_orders, c.lifetime_value, c.last_purchase_at, m.added_at
    from public.segment_memberships m
    join public.customers c on c.id = m.customer_id and c.user_id = m.user_id
   where m.segment_id = ${id} and m.user_id = ${userId} and m.removed_at is null`;

/** Current members, newest first, a page at a time. */
export async function listMembers(tx: Tx, userId: string, id: string, page: { limit: number; offset: number }): Promise<SegmentMembers> {
  await getSegment(tx, userId, id);
  const rows = await tx<MemberRow[]>`${memberQuery(tx, userId, id)} order by m.added_at desc, c.id limit ${page.limit} offset ${page.offset}`;
  const [count] = await tx<{ n: number }[]>`
    select count(*)::int as n from public.segment_memberships where segment_id = ${id} and user_id = ${userId} and removed_at is null`;
  return {
    members: rows.map((r) => ({
      id: r.id,
      email: r.email,
      firstName: r.first_name,
      lastName: r.last_name,
      stage: r.stage,
      totalOrders: r.total_orders,
      lifetimeValue: Number(r.lifetime_value),
      lastPurchaseAt: r.last_purchase_at?.toISOString() ?? null,
      addedAt: r.added_at.toISOString(),
    })),
    total: count?.n ?? 0,
    limit: page.limit,
    offset: page.offset,
  };
}

/** Every current member as CSV (one query, no paging loop). */
export async function membersCsv(tx: Tx, userId: string, id: string): Promise<string> {
  await getSegment(tx, userId, id);
  const rows = await tx<MemberRow[]>`${memberQuery(tx, userId, id)} order by c.email`;
  return toCsv(
    ['email', 'first_name', 'last_name', 'stage', 'total_orders', 'lifetime_value', 'last_purchase_at', 'added_at'],
    rows.map((r) => [r.email, r.first_name, r.last_name, r.stage, r.total_orders, r.lifetime_value,
      r.last_purchase_at?.toISOString() ?? null, r.added_at.toISOString()]),
  );
}
