-- A content-addressed cache of the results of deterministic jobs (issue 15), after Bazel's remote
-- action cache: the key is SHA-256 over the job type, the model and the canonical JSON of the
-- payload (ResultCacheKey), so an identical job is answered with the stored result at submission.
CREATE TABLE result_cache (
    cache_key     bytea       PRIMARY KEY CHECK (length(cache_key) = 32),
    type          text        NOT NULL,
    -- The requested model, lower case; '' for a type that takes none (noop).
    model         text        NOT NULL,
    result        jsonb       NOT NULL,
    -- The job whose completion filled the entry (jobs are never deleted).
    source_job_id uuid        NOT NULL,
    -- Database clock: replicas sharing the database expire entries by the same time.
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_hit_at   timestamptz NOT NULL DEFAULT now(),
    hits          bigint      NOT NULL DEFAULT 0,
    -- The result's size as stored (octet_length of its text), for the size bound.
    size_bytes    integer     NOT NULL CHECK (size_bytes >= 0)
);

-- The sweep deletes by age (created_at) and, past the size bound, least recently hit first.
CREATE INDEX result_cache_created_idx ON result_cache (created_at);
CREATE INDEX result_cache_last_hit_idx ON result_cache (last_hit_at DESC, cache_key);

-- A job answered from the cache: stored COMPLETED at submission, run by no worker.
ALTER TABLE job ADD COLUMN cache_hit boolean NOT NULL DEFAULT false;
