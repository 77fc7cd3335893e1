#!/usr/bin/env bash
# The grid and its peers (graphile-worker, pg-boss) on this machine, in one run, with the same N:
# copies the peers' benchmark to ops/target/peers, installs it (npm ci), then for each round runs
# the peer profiles (the exact commands of their run-all.sh, plus --n=$N) and `grid bench --n $N`,
# and prints the side-by-side table (medians over rounds, grid/peer ratios).
#
#   ops/bench/side-by-side.sh                     # one round, N = 50,000
#   RUNS=3 N=50000 ops/bench/side-by-side.sh      # three rounds, medians
#   PEERS_DIR=/path/to/bench/peers PROFILES="gw-batched pgboss-b5000" GRID_ARGS="--phases submit_grpc,process,latency"
#
# Results: ops/target/side-by-side/<UTC stamp>/round-<k>/{<profile>.json,<profile>.log,grid.json,grid.log}
# and summary.txt, with PostgreSQL's ceiling (ops/bench/ceiling.sh, pgbench) measured in each round.
# Each peer run stops itself (watchdog 175 s) and gets `timeout 200`, as in run-all.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
N=${N:-50000}
RUNS=${RUNS:-1}
PEERS_DIR=${PEERS_DIR:-$root/../shared/bench/peers}
PROFILES=${PROFILES:-"gw-batched pgboss-b5000"}
GRID_ARGS=${GRID_ARGS:-}
grid="$root/ops/bin/grid"

[[ -f "$PEERS_DIR/run-all.sh" ]] || { echo "side-by-side: no peers' benchmark at $PEERS_DIR (set PEERS_DIR)" >&2; exit 1; }
work="$root/ops/target/peers"
out="$root/ops/target/side-by-side/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
started=$(date +%s)

echo "== copying $PEERS_DIR to $work and installing it (npm ci)"
rm -rf "$work"
mkdir -p "$work"
# Everything but their results and installed modules.
(cd "$PEERS_DIR" && find . -maxdepth 1 -type f -print0 | xargs -0 -I{} cp {} "$work/")
(cd "$work" && npm ci --no-audit --no-fund --silent)

# The profiles' commands exactly as the peers' run-all.sh defines them.
peer_cmd() {
  local cmd
  cmd=$(sed -n "s/^ *\[$1\]=\"\(.*\)\"$/\1/p" "$work/run-all.sh")
  [[ -n "$cmd" ]] || { echo "side-by-side: profile $1 is not in $work/run-all.sh" >&2; exit 1; }
  echo "$cmd --n=$N"
}

# Build once up front, so that no round pays for it.
"$grid" --version >/dev/null

{
  echo "side-by-side $(date -u +%FT%TZ): N=$N RUNS=$RUNS profiles: $PROFILES; host: $(nproc) cores, $(uname -r)"
  for p in $PROFILES; do echo "  $p: $(peer_cmd "$p")"; done
  echo "  grid: ops/bin/grid bench --n $N $GRID_ARGS --json <round>/grid.json --peers <round>"
} | tee "$out/summary.txt"

for r in $(seq 1 "$RUNS"); do
  dir="$out/round-$r"
  mkdir -p "$dir"
  for p in $PROFILES; do
    cmd=$(peer_cmd "$p")
    echo "== $(date -u +%T) round $r: $p"
    t=$(date +%s)
    # shellcheck disable=SC2086  # the command is a word list by design, as in run-all.sh
    (cd "$work" && timeout 200 $cmd > "$dir/$p.json" 2> "$dir/$p.log") || echo "   $p exited rc=$? (see $dir/$p.log)"
    # Tag the document as run-all.sh does, so the comparison knows its profile.
    sed -i "1s|^{|{\"profile\":\"$p\",\"run\":$r,\"cmd\":\"$cmd\",|" "$dir/$p.json"
    echo "   $p took $(( $(date +%s) - t )) s"
  done
  # PostgreSQL's own ceiling on the machine as it is in this round (pgbench; CEILING=0 skips it).
  if [[ "${CEILING:-1}" != 0 ]]; then
    echo "== $(date -u +%T) round $r: PostgreSQL's ceiling (pgbench)"
    "$root/ops/bench/ceiling.sh" 2>&1 | tee "$dir/ceiling.txt" | sed 's/^/   /'
  fi
  # The coordinator changes often: say which code each round measured (ops/bin/grid rebuilds when sources change).
  rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  git -C "$root" diff --quiet HEAD 2>/dev/null || rev="$rev+local-changes"
  echo "== $(date -u +%T) round $r: grid at $rev" | tee -a "$out/summary.txt"
  t=$(date +%s)
  # shellcheck disable=SC2086
  "$grid" bench --n "$N" $GRID_ARGS --json "$dir/grid.json" --peers "$dir" --log-dir "$dir/grid-logs" \
    2> "$dir/grid.log" | tee "$dir/grid.txt" || echo "   grid bench exited rc=$? (see $dir/grid.log)"
  echo "   grid took $(( $(date +%s) - t )) s"
done

grids=$(ls "$out"/round-*/grid.json 2>/dev/null | paste -sd, -)
[[ -n "$grids" ]] || { echo "side-by-side: no grid result" >&2; exit 1; }
rounds=$(ls -d "$out"/round-* | paste -sd, -)
echo "== summary over $RUNS round(s)"
"$grid" bench compare --grid "$grids" --peers "$rounds" 2>/dev/null | tee -a "$out/summary.txt"
if ls "$out"/round-*/ceiling.txt >/dev/null 2>&1; then
  for kind in "insert" "claim+complete"; do
    grep -h "^ceiling $kind:" "$out"/round-*/ceiling.txt | sed -E 's/^[^:]*: ([0-9]+) .*/\1/' | sort -n |
      awk -v k="$kind" '{a[NR]=$1} END {if (NR) printf "PostgreSQL ceiling, %s: median %d jobs/s over %d round(s) (ops/bench/ceiling.sh)\n", k, a[int((NR+1)/2)], NR}'
  done | tee -a "$out/summary.txt"
fi
echo "whole run: $(( $(date +%s) - started )) s; results in $out" | tee -a "$out/summary.txt"
