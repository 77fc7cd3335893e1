-- Test only: fills a grid database with :n finished jobs of one client, created over the :hours
-- hours before now (inside the default job retention, so that a coordinator keeps them), to measure
-- whether a backlog costs the same with a full window of history as on an empty database:
--
--   psql "$DB" -v n=1000000 -v hours=24 -f ops/bench/fill-history.sql
--
-- Ids are UUIDv7 as the coordinator makes them (48 bits of epoch milliseconds, version 7, variant
-- 10), so the primary key's order is creation order here too.
\set ON_ERROR_STOP on
INSERT INTO job (job_id, client_id, type, payload, priority, fair_tag, state, attempt, max_attempts,
                 worker_id, created_at, run_after, started_at, finished_at, expires_at, result, metrics, timeout_ms)
SELECT (lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3) || '8'
            || substr(h, 4, 15))::uuid,
       'history-client', 'history', '{"prompt":"history"}', 5, g, 'COMPLETED', 1, 1,
       'history-worker', t, t, t, t + interval '1 second', t + interval '1 hour', '{"ok":true}',
       '{"duration_ms":1000}', 60000
  FROM generate_series(1, :n) AS g,
       LATERAL (SELECT now() - make_interval(hours => :hours) + (g * make_interval(hours => :hours) / :n) AS t,
                       md5(g::text || random()::text) AS h) AS v;
VACUUM ANALYZE job;
SELECT count(*) AS jobs, pg_size_pretty(pg_total_relation_size('job')) AS job_size FROM job;
