#!/usr/bin/env bash
# Try podcapture on this machine, in one command: a real control plane (etcd, kube-apiserver and
# kube-controller-manager, built from source by controlplane/build.sh), the CRDs, RBAC and policies as shipped, the
# agent and the controller from the built jar (one process each), and a demo Pod that pings.
#
#   sudo deploy/local-up.sh          # as root: the agent runs tcpdump, the demo Pod is a network namespace
#   deploy/local-down.sh             # stops it all and removes its state
#
# Needs Java 17, Maven, Go (first run only: the control plane build), tcpdump, iproute2, ping, openssl and curl.
# There is no kubelet: Pods are API objects that never run. The demo Pod's object stands for a network namespace
# this script makes, and the script writes its status (phase Running, podIPs) as a kubelet would. Commands that
# need a kubelet (kubectl exec, cp, logs) do not work here; the plugin's download and stream do, through the
# files API (deploy/files-api.yaml), which the API server reaches at the controller's port on this machine.
#
# Settings (environment):
#   PODCAPTURE_LOCAL_DIR   state folder (default ~/.cache/podcapture/local)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"

local_dir="${PODCAPTURE_LOCAL_DIR:-${HOME:-/root}/.cache/podcapture/local}"
cp_dir="$local_dir/controlplane"
capture_dir="$local_dir/capture"
demo_netns=podcapture-demo
demo_host_if=pcdemo-h
demo_pod_if=pcdemo-p
# The last /30 of the benchmarking range 198.18.0.0/15 and a ULA /64: the tests' network-namespace Pods pick
# theirs from the same ranges after checking `ip -o addr`, so they step around these.
demo_host_v4=198.19.255.253
demo_pod_v4=198.19.255.254
demo_host_v6=fd70:6361:7074:ffff::1
demo_pod_v6=fd70:6361:7074:ffff::2
agent_ns=kube-system

log() { printf '==> %s\n' "$*"; }
die() { printf 'local-up.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo): the agent runs tcpdump and the demo Pod is a network namespace"
missing=()
for tool in java tcpdump ip ping openssl curl setsid ss; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ "${#missing[@]}" -eq 0 ] || die "missing ${missing[*]}: install them (Debian: apt-get install openjdk-17-jre-headless tcpdump iproute2 iputils-ping openssl curl util-linux) and retry"

# A process this script started, by pid file, only while its cmdline still is what was recorded.
alive() {
  local pid
  [ -s "$local_dir/$1.pid" ] && [ -s "$local_dir/$1.cmdline" ] || return 1
  pid="$(cat "$local_dir/$1.pid")"
  cmp -s <(cat "/proc/$pid/cmdline" 2>/dev/null) "$local_dir/$1.cmdline"
}
# start NAME LOG SKIP ARGV...: in a session of its own, so it outlives this script and the terminal. The first SKIP
# words of ARGV are wrappers that exec the rest (env VAR=value..., ip netns exec NS): what is recorded, and then
# awaited, as its cmdline is what remains.
start() {
  local name="$1" logfile="$2" skip="$3" pid
  shift 3
  printf '%s\0' "${@:skip+1}" > "$local_dir/$name.cmdline"
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  pid=$!
  echo "$pid" > "$local_dir/$name.pid"
  for _ in $(seq 1 50); do
    alive "$name" && return 0
    sleep 0.1
  done
  die "$name did not start; see $logfile"
}

# The node is named after this host, as a kubelet would name it (lowercase, a DNS-1123 subdomain).
node="$(hostname | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9.\n-' '-' | sed 's/^[-.]*//; s/[-.]*$//')"
node="${node:-localhost}"
agent_pod="podcapture-agent-$node"
agent_pod="${agent_pod:0:63}"
agent_pod="${agent_pod%[-.]}"

mkdir -p "$local_dir" "$capture_dir"
echo "state: $local_dir"

# --- Control plane -------------------------------------------------------------------------------------------------
log "Control plane (controlplane/up.sh; the first run builds it from source, about 12 minutes)"
controlplane/up.sh "$cp_dir"
# shellcheck disable=SC1091 # written by controlplane/up.sh
. "$cp_dir/control-plane.env"
export KUBECONFIG="$cp_dir/admin.kubeconfig"
k() { "$KUBECTL" "$@"; }

if alive agent && alive controller && alive ping && ip netns list | grep -qw "$demo_netns"; then
  log "Already up"
else
  log "CRDs, RBAC and policies, as shipped"
  k apply -f crds/
  k wait --for=condition=Established crd/podcaptures.tcpdump.antrea.io crd/podcapturesets.tcpdump.antrea.io \
    --timeout=60s
  k apply -f deploy/rbac.yaml -f deploy/controller-rbac.yaml -f deploy/user-roles.yaml \
    -f deploy/node-restriction.yaml

  # The files API: the APIService as shipped, at a free port of this machine (the controller's FILES_API_PORT),
  # through a Service of type ExternalName localhost: the API server's aggregator dials https://localhost:<port>
  # and checks the controller's certificate against the APIService's caBundle, which the controller fills in.
  files_api_port=8443
  while ss -Htln | awk '{ print $4 }' | grep -q ":$files_api_port\$"; do files_api_port=$((files_api_port + 1)); done
  k apply -f deploy/files-api.yaml
  k patch apiservice v1alpha1.files.tcpdump.antrea.io --type=merge \
    -p "{\"spec\": {\"service\": {\"port\": $files_api_port}}}" >/dev/null
  k -n "$agent_ns" delete service podcapture-controller --ignore-not-found >/dev/null
  k apply -f - <<EOF
{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "podcapture-controller", "namespace": "$agent_ns"},
 "spec": {"type": "ExternalName", "externalName": "localhost",
          "ports": [{"name": "https", "port": $files_api_port, "protocol": "TCP"}]}}
EOF

  # --- The node and the agent's Pod object ------------------------------------------------------------------------
  log "Node $node and the agent's Pod object $agent_ns/$agent_pod"
  # The agent's file port, which the controller reads from its Pod (the container port named files): a Pod's
  # ports cannot change, so an existing Pod keeps its own.
  files_port="$(k -n "$agent_ns" get pod "$agent_pod" --ignore-not-found \
    -o jsonpath='{.spec.containers[0].ports[?(@.name=="files")].containerPort}')"
  if [ -z "$files_port" ]; then
    k -n "$agent_ns" delete pod "$agent_pod" --ignore-not-found --grace-period=0 --force >/dev/null 2>&1 || true
    files_port=9398
    while ss -Htln | awk '{ print $4 }' | grep -q ":$files_port\$"; do files_port=$((files_port + 1)); done
  fi
  k apply -f - <<EOF
{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "$node", "labels": {"kubernetes.io/hostname": "$node"}}}
EOF
  # The agent's ServiceAccount token is bound to this Pod, and because its spec.nodeName is set the token carries
  # the node-name claim that deploy/node-restriction.yaml's policies read: the agent writes as it would in a
  # DaemonSet Pod. The object never runs (no kubelet); the agent runs below, as a process of this machine.
  k apply -f - <<EOF
{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "$agent_pod", "namespace": "$agent_ns", "labels": {"app": "podcapture-agent", "app.kubernetes.io/name": "podcapture-agent"}},
 "spec": {"nodeName": "$node", "serviceAccountName": "podcapture-agent", "hostNetwork": true,
          "containers": [{"name": "agent", "image": "podcapture-agent:dev",
                          "ports": [{"name": "files", "containerPort": $files_port, "protocol": "TCP"}]}]}}
EOF
  # Its status as a kubelet would write it for a hostNetwork Pod: Running, with this machine's address.
  k -n "$agent_ns" patch pod "$agent_pod" --subresource=status --type=merge \
    -p '{"status": {"phase": "Running", "podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}], "hostIP": "127.0.0.1"}}' \
    >/dev/null
  # 30 days, for a demo left running; deploy/local-down.sh and local-up.sh make a new one.
  token="$(k -n "$agent_ns" create token podcapture-agent --bound-object-kind Pod --bound-object-name "$agent_pod" --duration 720h)"
  agent_kubeconfig="$local_dir/agent.kubeconfig"
  (
    umask 077
    cat > "$agent_kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: podcapture-local
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(base64 -w0 < "$CA_CERT")
users:
- name: podcapture-agent
  user:
    token: $token
contexts:
- name: podcapture-agent
  context:
    cluster: podcapture-local
    user: podcapture-agent
current-context: podcapture-agent
EOF
  )

  # The controller's ServiceAccount token, not bound to a Pod (it belongs to no node; no node-restriction policy
  # limits it), for a kubeconfig of its own.
  controller_token="$(k -n "$agent_ns" create token podcapture-controller --duration 720h)"
  controller_kubeconfig="$local_dir/controller.kubeconfig"
  (
    umask 077
    cat > "$controller_kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: podcapture-local
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(base64 -w0 < "$CA_CERT")
users:
- name: podcapture-controller
  user:
    token: $controller_token
contexts:
- name: podcapture-controller
  context:
    cluster: podcapture-local
    user: podcapture-controller
current-context: podcapture-controller
EOF
  )

  # --- The agent ----------------------------------------------------------------------------------------------------
  jar="$repo/target/podcapture-agent.jar"
  if [ ! -f "$jar" ]; then
    log "Building the agent jar (mvn -B -q package -DskipTests)"
    command -v mvn >/dev/null 2>&1 || die "missing mvn: install Maven and retry"
    mvn -B -q package -DskipTests > "$local_dir/build.log" 2>&1 \
      || { tail -n 40 "$local_dir/build.log" >&2; die "the build failed; log: $local_dir/build.log"; }
  fi
  # Its HTTP port is a port of this machine (as with hostNetwork in the DaemonSet): 9397 unless taken.
  http_port=9397
  while ss -Htln | awk '{ print $4 }' | grep -q ":$http_port\$"; do http_port=$((http_port + 1)); done
  if alive agent; then
    kill -TERM "$(cat "$local_dir/agent.pid")"
    for _ in $(seq 1 100); do alive agent || break; sleep 0.1; done
  fi
  # The JVM flags of the image (Dockerfile), so the agent runs here as in the DaemonSet.
  jvm_flags=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -XX:MaxRAM=192m -Xmx32m -Xmn4m
    -XX:MaxMetaspaceSize=64m -XX:+ExitOnOutOfMemoryError)
  log "Agent for node $node (log: $local_dir/agent.log, captures in $capture_dir)"
  # FILES_TLS_DIR stands for the DaemonSet's Secret volume: this script copies the Secret there once the
  # controller has made it, as a kubelet would.
  agent_tls="$local_dir/agent-tls"
  mkdir -p "$agent_tls"
  chmod 700 "$agent_tls"
  agent_env=(KUBECONFIG="$agent_kubeconfig" NODE_NAME="$node" POD_NAME="$agent_pod" POD_NAMESPACE="$agent_ns"
    CAPTURE_DIR="$capture_dir" HTTP_PORT="$http_port" FILES_PORT="$files_port" FILES_TLS_DIR="$agent_tls")
  start agent "$local_dir/agent.log" $((1 + ${#agent_env[@]})) env "${agent_env[@]}" java "${jvm_flags[@]}" -jar "$jar"
  echo "$http_port" > "$local_dir/agent.port"
  ready=false
  for _ in $(seq 1 120); do
    if curl -sf --max-time 2 "http://127.0.0.1:$http_port/readyz" >/dev/null; then ready=true; break; fi
    alive agent || break
    sleep 0.5
  done
  [ "$ready" = true ] || { tail -n 30 "$local_dir/agent.log" >&2; die "the agent did not get ready; log: $local_dir/agent.log"; }

  # --- The controller -----------------------------------------------------------------------------------------------
  # One replica (the Deployment runs two); it takes the Lease podcapture-controller in $agent_ns at once. Its
  # HTTP port is the next free one after the agent's.
  controller_port=$((http_port + 1))
  while ss -Htln | awk '{ print $4 }' | grep -q ":$controller_port\$"; do controller_port=$((controller_port + 1)); done
  if alive controller; then
    kill -TERM "$(cat "$local_dir/controller.pid")"
    for _ in $(seq 1 100); do alive controller || break; sleep 0.1; done
  fi
  log "Controller (log: $local_dir/controller.log)"
  controller_env=(KUBECONFIG="$controller_kubeconfig" PODCAPTURE_MODE=controller POD_NAME="podcapture-controller-$node"
    POD_NAMESPACE="$agent_ns" HTTP_PORT="$controller_port" FILES_API_PORT="$files_api_port")
  start controller "$local_dir/controller.log" $((1 + ${#controller_env[@]})) env "${controller_env[@]}" \
    java "${jvm_flags[@]}" -jar "$jar"
  echo "$controller_port" > "$local_dir/controller.port"
  ready=false
  for _ in $(seq 1 120); do
    if curl -sf --max-time 2 "http://127.0.0.1:$controller_port/readyz" >/dev/null; then ready=true; break; fi
    alive controller || break
    sleep 0.5
  done
  [ "$ready" = true ] || { tail -n 30 "$local_dir/controller.log" >&2; die "the controller did not get ready; log: $local_dir/controller.log"; }

  # --- The files API -------------------------------------------------------------------------------------------------
  log "Files API: the agents' certificate (Secret podcapture-agent-tls) into $agent_tls; the APIService available"
  for _ in $(seq 1 60); do
    k -n "$agent_ns" get secret podcapture-agent-tls >/dev/null 2>&1 && break
    sleep 1
  done
  (
    umask 077
    k -n "$agent_ns" get secret podcapture-agent-tls -o 'jsonpath={.data.tls\.key}' | base64 -d > "$agent_tls/.tls.key"
    k -n "$agent_ns" get secret podcapture-agent-tls -o 'jsonpath={.data.tls\.crt}' | base64 -d > "$agent_tls/.tls.crt"
    mv -f "$agent_tls/.tls.key" "$agent_tls/tls.key"
    mv -f "$agent_tls/.tls.crt" "$agent_tls/tls.crt"
  ) || die "no Secret podcapture-agent-tls from the controller; log: $local_dir/controller.log"
  k wait --for=condition=Available apiservice/v1alpha1.files.tcpdump.antrea.io --timeout=60s >/dev/null \
    || die "the files API is not available; log: $local_dir/controller.log"
  # The agent looks for its certificate every 10 s.
  for _ in $(seq 1 30); do
    grep -q "files server on port" "$local_dir/agent.log" && break
    sleep 1
  done

  # --- The demo Pod ------------------------------------------------------------------------------------------------
  log "Demo Pod default/demo: network namespace $demo_netns pinging $demo_host_v4"
  if ! ip netns list | grep -qw "$demo_netns"; then
    ip netns add "$demo_netns"
    ip link add "$demo_host_if" type veth peer name "$demo_pod_if" netns "$demo_netns"
    ip addr add "$demo_host_v4/30" dev "$demo_host_if"
    ip -6 addr add "$demo_host_v6/64" dev "$demo_host_if" nodad
    ip link set "$demo_host_if" up
    ip -n "$demo_netns" link set lo up
    ip -n "$demo_netns" addr add "$demo_pod_v4/30" dev "$demo_pod_if"
    ip -n "$demo_netns" -6 addr add "$demo_pod_v6/64" dev "$demo_pod_if" nodad
    ip -n "$demo_netns" link set "$demo_pod_if" up
  fi
  alive ping || start ping /dev/null 4 ip netns exec "$demo_netns" ping -q -i 1 "$demo_host_v4"
  k apply -f - <<EOF
{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "demo", "namespace": "default", "labels": {"app": "demo"}},
 "spec": {"nodeName": "$node", "containers": [{"name": "ping", "image": "busybox", "command": ["ping", "$demo_host_v4"]}]}}
EOF
  # What a kubelet would write once the Pod runs: the agent reads podIPs to find the Pod's traffic.
  now_ts="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  k -n default patch pod demo --subresource=status --type=merge -p "$(cat <<EOF
{"status": {"phase": "Running", "podIP": "$demo_pod_v4", "podIPs": [{"ip": "$demo_pod_v4"}, {"ip": "$demo_pod_v6"}],
 "hostIP": "127.0.0.1", "startTime": "$now_ts",
 "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "$now_ts"}],
 "containerStatuses": [{"name": "ping", "image": "busybox", "imageID": "", "ready": true, "restartCount": 0,
                        "started": true, "state": {"running": {"startedAt": "$now_ts"}}}]}}
EOF
)" >/dev/null
fi

plugin="$repo/plugin"
cat <<EOF

podcapture is up on this machine: a control plane on $APISERVER_URL, the agent for node $node, the
controller, and the demo Pod default/demo (a network namespace pinging $demo_host_v4 every second).
No kubelet runs: Pods are API objects only, so kubectl exec, cp and logs do not work here; the plugin's download
and stream do, through the files API. The capture files are on this machine, under $capture_dir.

Try:
  export KUBECONFIG=$KUBECONFIG PATH=$BIN_DIR:$plugin:\$PATH
  kubectl annotate pod demo tcpdump.antrea.io=5        # the agent starts capturing the demo Pod
  kubectl get podcaptures                              # demo: Running; BYTES grows (status every 10 s)
  kubectl describe podcapture demo
  tcpdump -nr $capture_dir/default/capture-demo.pcap0 | head
  kubectl podcapture download demo -o out              # its files, through the files API, into out/
  kubectl podcapture stream demo | tcpdump -nr - -c 3  # live: the next 3 packets
  kubectl annotate pod demo tcpdump.antrea.io-         # stops it, the files are deleted
  kubectl podcapture start demo --filter icmp --count 5 --wait
  kubectl podcapture start -l app=demo --duration 60 --name demo-set --wait   # a PodCaptureSet
  kubectl podcapture list
  kubectl podcapture stop demo-set                     # the set, its capture and their files
  kubectl podcapture stop demo

Agent log: $local_dir/agent.log    Controller log: $local_dir/controller.log
Control plane logs: $cp_dir/logs/
Stop it all: deploy/local-down.sh
EOF
