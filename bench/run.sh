#!/usr/bin/env bash
# The agent's benchmark (issue 8): builds the jar and the benchmark, then measures start/stop latency, API cost,
# footprint, capture completeness with the Pod filter, and tcpdump's CPU time per packet with the old and the new
# Pod filter side by side, on this machine, and writes BENCHMARKS.md.
#
#   sudo bench/run.sh                      # everything, about 6 minutes on 2 cores
#   sudo bench/run.sh --phases=footprint   # one or more of: completeness,cpu,footprint,agent,lifecycles,load,
#                                          # sets,controller,lease,files
#
# 'agent' is 'lifecycles' (single captures by annotation and by direct PodCapture: latency, API writes) and 'load'
# (100 captures at once, steady state) on one agent.
#
# 'files' reads captures through the files API (issue 22) on its own real control plane: download throughput of a
# 100 MB file through the API server beside a local copy, the agent's and controller's memory and CPU during a 1 GB
# download, and first-byte latency of stream. It prints its figures and writes target/bench/files.md; like sets
# and controller, asked alone it leaves BENCHMARKS.md as it is.
#
# For tuning by hand (the results then say so): --flags="<JVM flags>" and --env=K=V,... replace the Dockerfile's
# for the shipped rows; --footprint=shipped measures only those; --rounds=N single captures of each kind instead
# of 60; --out=FILE writes the results elsewhere than BENCHMARKS.md; --diagnose=1 (with
# --flags="-XX:NativeMemoryTracking=summary ...") writes NMT, threads, smaps and a class histogram to
# target/bench/logs/; --pods=slim gives the Pods only the fields the agent reads.
#
# With controlplane/ (issue 19), the single captures also run against a real kube-apiserver that this script
# starts on loopback with controlplane/up.sh (built from the Go module proxy, cached under ~/.cache/podcapture)
# and stops at the end; BENCHMARKS.md then shows their start and stop latency beside the mock server's.
# --server=mock leaves it out.
#
# Needs root (real tcpdump, network namespaces), tcpdump, iproute2, ping, a JDK 17 with jcmd, and Maven.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "bench/run.sh needs root: it runs real tcpdump and creates network namespaces" >&2
  exit 2
fi
for tool in tcpdump ip ping jcmd mvn java; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/run.sh needs $tool on PATH" >&2; exit 2; }
done

mkdir -p target/bench
echo "building the agent jar and the benchmark..."
# The shipped jar, exactly as 'mvn -B package' makes it (JDK HTTP client only), and the agent's runtime classpath.
mvn -B -q package -DskipTests \
  dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile=target/bench/runtime.classpath
# The benchmark classes (src/bench/java, compiled with the tests only under profile 'bench') and their classpath.
mvn -B -q -Pbench test-compile \
  dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench/bench.classpath

driver_cp="target/test-classes:target/classes:$(cat target/bench/bench.classpath)"

# The real API server, when controlplane/ can start one: the CRD applied, the benchmark's node made (without its
# Node object the Pod garbage collector deletes Pods bound to it within a minute) and its namespace made and
# given its default ServiceAccount (Pods need it). Stopped, and its state deleted, when this script ends.
start_real() {
  local state=$1
  controlplane/up.sh "$state" >target/bench/controlplane.log 2>&1 || return 1
  # shellcheck source=/dev/null
  . "$state/control-plane.env"
  local k=("$KUBECTL" --kubeconfig "$state/admin.kubeconfig")
  "${k[@]}" apply -f crds/ >>target/bench/controlplane.log 2>&1 || return 1
  "${k[@]}" wait --for=condition=Established crd/podcaptures.tcpdump.antrea.io --timeout=60s \
    >>target/bench/controlplane.log 2>&1 || return 1
  "${k[@]}" create -f - >>target/bench/controlplane.log 2>&1 <<<'{"apiVersion":"v1","kind":"Node","metadata":{"name":"bench-node"}}' ||
    return 1
  "${k[@]}" create namespace bench >>target/bench/controlplane.log 2>&1 || return 1
  for _ in $(seq 60); do
    "${k[@]}" -n bench get serviceaccount default >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}
real_args=()
if [[ " $* " == *" --server=mock "* ]]; then
  real_args=("--real-unavailable=run with --server=mock")
elif [ -x controlplane/up.sh ]; then
  cp_state=$(mktemp -d /tmp/podcapture-bench-controlplane.XXXXXX)
  trap 'controlplane/down.sh "$cp_state" >/dev/null 2>&1 || true' EXIT
  echo "starting the real control plane (log: target/bench/controlplane.log)..."
  if start_real "$cp_state"; then
    # shellcheck source=/dev/null
    . controlplane/versions.env
    real_args=("--real-kubeconfig=$cp_state/admin.kubeconfig"
      "--real-server=kube-apiserver $KUBERNETES_VERSION (etcd $ETCD_VERSION)")
  else
    real_args=("--real-unavailable=controlplane/up.sh could not start one (see target/bench/controlplane.log)")
  fi
fi

rc=0
PODCAPTURE_PROJECT_DIR="$PWD" java -Xmx512m -cp "$driver_cp" io.podcapture.bench.Benchmark \
  --project="$PWD" \
  --jar=target/podcapture-agent.jar \
  --runtime-classpath=target/bench/runtime.classpath \
  --out=BENCHMARKS.md \
  --command="bench/run.sh${*:+ $*}" \
  ${real_args[@]+"${real_args[@]}"} \
  "$@" || rc=$?
exit "$rc"
