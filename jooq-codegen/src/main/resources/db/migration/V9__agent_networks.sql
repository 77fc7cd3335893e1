-- Agent networks: named sets of a client's workflows, run together on a task. A run is carried by
-- ordinary executions of its agents' workflows, which the workflow engine runs; a run's truth is
-- which executions it made (network_run_execution) and how they ended. Whatever ends one of them
-- records a durable wake-up for its run (a trigger on execution), which the network engine drains.

CREATE TYPE coordination_strategy AS ENUM ('centralized', 'decentralized', 'hybrid');

CREATE TABLE agent_network (
    network_id             uuid                  PRIMARY KEY,
    client_id              text                  NOT NULL,
    name                   text                  NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description            text                  NOT NULL,
    -- The agents in order (the first aggregates under hybrid); distinct.
    workflow_ids           uuid[]                NOT NULL CHECK (cardinality(workflow_ids) BETWEEN 1 AND 20),
    coordination_strategy  coordination_strategy NOT NULL,
    created_at             timestamptz           NOT NULL
);
CREATE INDEX agent_network_client_created_idx ON agent_network (client_id, created_at DESC, network_id DESC);

CREATE TABLE network_run (
    run_id         uuid             PRIMARY KEY,
    network_id     uuid             NOT NULL REFERENCES agent_network (network_id),
    client_id      text             NOT NULL,
    -- The key that started it: its executions run under that key.
    key_id         text             NOT NULL,
    request_id     text,
    status         execution_status NOT NULL,
    task           jsonb            NOT NULL,
    priority       smallint         NOT NULL CHECK (priority BETWEEN 0 AND 9),
    timeout_s      integer          NOT NULL CHECK (timeout_s BETWEEN 1 AND 86400),
    -- created_at + timeout_s: it fails if it has not ended by then.
    deadline       timestamptz      NOT NULL,
    result         jsonb,
    error_message  text,
    created_at     timestamptz      NOT NULL,
    ended_at       timestamptz,
    updated_at     timestamptz      NOT NULL
);
CREATE UNIQUE INDEX network_run_client_request_uq ON network_run (client_id, request_id) WHERE request_id IS NOT NULL;
-- A network's runs, newest first (its status and the measurements).
CREATE INDEX network_run_network_created_idx ON network_run (network_id, created_at DESC, run_id DESC);
CREATE INDEX network_run_deadline_idx ON network_run (deadline) WHERE status IN ('pending', 'running');

-- The executions a run made, one per slot: an agent's place in the network (hybrid's aggregation is
-- the first agent's slot, 0). The primary key is what keeps a run from making an agent's execution
-- twice; it is written in the transaction that makes the execution, under the run's row lock.
CREATE TABLE network_run_execution (
    run_id        uuid     NOT NULL REFERENCES network_run (run_id),
    slot          smallint NOT NULL CHECK (slot BETWEEN 0 AND 19),
    execution_id  uuid     NOT NULL UNIQUE REFERENCES execution (execution_id),
    PRIMARY KEY (run_id, slot)
);

-- Durable wake-ups of runs (an outbox), as execution_wakeup is for executions.
CREATE TABLE network_wakeup (
    wakeup_id  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     uuid        NOT NULL,
    due_at     timestamptz NOT NULL
);
CREATE INDEX network_wakeup_due_idx ON network_wakeup (due_at);
CREATE INDEX network_wakeup_run_idx ON network_wakeup (run_id);

-- Whatever ends an execution (the engine, a cancel, a sweep) wakes the run that made it, if any.
CREATE FUNCTION execution_wakes_network_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO network_wakeup (run_id, due_at)
        SELECT run_id, now() FROM network_run_execution WHERE execution_id = NEW.execution_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER execution_wakes_network_run AFTER UPDATE OF status ON execution FOR EACH ROW
    WHEN (NEW.status IN ('completed', 'failed', 'cancelled') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION execution_wakes_network_run();

CREATE FUNCTION network_wakeup_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('aitbc_network_wakeup', NEW.run_id::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER network_wakeup_notify AFTER INSERT ON network_wakeup FOR EACH ROW
    EXECUTE FUNCTION network_wakeup_notify();

-- The engines' listening connection also hears of run wake-ups.
CREATE OR REPLACE FUNCTION workflow_listen() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LISTEN aitbc_execution_wakeup;
    LISTEN aitbc_execution_changed;
    LISTEN aitbc_network_wakeup;
END;
$$;
