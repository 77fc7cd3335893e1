-- A transfer's references are no longer checked row by row (issue 10's budget). Its three foreign
-- keys ran an SPI query and took a KEY SHARE lock for each transfer inserted: nine checks per paid
-- job (escrow, post and fee, each naming two accounts and a payment), two of them on the escrow and
-- fee accounts that every paid job's transaction updates. Without them `grid bench transfers` made
-- 30 % more paid jobs a second (10,237 -> 13,325, medians of 3; PostgreSQL 44 µs less per paid job).
-- A statement-level check over the new rows cost as much as the keys did (planning and PL/pgSQL per
-- statement), so none replaces them here: the stores name only accounts and payments they have just
-- found or made in the same transaction, and the tests' money invariants (PaymentInvariants, run
-- after every payment test, fault tests included) check that every transfer names an account of its
-- currency on both sides and, unless a deposit, a payment that exists.

ALTER TABLE transfer
    DROP CONSTRAINT transfer_debit_account_id_currency_fkey,
    DROP CONSTRAINT transfer_credit_account_id_currency_fkey,
    DROP CONSTRAINT transfer_payment_id_fkey;

-- What transfers name never goes away (the keys' other half: without them, nothing stopped a
-- DELETE). Row triggers on DELETE only, so updates (every balance change, every release) pay nothing.
CREATE FUNCTION named_by_transfers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are named by transfers: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER account_kept BEFORE DELETE ON account FOR EACH ROW EXECUTE FUNCTION named_by_transfers();
CREATE TRIGGER account_no_truncate BEFORE TRUNCATE ON account FOR EACH STATEMENT EXECUTE FUNCTION named_by_transfers();
CREATE TRIGGER payment_kept BEFORE DELETE ON payment FOR EACH ROW EXECUTE FUNCTION named_by_transfers();
CREATE TRIGGER payment_no_truncate BEFORE TRUNCATE ON payment FOR EACH STATEMENT EXECUTE FUNCTION named_by_transfers();
