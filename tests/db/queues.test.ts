import { describe, expect, it } from 'vitest';
import { db } from '@/lib/db';

/**
 * A queue table fills and empties; its head is found by index, and a deleted row's entries stay
 * in the index until a vacuum. Autovacuum's default (a fifth of the table dead) let 200,000
 * drained changes make every later probe read them all: the queues are vacuumed at a fixed count.
 */
describe('change queue tables', () => {
  it('are vacuumed after a fixed number of dead rows, not a share of the table', async () => {
    const rows = await db()<{ table: string; options: string[] | null }[]>`
      select c.oid::regclass::text as table, c.reloptions as options from pg_class c
       where c.oid in ('private.segment_changes'::regclass, 'private.klaviyo_list_changes'::regclass,
                       'private.touchpoint_folds'::regclass) order by 1`;
    expect(rows).toEqual([
      { table: 'private.klaviyo_list_changes', options: ['autovacuum_vacuum_scale_factor=0', 'autovacuum_vacuum_threshold=5000'] },
      { table: 'private.segment_changes', options: ['autovacuum_vacuum_scale_factor=0', 'autovacuum_vacuum_threshold=5000'] },
      // A row a storefront batch (up to 500 events): fewer rows, each larger.
      { table: 'private.touchpoint_folds', options: ['autovacuum_vacuum_scale_factor=0', 'autovacuum_vacuum_threshold=1000'] },
    ]);
  });
});
