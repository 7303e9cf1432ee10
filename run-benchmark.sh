#!/usr/bin/env bash
# The benchmark behind BENCHMARKS.md: not part of the tests. Builds if needed, then measures the
# ATRN drain against James inbound, RemoteDelivery and Postfix (installed with apt-get when
# missing: run as root), and a second James as the ODMR customer against its own inbound SMTP
# and fetchmail --protocol odmr. Settings as -D options, e.g. ./run-benchmark.sh -Dbench.backlog=20000
set -euo pipefail
cd "$(dirname "$0")"
mvn -q -B package -DskipTests -pl extension,testing -am
exec java -Xmx2g "$@" -cp testing/target/classes dev.jamesatrn.testing.benchmark.DrainBenchmark target/bench
