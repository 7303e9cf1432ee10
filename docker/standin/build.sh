#!/usr/bin/env bash
# Builds and tags a local stand-in for apache/james:memory-3.8.1, the official image
# docker/Dockerfile starts FROM, when that tag is absent (no registry can be reached here).
# A machine that has, or can pull, the real image keeps the real one: this script then does
# nothing. README.md beside it says how the stand-in differs from the real image.
#
# Slow part, cached: the Debian bullseye root file system with OpenJDK 11 (debootstrap), kept
# as the local image james-atrn-standin/jre11:bullseye. Delete that image to rebuild it.
# Needs: root, docker, debootstrap, mvn.
set -euo pipefail
cd "$(dirname "$0")"
TAG=apache/james:memory-3.8.1
BASE=james-atrn-standin/jre11:bullseye
export DOCKER_BUILDKIT=0

if docker image inspect "$TAG" >/dev/null 2>&1; then
  if [ "$(docker image inspect -f '{{index .Config.Labels "dev.jamesatrn.standin"}}' "$TAG")" = "true" ]; then
    echo "standin: $TAG is the local stand-in, already built"
  else
    echo "standin: $TAG is present (the official image): nothing to build"
  fi
  exit 0
fi

# The Debian mirror apt already uses on this machine, or debootstrap's own default.
debian_mirror() {
  local uri
  uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
  if [ -z "$uri" ]; then
    uri=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
  fi
  echo "$uri"
}

work=$(mktemp -d /tmp/james-standin.XXXXXX)
cleanup() {
  mountpoint -q "$work/rootfs/proc" 2>/dev/null && umount "$work/rootfs/proc"
  rm -rf "$work"
}
trap cleanup EXIT

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { echo "standin: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  [ "$(id -u)" -eq 0 ] || { echo "standin: debootstrap needs root" >&2; exit 1; }
  echo "standin: building $BASE with debootstrap (about a minute) ..."
  # shellcheck disable=SC2046
  debootstrap --variant=minbase --include=openjdk-11-jre-headless,ca-certificates \
    bullseye "$work/rootfs" $(debian_mirror) > "$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --message "Debian bullseye minbase + openjdk-11-jre-headless (james-atrn stand-in base)" \
    - "$BASE" >/dev/null
  rm -rf "$work/rootfs"
fi

echo "standin: laying out James 3.8.1's memory app from Maven Central ..."
mvn -B -q -f pom.xml package
context="$work/context"
mkdir -p "$context/extensions-jars"
cp -r target/layout/libs target/layout/jib-classpath-file "$context/"
printf 'org.apache.james.MemoryJamesServerMain' > "$context/jib-main-class-file"
# The image's conf/: James's sample-configuration/, then its docker-configuration/ on top, whose
# only file is webadmin.properties with WebAdmin on every address instead of localhost.
cp -r target/dist/james-server-memory-app/conf "$context/conf"
sed -i 's/^host=localhost$/host=0.0.0.0/' "$context/conf/webadmin.properties"
grep -q '^host=0.0.0.0$' "$context/conf/webadmin.properties" \
  || { echo "standin: James's webadmin.properties changed shape; update build.sh" >&2; exit 1; }
cp james-cli "$context/james-cli"
cp Dockerfile "$context/Dockerfile"
docker build --network host --build-arg "BASE=$BASE" --label dev.jamesatrn.standin=true -t "$TAG" "$context"
echo "standin: built $TAG"
