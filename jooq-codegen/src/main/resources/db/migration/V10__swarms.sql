-- Swarms: groups of workers that share a capability, and swarm tasks that run one job on several
-- distinct workers (consensus, leader election, or a list split across them). A task's truth is its
-- member jobs' rows, each pinned to one worker; the task row holds what the engine decided from them
-- (status, result, the consensus decision). Whatever ends a member job records a durable wake-up for
-- its task (a trigger on job), which the swarm engine drains, as the workflow engine does.

CREATE TYPE swarm_strategy AS ENUM ('consensus', 'leader_election', 'distributed');

-- A swarm is known by its name: its capability, or capability-region (e.g. embedding-eu).
CREATE TABLE swarm (
    swarm_id    uuid        PRIMARY KEY,
    name        text        NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 64),
    capability  text        NOT NULL,
    -- '' when the swarm names no region.
    region      text        NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX swarm_capability_idx ON swarm (capability);

-- A membership: a client (every worker its id owns) that joined through SwarmService, or one worker
-- that joined by name when it registered.
CREATE TABLE swarm_member (
    member_id   uuid        PRIMARY KEY,
    swarm_id    uuid        NOT NULL REFERENCES swarm (swarm_id),
    -- The client id of the key that joined (a worker's owner, for a worker).
    client_id   text        NOT NULL,
    -- The worker that joined by name; null: the membership covers every worker client_id owns.
    worker_id   text,
    key_role    key_role    NOT NULL,
    role        text        NOT NULL CHECK (role IN ('load-balancer', 'resource-optimizer', 'task-coordinator',
                                                     'monitor', 'worker')),
    priority    text        NOT NULL CHECK (priority IN ('low', 'normal', 'high')),
    joined_at   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX swarm_member_client_uq ON swarm_member (swarm_id, client_id) WHERE worker_id IS NULL;
CREATE UNIQUE INDEX swarm_member_worker_uq ON swarm_member (swarm_id, worker_id) WHERE worker_id IS NOT NULL;
CREATE INDEX swarm_member_worker_idx ON swarm_member (worker_id) WHERE worker_id IS NOT NULL;
CREATE INDEX swarm_member_client_idx ON swarm_member (client_id);

-- How reliable a worker has been in swarm tasks (BOINC's reliable hosts): a host's, not a
-- membership's, so that it follows the worker into every swarm and into tasks it ran as a plain
-- capable worker. No row: never judged (reputation 0.5).
CREATE TABLE worker_reputation (
    worker_id   text          PRIMARY KEY,
    -- Its owner when it was last judged.
    owner_id    text          NOT NULL,
    reputation  numeric(5, 4) NOT NULL CHECK (reputation BETWEEN 0 AND 1),
    agreements  integer       NOT NULL CHECK (agreements >= 0),
    dissents    integer       NOT NULL CHECK (dissents >= 0),
    -- A moving average of its member jobs' run times; null before one completed.
    latency_ms  integer,
    updated_at  timestamptz   NOT NULL
);
CREATE INDEX worker_reputation_owner_idx ON worker_reputation (owner_id);

CREATE TABLE swarm_task (
    task_id            uuid             PRIMARY KEY,
    client_id          text             NOT NULL,
    -- The key that started it: its member jobs are submitted with that key's limits and weight.
    key_id             text             NOT NULL,
    request_id         text,
    -- The swarm whose members it preferred, when the client named one.
    swarm_id           uuid             REFERENCES swarm (swarm_id),
    status             execution_status NOT NULL,
    strategy           swarm_strategy   NOT NULL,
    job_type           text             NOT NULL,
    -- The member jobs' payload as text (a JSON object), as every member gets it (distributed: before
    -- its list is split); a bare job type's verification probe when probe is true.
    payload            text             NOT NULL,
    probe              boolean          NOT NULL,
    -- The member jobs' constraints as a Constraints JSON object ({} for none).
    constraints        jsonb            NOT NULL,
    -- Members asked for; distributed runs min(collaborators, items) parts.
    collaborators      smallint         NOT NULL CHECK (collaborators BETWEEN 1 AND 20),
    parts              smallint         NOT NULL CHECK (parts BETWEEN 1 AND 20),
    -- The share of members the largest agreeing group needs (consensus).
    threshold          numeric(5, 4)    NOT NULL CHECK (threshold > 0 AND threshold <= 1),
    -- Overrides the job type's similarity bound for agreeing results; null: the type's own.
    similarity         double precision CHECK (similarity > 0 AND similarity <= 1),
    timeout_s          integer          NOT NULL CHECK (timeout_s BETWEEN 1 AND 86400),
    -- created_at + timeout_s: it ends with what it has if it has not ended by then.
    deadline           timestamptz      NOT NULL,
    -- The workers chosen when it was created, best first, each with what ranked it (a JSON list).
    candidates         jsonb            NOT NULL,
    -- What the engine last decided: progress, the leader and why, the result, the decision.
    progress           smallint         NOT NULL CHECK (progress BETWEEN 0 AND 100),
    leader_worker_id   text,
    leader_rule        text,
    result             jsonb,
    result_sha256      text,
    consensus_reached  boolean,
    decision           jsonb,
    error_message      text,
    receipt_id         uuid,
    created_at         timestamptz      NOT NULL,
    started_at         timestamptz,
    ended_at           timestamptz,
    updated_at         timestamptz      NOT NULL
);
CREATE UNIQUE INDEX swarm_task_client_request_uq ON swarm_task (client_id, request_id) WHERE request_id IS NOT NULL;
CREATE INDEX swarm_task_client_created_idx ON swarm_task (client_id, created_at DESC, task_id DESC);
CREATE INDEX swarm_task_deadline_idx ON swarm_task (deadline) WHERE status IN ('pending', 'running');

-- A task's member jobs: one per slot (a consensus member, the leader, a distributed part) and
-- replacement (0 first; 1, 2 on other workers after the one before ended without a result). The
-- primary key is what keeps the engine from making a slot's job twice; written under the task's lock.
CREATE TABLE swarm_task_member (
    task_id        uuid        NOT NULL REFERENCES swarm_task (task_id),
    slot           smallint    NOT NULL CHECK (slot BETWEEN 0 AND 19),
    replacement    smallint    NOT NULL CHECK (replacement BETWEEN 0 AND 19),
    job_id         uuid        NOT NULL UNIQUE,
    worker_id      text        NOT NULL,
    owner_id       text        NOT NULL,
    -- Distributed: the items [part_from, part_to) of the list this member got.
    part_from      integer,
    part_to        integer,
    -- Set by the decision: SHA-256 of the canonical result, its group, and whether it agreed with the
    -- largest group.
    result_sha256  text,
    group_no       smallint,
    vote           text        CHECK (vote IN ('agree', 'dissent')),
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (task_id, slot, replacement)
);
CREATE INDEX swarm_task_member_worker_idx ON swarm_task_member (worker_id);

-- A member job names its task and the one worker that may run it. No foreign key, as for
-- execution_id: a job row is inserted in batches shared with other clients' jobs.
ALTER TABLE job ADD COLUMN swarm_task_id uuid;
ALTER TABLE job ADD COLUMN pinned_worker_id text;
CREATE INDEX job_swarm_task_idx ON job (swarm_task_id) WHERE swarm_task_id IS NOT NULL;
-- The dispatcher asks each worker with pinned queued jobs even when others of its kind found none.
CREATE INDEX job_pinned_queued_idx ON job (pinned_worker_id) WHERE state = 'QUEUED' AND pinned_worker_id IS NOT NULL;

-- Durable wake-ups of swarm tasks (an outbox), as execution_wakeup is for executions.
CREATE TABLE swarm_wakeup (
    wakeup_id  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id    uuid        NOT NULL,
    due_at     timestamptz NOT NULL
);
CREATE INDEX swarm_wakeup_due_idx ON swarm_wakeup (due_at);
CREATE INDEX swarm_wakeup_task_idx ON swarm_wakeup (task_id);

CREATE FUNCTION job_wakes_swarm_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO swarm_wakeup (task_id, due_at) VALUES (NEW.swarm_task_id, now());
    RETURN NULL;
END;
$$;
CREATE TRIGGER job_wakes_swarm_task AFTER UPDATE OF state ON job FOR EACH ROW
    WHEN (NEW.swarm_task_id IS NOT NULL AND NEW.state IN ('COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED')
          AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION job_wakes_swarm_task();

CREATE FUNCTION swarm_wakeup_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('aitbc_swarm_wakeup', NEW.task_id::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER swarm_wakeup_notify AFTER INSERT ON swarm_wakeup FOR EACH ROW
    EXECUTE FUNCTION swarm_wakeup_notify();

-- The engines' listening connection also hears of swarm task wake-ups.
CREATE OR REPLACE FUNCTION workflow_listen() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LISTEN aitbc_execution_wakeup;
    LISTEN aitbc_execution_changed;
    LISTEN aitbc_network_wakeup;
    LISTEN aitbc_swarm_wakeup;
END;
$$;

-- A swarm task's receipt, issued in the transaction that ends it, is a ledger leaf like an
-- execution's: it names the task instead of a job or an execution.
ALTER TABLE receipt ADD COLUMN swarm_task_id uuid;
ALTER TABLE receipt DROP CONSTRAINT receipt_job_or_execution;
ALTER TABLE receipt ADD CONSTRAINT receipt_names_one CHECK (num_nonnulls(job_id, execution_id, swarm_task_id) = 1);
CREATE UNIQUE INDEX receipt_swarm_task_uq ON receipt (swarm_task_id) WHERE swarm_task_id IS NOT NULL;
