-- The change queues are tables that fill and empty: a drain deletes every row it took. Their
-- heads are found by index (`order by changed_at limit 1 for update skip locked`), and every
-- entry of a deleted row stays in the index, pointing to a dead row, until a vacuum: after
-- 200,000 changes drained, finding the next one read them all (7 ms a probe, 17 ms a segments
-- job call with nothing to do, against 2.7 ms once vacuumed). The default autovacuum waits for
-- a fifth of a table to be dead; these are vacuumed after a fixed number of dead rows.
alter table private.segment_changes set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000);
alter table private.klaviyo_list_changes set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000);
