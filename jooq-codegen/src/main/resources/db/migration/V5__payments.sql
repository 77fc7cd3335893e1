-- Payments: an exact double-entry ledger of accounts and immutable transfers, and payments for jobs
-- held in escrow as two-phase transfers (TigerBeetle's pending, then exactly one of post and void).
-- Amounts are numeric with 8 decimal places, never floating point.

CREATE TYPE currency AS ENUM ('AITBC', 'BTC', 'ETH', 'USDT');

-- client: what a client pays from; worker_owner: what the owner of workers earns; platform_fee: the
-- platform's cut of each release; escrow: money held for payments until post or void; external:
-- the world outside the grid, where deposits come from (its balance is minus all deposits).
CREATE TYPE account_kind AS ENUM ('client', 'worker_owner', 'platform_fee', 'escrow', 'external');

CREATE TYPE transfer_kind AS ENUM ('deposit', 'escrow', 'post', 'fee', 'void');

CREATE TYPE payment_status AS ENUM ('pending', 'escrowed', 'released', 'refunded', 'failed');

-- Why an escrow was voided back to the client.
CREATE TYPE void_reason AS ENUM ('refund', 'failure', 'cancel', 'expiry', 'timeout');

CREATE TABLE account (
    account_id    bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- A client id for client and worker_owner accounts; a fixed name for the platform's accounts.
    owner_id      text           NOT NULL,
    kind          account_kind   NOT NULL,
    currency      currency       NOT NULL,
    -- Credits minus debits of every transfer of this account, kept with them in one transaction.
    balance       numeric(20, 8) NOT NULL DEFAULT 0,
    -- How far below zero an admin lets the balance go; NULL (unlimited) only for the external account.
    credit_limit  numeric(20, 8)          DEFAULT 0 CHECK (credit_limit >= 0),
    created_at    timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT account_owner_kind_currency_uq UNIQUE (owner_id, kind, currency),
    -- Lets a transfer's foreign keys require that both of its accounts hold its currency.
    CONSTRAINT account_id_currency_uq UNIQUE (account_id, currency),
    CONSTRAINT account_unlimited_only_external CHECK ((credit_limit IS NULL) = (kind = 'external')),
    CONSTRAINT account_within_limit CHECK (credit_limit IS NULL OR balance >= -credit_limit)
);

CREATE TABLE payment (
    payment_id        uuid           PRIMARY KEY,
    job_id            uuid           NOT NULL REFERENCES job (job_id),
    client_id         text           NOT NULL,
    amount            numeric(20, 8) NOT NULL CHECK (amount >= 0.01 AND amount <= 1000000),
    currency          currency       NOT NULL,
    status            payment_status NOT NULL,
    payment_method    text           NOT NULL,
    escrow_timeout_s  integer        NOT NULL CHECK (escrow_timeout_s BETWEEN 300 AND 86400),
    -- When the escrow is voided back to the client if it was neither posted nor voided before.
    expires_at        timestamptz    NOT NULL,
    -- The platform's cut of a release, in basis points, fixed when the payment is made.
    fee_bps           integer        NOT NULL CHECK (fee_bps BETWEEN 0 AND 9999),
    -- Set by a release: whose workers earned it, which worker ran the job, and the fee taken.
    worker_owner_id   text,
    worker_id         text,
    fee_amount        numeric(20, 8),
    void_reason       void_reason,
    created_at        timestamptz    NOT NULL,
    updated_at        timestamptz    NOT NULL,
    released_at       timestamptz,
    refunded_at       timestamptz,
    CONSTRAINT payment_released_consistent CHECK ((status = 'released')
        = (released_at IS NOT NULL AND worker_owner_id IS NOT NULL AND fee_amount IS NOT NULL)),
    CONSTRAINT payment_refunded_consistent CHECK ((status = 'refunded')
        = (refunded_at IS NOT NULL AND void_reason IS NOT NULL))
);
-- At most one payment of a job is live (held or paid out); a refunded one may be followed by another.
CREATE UNIQUE INDEX payment_job_live_uq ON payment (job_id)
    WHERE status IN ('pending', 'escrowed', 'released');
-- A job's payments, newest first (GET /v1/jobs/{id}/payment).
CREATE INDEX payment_job_created_idx ON payment (job_id, created_at DESC);
-- An owner's earnings (miner earnings), newest first.
CREATE INDEX payment_released_owner_idx ON payment (worker_owner_id, released_at DESC) WHERE status = 'released';
-- The sweep of escrows past their timeout.
CREATE INDEX payment_escrowed_expiry_idx ON payment (expires_at) WHERE status = 'escrowed';

-- Every movement of money: one debit and one credit of the same amount and currency. Never updated
-- or deleted (a trigger refuses both): a balance is explained by its account's transfers alone.
CREATE TABLE transfer (
    transfer_id        uuid           PRIMARY KEY,
    debit_account_id   bigint         NOT NULL,
    credit_account_id  bigint         NOT NULL,
    currency           currency       NOT NULL,
    amount             numeric(20, 8) NOT NULL CHECK (amount > 0),
    kind               transfer_kind  NOT NULL,
    -- The payment (the pending transfer) that an escrow, post, fee or void belongs to.
    payment_id         uuid           REFERENCES payment (payment_id),
    -- A retry with the same key moves nothing twice.
    idempotency_key    text           NOT NULL UNIQUE,
    created_at         timestamptz    NOT NULL,
    FOREIGN KEY (debit_account_id, currency) REFERENCES account (account_id, currency),
    FOREIGN KEY (credit_account_id, currency) REFERENCES account (account_id, currency),
    CONSTRAINT transfer_two_accounts CHECK (debit_account_id <> credit_account_id),
    CONSTRAINT transfer_payment_iff_not_deposit CHECK ((kind = 'deposit') = (payment_id IS NULL))
);
-- Exactly one of post and void ever happens to an escrow; and it is escrowed once.
CREATE UNIQUE INDEX transfer_settles_once_uq ON transfer (payment_id) WHERE kind IN ('post', 'void');
CREATE UNIQUE INDEX transfer_escrows_once_uq ON transfer (payment_id) WHERE kind = 'escrow';
-- An account's transfers, newest first.
CREATE INDEX transfer_debit_idx ON transfer (debit_account_id, created_at DESC);
CREATE INDEX transfer_credit_idx ON transfer (credit_account_id, created_at DESC);

CREATE FUNCTION transfer_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'transfers are immutable: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER transfer_immutable BEFORE UPDATE OR DELETE ON transfer
    FOR EACH ROW EXECUTE FUNCTION transfer_immutable();
CREATE TRIGGER transfer_no_truncate BEFORE TRUNCATE ON transfer
    FOR EACH STATEMENT EXECUTE FUNCTION transfer_immutable();
