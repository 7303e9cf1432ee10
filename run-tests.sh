#!/usr/bin/env bash
# The test command of the README. On a fresh machine it installs what the tests drive (fetchmail,
# swaks, Debian's docker.io, debootstrap) with apt when run as root, starts a Docker engine when
# none answers (no bridge, no iptables: containers use host networking only, nothing leaves
# loopback), builds the stand-in for apache/james:memory-3.8.1 when that image is absent, then
# runs `mvn -B verify` with any arguments given. Without root it says what is missing, and the
# tests that need it are skipped with that reason. A Docker engine it started is stopped at exit.
set -euo pipefail
cd "$(dirname "$0")"

as_root=false
[ "$(id -u)" -eq 0 ] && as_root=true

missing=()
command -v fetchmail >/dev/null || missing+=(fetchmail)
command -v swaks >/dev/null || missing+=(swaks)
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  if $as_root; then
    echo "run-tests: installing ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "run-tests: not root, so not installing ${missing[*]}: the tests that need them are skipped" \
      "(sudo apt-get install ${missing[*]}, or run this script as root)"
  fi
fi

started_dockerd=""
stop_dockerd() {
  if [ -n "$started_dockerd" ]; then
    echo "run-tests: stopping the Docker engine it started (pid $started_dockerd)"
    kill "$started_dockerd" 2>/dev/null || true
    # bounded: dockerd stops its containers and containerd first
    for _ in $(seq 1 60); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 1; done
  fi
}
trap stop_dockerd EXIT

if command -v docker >/dev/null && ! docker info >/dev/null 2>&1 && $as_root && command -v dockerd >/dev/null; then
  mkdir -p target
  # An engine that was killed leaves pid files behind, and dockerd refuses to start while one
  # names a process that exists (a zombie, or a pid since reused): remove those that name no
  # live dockerd or containerd.
  for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -z "$pid" ] || [ ! -r "/proc/$pid/comm" ] || grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" \
       || ! grep -qE '^(dockerd|containerd)$' "/proc/$pid/comm"; then
      echo "run-tests: removing the stale $pidfile"
      rm -f "$pidfile"
    fi
  done
  echo "run-tests: starting a Docker engine (log: target/dockerd.log)"
  dockerd --bridge=none --iptables=false --ip-masq=false > target/dockerd.log 2>&1 &
  started_dockerd=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "run-tests: dockerd did not answer within 60 s:"; tail -n 20 target/dockerd.log; }
fi

if docker info >/dev/null 2>&1; then
  docker/standin/build.sh
else
  echo "run-tests: no Docker engine: DockerImageTest is skipped"
fi

mvn -B verify "$@"
