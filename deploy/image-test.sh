#!/usr/bin/env bash
# The container image test, run by .ci/run: builds the image from the project's own Dockerfile with podman
# (no Docker engine, no Docker Hub) and runs it the way deploy/daemonset.yaml runs it, with a real capture inside.
#
#   sudo bash deploy/image-test.sh      # about 2 to 3 minutes; leaves no container, image, bridge or process
#
# Steps:
#  1. Installs podman, runc and mmdebstrap from apt where missing.
#  2. Builds the agent jar and the test classes with Maven.
#  3. Makes the base image offline, unless this machine already has it: debian:bookworm-slim is mmdebstrap's
#     minbase of bookworm with the merged-usr hook and the slim image's dpkg and apt settings.
#  4. Builds the Dockerfile's runtime stage. The Maven stage's image cannot be pulled here, so the jar built in
#     step 2 is handed in as an additional build context named after that stage ("build"), laid out where the
#     Dockerfile's COPY --from=build expects it; podman then has no need to build that stage.
#  5. Runs io.podcapture.image.ImageCheck (test code): what the image holds, and that its stream watchdog
#     (plugin/podcapture-watchdog) passes exit statuses on and ends its command at the end of input; the agent in a container with the
#     DaemonSet's security context, limits, environment and volumes (read from the manifest) capturing a
#     network-namespace Pod for the test API server on the host; podman stop during start-up and while capturing;
#     the image in controller mode with deploy/controller.yaml's user, security context and environment, taking
#     its Lease from the test API server and releasing it on podman stop; PODCAPTURE_MODE=bogus exiting 2.
#  6. Removes what it made and fails if anything it made is left.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

if [ "$(id -u)" -ne 0 ]; then
  echo "deploy/image-test.sh needs root: podman as root, real tcpdump, network namespaces" >&2
  exit 2
fi

need=()
for tool in podman runc mmdebstrap tcpdump; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
if [ "${#need[@]}" -gt 0 ]; then
  echo "image test: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
for tool in java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { echo "deploy/image-test.sh needs $tool on PATH" >&2; exit 2; }
done

work=$(mktemp -d /tmp/podcapture-image-test.XXXXXX)
image="localhost/podcapture-agent:image-test-$$"
prefix="podcapture-image-test-$$-"
base=docker.io/library/debian:bookworm-slim
made_base=
checker=

# Two quirks of hosts like this one (cgroup v1/v2 hybrid, root in a container), set for this script only:
# crun, podman's default runtime, refuses hybrid cgroups; podman's default ulimits are above what may be set.
export CONTAINERS_CONF="$work/containers.conf"
cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF

# What podman has and the bridges it would make (other tests on this machine make bridges and namespaces of
# their own meanwhile; this run's network namespaces are told apart by its checker's pid, below).
snapshot() {
  podman ps --all --format '{{.Names}}' | sort >"$work/$1.containers"
  podman images --all --format '{{.ID}}' | sort >"$work/$1.images"
  ip -o link show type bridge | awk -F': ' '$2 ~ /^(cni-)?podman/ {print $2}' | sort >"$work/$1.bridges"
}

# Removes what this run made, then fails the run if anything it made is still there.
cleanup() {
  local rc=$? left=0 kind
  set +e
  # The checker removes its containers and namespaces itself; if this script is ending early, end it first.
  if [ -n "$checker" ] && kill -0 "$checker" 2>/dev/null; then
    kill "$checker"
    wait "$checker"
  fi
  for name in $(podman ps --all --format '{{.Names}}' | grep -F -- "$prefix"); do
    podman rm --force "$name" >/dev/null
  done
  podman image exists "$image" && podman rmi --force "$image" >/dev/null
  [ -n "$made_base" ] && podman rmi --force "$base" >/dev/null
  snapshot after
  for kind in containers images bridges; do
    if [ -n "$(comm -13 "$work/before.$kind" "$work/after.$kind")" ]; then
      echo "image test: left behind ($kind): $(comm -13 "$work/before.$kind" "$work/after.$kind" | paste -sd' ')" >&2
      left=1
    fi
  done
  if [ -n "$checker" ] && ip netns list | grep -q "^podcap-$checker-"; then
    echo "image test: network namespaces left behind: $(ip netns list | grep "^podcap-$checker-" | paste -sd' ')" >&2
    left=1
  fi
  if pgrep -f -- "$prefix" >/dev/null; then
    echo "image test: processes left behind: $(pgrep -f -a -- "$prefix")" >&2
    left=1
  fi
  rm -rf "$work"
  if [ "$rc" -eq 0 ] && [ "$left" -ne 0 ]; then
    rc=1
  fi
  echo "image test: $([ "$rc" -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s"
  exit "$rc"
}
snapshot before
trap cleanup EXIT

step() {
  echo "image test: $1 ($((SECONDS - started)) s)"
}

step "building the agent jar and the test classes"
mvn -B -q package -DskipTests \
  dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$work/test.classpath"

if podman image exists "$base"; then
  step "using the $base already on this machine"
else
  step "making $base with mmdebstrap"
  # The slim image's settings: no man pages, docs (but copyrights) or translations; apt keeps no .debs, caches
  # or translations, and stores its lists compressed.
  mmdebstrap --quiet --variant=minbase --mode=root \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --aptopt='DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; }' \
    --aptopt='APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; }' \
    --aptopt='Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache ""' \
    --aptopt='Acquire::Languages "none"' \
    --aptopt='Acquire::GzipIndexes "true"' \
    bookworm "$work/base.tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" >"$work/mmdebstrap.log" 2>&1 \
    || { cat "$work/mmdebstrap.log" >&2; exit 1; }
  made_base=1
  podman import --quiet "$work/base.tar" "$base" >/dev/null
  rm -f "$work/base.tar"
fi

# Where the runtime stage takes the jar from in the build stage, e.g. /src/target/podcapture-agent.jar.
jar_in_stage=$(sed -n 's/^COPY --from=build \([^ ]*\) .*/\1/p' Dockerfile)
if [ -z "$jar_in_stage" ]; then
  echo "image test: the Dockerfile has no 'COPY --from=build <jar> ...' to hand the jar to" >&2
  exit 1
fi
mkdir -p "$work/build-stage$(dirname "$jar_in_stage")"
cp "target/$(basename "$jar_in_stage")" "$work/build-stage$jar_in_stage"

step "building $image from the Dockerfile's runtime stage"
# --network=host: apt in the RUN step needs the network, and the host's needs no bridge made for it.
# --layers=false: no intermediate images kept, so removing the image removes everything the build made.
podman build --quiet --pull=never --network=host --layers=false \
  --build-context build="$work/build-stage" --tag "$image" --file Dockerfile . >/dev/null

step "running the checks"
# In the background only to learn its pid, which names the network namespaces it makes (NetnsPod).
PODCAPTURE_PROJECT_DIR="$PWD" java -Xmx256m -Dorg.slf4j.simpleLogger.log.io.fabric8=error \
  -cp "target/test-classes:target/classes:$(cat "$work/test.classpath")" \
  io.podcapture.image.ImageCheck "$image" "$PWD" "$work" "$prefix" &
checker=$!
wait "$checker"
