#!/usr/bin/env bash
# PostgreSQL's ceiling for a job queue on this machine, measured with pgbench (no grid, no peer):
#   insert  - 1,000 jobs per INSERT statement, one commit each;
#   claim   - claim 1,000 queued jobs with FOR UPDATE SKIP LOCKED (one commit), then complete them
#             (a second commit), from a queue filled beforehand.
# synchronous_commit = on, CLIENTS clients (default 4), DUR seconds each (default 10), prepared
# statements. Prints one line per script in jobs/s (pgbench's tps × 1,000). side-by-side.sh runs it
# once per round, so the ceiling sits next to the figures of the same run.
#
#   ops/bench/ceiling.sh                   # CLIENTS=4 DUR=10
#   PGHOST=… PGPORT=… PGUSER=… ops/bench/ceiling.sh
set -euo pipefail
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
CLIENTS=${CLIENTS:-4}
DUR=${DUR:-10}
# Enough queued jobs for DUR seconds of claims at up to 300,000 jobs/s.
FILL=${FILL:-$(( DUR * 300000 ))}
db=grid_ceiling_$$
dir="$(mktemp -d)"
trap 'psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

psql -q -d postgres -c "CREATE DATABASE $db" >/dev/null
psql -q -d "$db" >/dev/null <<SQL
CREATE TABLE job (
  id         bigserial PRIMARY KEY,
  state      text        NOT NULL DEFAULT 'queued',
  locked_by  int,
  payload    jsonb       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_queued ON job (id) WHERE state = 'queued';
CREATE INDEX job_running ON job (locked_by) WHERE state = 'running';
SQL

echo "INSERT INTO job (payload) SELECT '{}'::jsonb FROM generate_series(1, 1000);" > "$dir/insert.sql"
cat > "$dir/claim.sql" <<'SQL'
UPDATE job SET state = 'running', locked_by = :client_id
  WHERE id IN (SELECT id FROM job WHERE state = 'queued' ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED);
UPDATE job SET state = 'done' WHERE state = 'running' AND locked_by = :client_id;
SQL

run() {
  PGOPTIONS="-c synchronous_commit=on" pgbench -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$DUR" \
    -f "$dir/$1.sql" "$db" 2>&1 | sed -nE 's/^tps = ([0-9.]+).*/\1/p'
}

insert_tps=$(run insert)
psql -q -d "$db" -c "TRUNCATE job" -c "INSERT INTO job (payload) SELECT '{}'::jsonb FROM generate_series(1, $FILL)" \
  -c "VACUUM ANALYZE job" -c "CHECKPOINT" >/dev/null
claim_tps=$(run claim)
left=$(psql -Atq -d "$db" -c "SELECT count(*) FROM job WHERE state = 'queued'")

awk -v i="$insert_tps" -v c="$claim_tps" -v n="$CLIENTS" -v d="$DUR" 'BEGIN {
  printf "ceiling insert: %.0f jobs/s (1,000 per statement, %d clients, %d s, synchronous_commit on)\n", i * 1000, n, d
  printf "ceiling claim+complete: %.0f jobs/s (1,000 per claim with SKIP LOCKED, then a second commit; %d clients, %d s)\n", c * 1000, n, d
}'
if [[ "$left" == 0 ]]; then
  echo "ceiling: the queue of $FILL jobs ran dry: the claim figure is a lower bound (raise FILL)" >&2
fi
