-- The claim's plan no longer depends on the job table's statistics (issue 15).
--
-- Statistics gathered while nothing was queued (autovacuum's ANALYZE on a quiet day, or any ANALYZE
-- of a large history: 50,000 queued among 10,000,000 rows were sampled as 120) make the planner
-- estimate that about one job is queued. Every claim then read the whole backlog through this index
-- (its `expires_at > now` matches every queued job) and sorted it: 62 ms per claim at 50,000 queued
-- instead of 0.2 ms walking job_queued_idx in the claim's order and stopping at its limit, and 0.62 of
-- the empty database's backlog throughput with ten million finished jobs in the table.
--
-- The index is now limited to jobs whose expiry is finite, which is every job (a TTL is at most 30
-- days), and which the claim never says: PostgreSQL uses a partial index only for a query whose
-- conditions imply its predicate, so the claim cannot use this index any more, whatever the
-- statistics say; the TTL sweep, which says it (TakeBackStore.expireDue), still does.
DROP INDEX job_queued_expiry_idx;
CREATE INDEX job_queued_expiry_idx ON job (expires_at) WHERE state = 'QUEUED' AND expires_at < 'infinity';
