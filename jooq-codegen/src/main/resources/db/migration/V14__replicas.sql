-- Coordinator replicas on one database. Each live coordinator keeps a row here, stamped with the
-- database's clock; the others count it live while its stamp is recent.
CREATE TABLE coordinator_replica (
    replica_id uuid PRIMARY KEY,
    address    text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);

-- How many calls each replica has admitted per key (cumulative since it started), so that every
-- replica charges its own token buckets with what the others admitted: rate limits hold for the
-- cluster, not per replica.
CREATE TABLE key_usage (
    replica_id uuid NOT NULL REFERENCES coordinator_replica ON DELETE CASCADE,
    key_id     text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('submit', 'call')),
    admitted   bigint NOT NULL,
    PRIMARY KEY (replica_id, key_id, kind)
);

-- Messages between replicas (wake a dispatcher, a job changed, a job is watched, revoke an attempt
-- on a worker connected elsewhere) travel on one channel; each payload names its sender.
CREATE FUNCTION cluster_listen() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LISTEN aitbc_cluster;
END;
$$;

CREATE FUNCTION cluster_notify(payloads text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p text;
BEGIN
    FOREACH p IN ARRAY payloads LOOP
        PERFORM pg_notify('aitbc_cluster', p);
    END LOOP;
END;
$$;
