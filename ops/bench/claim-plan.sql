-- Test only: the claim's select before and after V19 on a database whose statistics say nothing is
-- queued (run `VACUUM ANALYZE job` with an empty queue first; ops/bench/fill-history.sql makes such a
-- database). Queues 50,000 jobs of two types, prints each plan's execution, and rolls everything back:
--
--   psql "$DB" -f ops/bench/claim-plan.sql | grep -E '===|Execution Time|Index Scan|Sort Method'
--
-- The claim's other conditions (requirements, pinning) are left out: on these jobs they filter nothing.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO job (job_id, client_id, type, payload, priority, fair_tag, state, attempt, max_attempts, created_at, run_after, expires_at, timeout_ms)
SELECT gen_random_uuid(), 'c', CASE WHEN g % 2 = 0 THEN 'noop' ELSE 'other' END, '{}', 5, g, 'QUEUED', 0, 3, now(), now(), now() + interval '1 hour', 60000
FROM generate_series(1, 50000) g;
CREATE INDEX old_expiry ON job (expires_at) WHERE state = 'QUEUED';
\echo === before V19 (the expiry index as V1 made it), one type
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT job_id FROM job WHERE state = 'QUEUED' AND type IN ('noop') AND run_after <= now() AND expires_at > now() ORDER BY priority DESC, fair_tag LIMIT 1000 FOR UPDATE SKIP LOCKED;
\echo === before V19 (the expiry index as V1 made it), two types
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT job_id FROM job WHERE state = 'QUEUED' AND type IN ('noop', 'other') AND run_after <= now() AND expires_at > now() ORDER BY priority DESC, fair_tag LIMIT 1000 FOR UPDATE SKIP LOCKED;
DROP INDEX old_expiry;
\echo === V19, one type
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT job_id FROM job WHERE state = 'QUEUED' AND type IN ('noop') AND run_after <= now() AND expires_at > now() ORDER BY priority DESC, fair_tag LIMIT 1000 FOR UPDATE SKIP LOCKED;
\echo === V19, two types in one walk
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT job_id FROM job WHERE state = 'QUEUED' AND type IN ('noop', 'other') AND run_after <= now() AND expires_at > now() ORDER BY priority DESC, fair_tag LIMIT 1000 FOR UPDATE SKIP LOCKED;
\echo === V19, two types, one walk per type
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT best.job_id FROM unnest('{noop,other}'::text[]) AS offered(type) CROSS JOIN LATERAL (SELECT job_id, priority, fair_tag FROM job WHERE state = 'QUEUED' AND type = offered.type AND run_after <= now() AND expires_at > now() ORDER BY priority DESC, fair_tag LIMIT 1000 FOR UPDATE SKIP LOCKED) best ORDER BY best.priority DESC, best.fair_tag LIMIT 1000;
ROLLBACK;
