#!/usr/bin/env bash
# Runs the JMH microbenchmarks of the coordinator's hot paths (matching, validation and
# serialisation, and the insert / claim / completion writes against PostgreSQL on 127.0.0.1:5432).
# Usage: ops/bench/jmh.sh [JMH options, e.g. StoreBenchmark -f 1 -wi 2 -i 5]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
if [[ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]]; then
  export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
./mvnw -q -B -ntp -DskipTests install -pl coordinator -am >&2
cp="$(./mvnw -q -B -ntp -pl coordinator dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout)"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "coordinator/target/test-classes:coordinator/target/classes:$cp" org.openjdk.jmh.Main "$@"
