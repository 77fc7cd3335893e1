-- A transfer's id is a name-based UUID of its idempotency key (Transfers.id), so the primary key
-- already makes the keys unique: the second unique index on the text key only cost every paid job
-- three more index insertions.
ALTER TABLE transfer DROP CONSTRAINT transfer_idempotency_key_key;
