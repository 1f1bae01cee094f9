import 'server-only';
import { z } from 'zod';
import { db } from '@/lib/db';

/** The payload of the 'winback_enrol' job that SQL adds when an activation's audience is larger than a batch. */
const payloadSchema = z.object({
  u: z.uuid(),
  c: z.uuid(),
  after: z.uuid(),
  offset: z.number().int().min(0),
  batch: z.number().int().min(1).max(100_000),
});
type Payload = z.infer<typeof payloadSchema>;

/** Enrol the next batch in one statement (its own transaction); the payload of the run after it, or null when done. */
export async function enrolNextBatch(payload: unknown): Promise<Payload | null> {
  const p = payloadSchema.parse(payload);
  const [row] = await db()<{ r: { done: boolean; after?: string; offset?: number } }[]>`
    select private.winback_enrol_next(${p.u}, ${p.c}, ${p.after}, ${p.offset}, ${p.batch}) as r`;
  if (!row || row.r.done || !row.r.after) return null;
  return { ...p, after: row.r.after, offset: row.r.offset ?? p.offset };
}
