-- Agent workflows: named DAGs of steps, and their executions, whose steps run as ordinary jobs.
-- An execution's truth is its step jobs' rows; the execution row holds what the engine decided from
-- them (status, result, cost) and a snapshot of its steps for readers. Whatever ends a step job
-- records a durable wake-up for its execution (a trigger on job), which the engine drains.

CREATE TYPE execution_status AS ENUM ('pending', 'running', 'completed', 'failed', 'cancelled');

CREATE TYPE verification_level AS ENUM ('basic', 'full', 'zero_knowledge');

CREATE TABLE workflow (
    workflow_id         uuid               PRIMARY KEY,
    client_id           text               NOT NULL,
    -- Idempotency key given by the client (the CLI's workflow_id); unique per client.
    request_id          text,
    name                text               NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description         text               NOT NULL,
    -- The definition as the client wrote it: text, not jsonb, because the order of the steps is the
    -- definition's order (jsonb would sort the keys of the steps object).
    definition          text               NOT NULL,
    step_count          integer            NOT NULL CHECK (step_count >= 0),
    verification_level  verification_level NOT NULL,
    max_execution_s     integer            NOT NULL CHECK (max_execution_s BETWEEN 1 AND 86400),
    -- 0: no bound on an execution's cost.
    max_cost_budget     numeric(20, 8)     NOT NULL CHECK (max_cost_budget >= 0),
    tags                text[]             NOT NULL,
    is_public           boolean            NOT NULL,
    version             integer            NOT NULL,
    created_at          timestamptz        NOT NULL,
    updated_at          timestamptz        NOT NULL
);
CREATE UNIQUE INDEX workflow_client_request_uq ON workflow (client_id, request_id) WHERE request_id IS NOT NULL;
-- A client's workflows, newest first; and the public ones.
CREATE INDEX workflow_client_created_idx ON workflow (client_id, created_at DESC, workflow_id DESC);
CREATE INDEX workflow_public_created_idx ON workflow (created_at DESC, workflow_id DESC) WHERE is_public;

CREATE TABLE execution (
    execution_id        uuid               PRIMARY KEY,
    workflow_id         uuid               NOT NULL REFERENCES workflow (workflow_id),
    client_id           text               NOT NULL,
    -- The key that started it: its step jobs are submitted with that key's limits and weight.
    key_id              text               NOT NULL,
    request_id          text,
    status              execution_status   NOT NULL,
    -- The inputs given, merged over the workflow's defaults.
    inputs              jsonb              NOT NULL,
    priority            smallint           NOT NULL CHECK (priority BETWEEN 0 AND 9),
    verification_level  verification_level NOT NULL,
    timeout_s           integer            NOT NULL CHECK (timeout_s BETWEEN 1 AND 86400),
    -- created_at + timeout_s: it fails if it has not ended by then.
    deadline            timestamptz        NOT NULL,
    max_cost_budget     numeric(20, 8)     NOT NULL CHECK (max_cost_budget >= 0),
    -- What the engine last decided from the step jobs: the sum of the completed ones' prices, the
    -- progress, the steps as they stood (a JSON list in definition order).
    total_cost          numeric(20, 8)     NOT NULL,
    progress            smallint           NOT NULL CHECK (progress BETWEEN 0 AND 100),
    current_step        integer            NOT NULL,
    total_steps         integer            NOT NULL,
    current_step_name   text,
    steps               jsonb              NOT NULL,
    final_result        jsonb,
    error_message       text,
    created_at          timestamptz        NOT NULL,
    started_at          timestamptz,
    ended_at            timestamptz,
    updated_at          timestamptz        NOT NULL
);
CREATE UNIQUE INDEX execution_client_request_uq ON execution (client_id, request_id) WHERE request_id IS NOT NULL;
CREATE INDEX execution_client_created_idx ON execution (client_id, created_at DESC, execution_id DESC);
-- A workflow's executions (and ListWorkflows' filter by their status).
CREATE INDEX execution_workflow_idx ON execution (workflow_id, status);
-- The sweep of executions past their deadline.
CREATE INDEX execution_deadline_idx ON execution (deadline) WHERE status IN ('pending', 'running');

-- A step job names its execution; its request id names the step and item (see README, "Agent
-- workflows"). No foreign key: a job row is inserted in batches shared with other clients' jobs,
-- and the engine only creates step jobs of executions it holds locked.
ALTER TABLE job ADD COLUMN execution_id uuid;
CREATE INDEX job_execution_idx ON job (execution_id) WHERE execution_id IS NOT NULL;

-- The price the receipt states, exact (the body writes it as a JSON float): what a step job cost
-- its execution. Set on receipts issued from this version on.
ALTER TABLE receipt ADD COLUMN price numeric(20, 8);

-- Durable wake-ups of executions (an outbox): one row per event, deleted by the engine in the
-- transaction that acted on it, so that an event that comes while the engine decides is kept.
-- due_at later than now: a retry the engine put off (its steps' submissions were refused for now).
CREATE TABLE execution_wakeup (
    wakeup_id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    execution_id  uuid        NOT NULL,
    due_at        timestamptz NOT NULL
);
CREATE INDEX execution_wakeup_due_idx ON execution_wakeup (due_at);
CREATE INDEX execution_wakeup_execution_idx ON execution_wakeup (execution_id);

-- Whatever ends a step job (completion, failure, cancel, expiry, sweeps) wakes its execution. The
-- WHEN clause keeps every other job's update free of the trigger.
CREATE FUNCTION job_wakes_execution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO execution_wakeup (execution_id, due_at) VALUES (NEW.execution_id, now());
    RETURN NULL;
END;
$$;
CREATE TRIGGER job_wakes_execution AFTER UPDATE OF state ON job FOR EACH ROW
    WHEN (NEW.execution_id IS NOT NULL AND NEW.state IN ('COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED')
          AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION job_wakes_execution();

-- Every wake-up is announced to every coordinator's engine at commit (identical notifications of
-- one transaction are sent once).
CREATE FUNCTION execution_wakeup_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('aitbc_execution_wakeup', NEW.execution_id::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER execution_wakeup_notify AFTER INSERT ON execution_wakeup FOR EACH ROW
    EXECUTE FUNCTION execution_wakeup_notify();

-- Every change of an execution is announced, so that its watchers on any coordinator read it again.
CREATE FUNCTION execution_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('aitbc_execution_changed', NEW.execution_id::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER execution_changed_notify AFTER UPDATE ON execution FOR EACH ROW
    EXECUTE FUNCTION execution_changed_notify();

-- Subscribes the calling session to both channels: called through jOOQ's generated routine, so that
-- the engine's listening connection needs no SQL text of its own.
CREATE FUNCTION workflow_listen() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LISTEN aitbc_execution_wakeup;
    LISTEN aitbc_execution_changed;
END;
$$;
