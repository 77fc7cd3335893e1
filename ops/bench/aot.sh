#!/usr/bin/env bash
# The first N jobs after a coordinator start against the steady state, with and without JDK 25's
# ahead-of-time cache (JEP 483 classes loaded and linked ahead of time, JEP 515 method profiles).
#
#   1. training: one `grid bench` run whose coordinator records what it loads and compiles
#      (-XX:AOTMode=record), then the cache is assembled from it (-XX:AOTMode=create);
#   2. RUNS rounds, each: a cold coordinator without the cache, a cold one with it (both measure the
#      first N jobs: submitted with calls in flight, then processed by 4 workers), and a warm one
#      without it (WARMUP jobs first), the steady state.
# Prints jobs/s per phase and the ratios cold/steady; results in ops/target/aot/.
#
#   ops/bench/aot.sh                       # N=10000 RUNS=3 WARMUP=30000
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
N=${N:-10000}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-30000}
PHASES=submit_grpc_async,process
grid="$root/ops/bin/grid"
out="$root/ops/target/aot"
mkdir -p "$out"
conf="$out/coordinator.aotconf"
cache="$out/coordinator.aot"
"$grid" --version >/dev/null # builds first if needed

bench() { # label, warm-up jobs, coordinator JVM options
  "$grid" bench --phases "$PHASES" --n "$N" --warmup-jobs "$2" --gate-max-wait 30s \
    --coordinator-opts "-Xmx1g $3" --json "$out/$1.json" > "$out/$1.txt" 2>&1 || {
    echo "aot: grid bench ($1) failed, see $out/$1.txt" >&2; exit 1; }
  jq -r --arg l "$1" '[$l] + [.phases[] | .jobs_per_s | tostring] | join(" ")' "$out/$1.json"
}

if [[ ! -f "$cache" || "$root/ops/target/grid.jar" -nt "$cache" ]]; then
  echo "== training (grid bench, the same phases, no warm-up)"
  rm -f "$conf" "$cache"
  bench training 0 "-XX:AOTMode=record -XX:AOTConfiguration=$conf" >/dev/null
  echo "== assembling $cache"
  # With the options every grid process gets (GridProcess), which the cache must match.
  "${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java" -XX:AOTMode=create -XX:AOTConfiguration="$conf" \
    -XX:AOTCache="$cache" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    -cp "$root/ops/target/grid.jar" > "$out/assemble.txt" 2>&1 || {
    echo "aot: assembling the cache failed, see $out/assemble.txt" >&2; exit 1; }
fi
ls -l "$cache"

echo "== $RUNS round(s), N=$N; columns: jobs/s of $PHASES" | tee "$out/summary.txt"
for r in $(seq 1 "$RUNS"); do
  bench "cold-$r" 0 "" | tee -a "$out/summary.txt"
  bench "cold-aot-$r" 0 "-XX:AOTCache=$cache" | tee -a "$out/summary.txt"
  bench "steady-$r" "$WARMUP" "" | tee -a "$out/summary.txt"
done
# Medians per label kind and column, and the ratios to the steady state.
awk '
  /^cold-aot-/ {k="cold+aot"} /^cold-[0-9]/ {k="cold"} /^steady-/ {k="steady"}
  /^(cold|steady)/ { for (i = 2; i <= NF; i++) v[k, i, ++n[k, i]] = $i; cols = NF }
  function med(k, i,   m, a, j) { m = n[k, i]; for (j = 1; j <= m; j++) a[j] = v[k, i, j];
    asort(a); return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
  END { split("'"$PHASES"'", ph, ",");
    for (i = 2; i <= cols; i++) {
      s = med("steady", i); c = med("cold", i); a = med("cold+aot", i);
      printf "%s: steady %.0f jobs/s; first N cold %.0f (%.2f of steady), with the AOT cache %.0f (%.2f)\n",
        ph[i - 1], s, c, c / s, a, a / s } }' "$out/summary.txt" | tee -a "$out/summary.txt"
