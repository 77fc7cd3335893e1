-- Keys get an unambiguous id (the first 8 bytes of their hash, in hex): revocation names one key,
-- never a prefix that keys of two tenants may share.
ALTER TABLE api_key ADD COLUMN key_id text;
UPDATE api_key SET key_id = encode(substring(key_hash FROM 1 FOR 8), 'hex');
ALTER TABLE api_key ALTER COLUMN key_id SET NOT NULL;
CREATE UNIQUE INDEX api_key_key_id_uq ON api_key (key_id);

-- How long one attempt may run before it is revoked and retried elsewhere, in milliseconds.
ALTER TABLE job ADD COLUMN timeout_ms integer NOT NULL DEFAULT 900000 CHECK (timeout_ms > 0);
ALTER TABLE job ALTER COLUMN timeout_ms DROP DEFAULT;
-- After an attempt overran its timeout, the worker that ran it does not get the job again before
-- this time, so that the retry goes to another worker when there is one.
ALTER TABLE job ADD COLUMN avoid_worker_id text;
ALTER TABLE job ADD COLUMN avoid_until timestamptz;
