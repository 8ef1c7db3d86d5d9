#!/usr/bin/env bash
# Starts a real Kubernetes control plane on loopback: etcd, kube-apiserver and kube-controller-manager, built from
# source by build.sh (run here if the binaries are missing). No kubelet, scheduler or proxy: Pods are objects only.
#
#   controlplane/up.sh STATE_DIR
#
# Listens on 127.0.0.1 only, on free ports picked at start, so two control planes can run at once. Writes into
# STATE_DIR: pki/ (certificates made with openssl), admin.kubeconfig (O=system:masters), control-plane.env
# (APISERVER_URL, ETCD_URL, BIN_DIR, KUBECTL, CA_CERT, ETCD_PID, KUBE_APISERVER_PID, KUBE_CONTROLLER_MANAGER_PID,
# ...), logs/<component>.log and run/ (each component's argv and pid, for ctl.sh and down.sh).
# Returns once /readyz is ok and the controllers have made the default ServiceAccount, leaving the components
# running in sessions of their own. Stop them with ctl.sh (one) or down.sh (all, and delete STATE_DIR).
# Run again on a STATE_DIR it made: nothing if all three are up, else it stops what is left and starts afresh.
# shellcheck disable=SC2034 # ETCD_PID, STATE_DIR, ...: read by write_env through ${!key}
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=controlplane/lib.sh
. "$here/lib.sh"

if [ $# -ne 1 ] || [ -z "$1" ]; then echo "usage: $0 STATE_DIR" >&2; exit 2; fi
mkdir -p "$1"
STATE="$(cd "$1" && pwd)"
STATE_DIR="$STATE"

for tool in openssl curl ss setsid; do
  command -v "$tool" >/dev/null 2>&1 || die "needs $tool on PATH (apt-get install openssl curl iproute2 util-linux)"
done

if [ -e "$STATE/$MARKER" ]; then
  up=0
  for c in "${COMPONENTS[@]}"; do running "$c" && up=$((up + 1)); done
  if [ "$up" -eq "${#COMPONENTS[@]}" ]; then
    echo "control plane already up in $STATE"
    exit 0
  fi
  echo "control plane in $STATE was left half-stopped: stopping what remains and starting afresh" >&2
  for c in kube-controller-manager kube-apiserver etcd; do stop_component "$c"; done
  find "$STATE" -mindepth 1 -delete
elif [ -n "$(ls -A "$STATE")" ]; then
  die "$STATE is not empty and not a control-plane state folder; give an empty or new folder"
fi
touch "$STATE/$MARKER"
mkdir -p "$STATE/pki" "$STATE/logs" "$STATE/run"

# On failure, stop whatever was started so nothing is left running; the logs stay for a look.
on_exit() {
  local rc=$? c
  [ "$rc" -eq 0 ] && return 0
  for c in kube-controller-manager kube-apiserver etcd; do stop_component "$c" 5 || true; done
  echo "controlplane: up.sh failed; logs in $STATE/logs" >&2
}
trap on_exit EXIT

started=$(now)
BIN_DIR="$("$here/build.sh" | tail -n 1)"
KUBECTL="$BIN_DIR/kubectl"
[ -x "$BIN_DIR/kube-apiserver" ] || die "build.sh gave $BIN_DIR, which has no kube-apiserver"

# --- Ports ------------------------------------------------------------------------------------------------------
# Picked below the kernel's ephemeral range, so no outgoing connection can be holding one, and checked against
# every socket in use. Another process can still take one between the pick and the bind: a component that then
# fails with "address already in use" is started again on new ports.
read -r ephemeral_low _ < /proc/sys/net/ipv4/ip_local_port_range
picked=()
# free_port VAR: sets VAR (not a subshell's echo, so that picked[] remembers it).
free_port() {
  local _fp_used _fp_port _
  _fp_used="$(ss -Htan | awk '{ sub(/.*:/, "", $4); print $4 }')"
  for _ in $(seq 1 200); do
    _fp_port=$((10000 + RANDOM % (ephemeral_low - 10000)))
    if ! grep -qx "$_fp_port" <<< "$_fp_used" && ! [[ " ${picked[*]} " == *" $_fp_port "* ]]; then
      picked+=("$_fp_port")
      printf -v "$1" '%s' "$_fp_port"
      return 0
    fi
  done
  die "no free port found"
}

# --- Certificates -------------------------------------------------------------------------------------------------
# ECDSA P-256 keys in SEC1 form ("EC PRIVATE KEY"), which Go, kubectl and fabric8 all read: making one takes
# milliseconds where a 2048-bit RSA key took about a second on a busy 2-core machine.
pki="$STATE/pki"
SERVICE_CLUSTER_IP_RANGE=10.96.0.0/12
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$1.key"; }
ca() {
  key "$1"
  openssl req -x509 -new -sha256 -days 3650 -key "$pki/$1.key" -subj "/CN=$2" -out "$pki/$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
}
# signed NAME CA SUBJECT EXTENSIONS
signed() {
  key "$1"
  openssl req -new -sha256 -key "$pki/$1.key" -subj "$3" -out "$pki/$1.csr"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" "$4" \
    > "$pki/$1.ext"
  openssl x509 -req -sha256 -days 3650 -in "$pki/$1.csr" -CA "$pki/$2.crt" -CAkey "$pki/$2.key" \
    -CAcreateserial -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
  rm -f "$pki/$1.csr" "$pki/$1.ext"
}
t=$(now)
ca ca podcapture-local-ca
# 10.96.0.1 is the first address of the service range: the in-cluster name "kubernetes" resolves to it.
signed apiserver ca /CN=kube-apiserver \
  "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1"
signed admin ca "/O=system:masters/CN=podcapture-admin" "extendedKeyUsage=clientAuth"
signed kube-controller-manager ca /CN=system:kube-controller-manager "extendedKeyUsage=clientAuth"
# The ServiceAccount token signing pair: the controller manager signs with the private key, the API server signs
# TokenRequest tokens with it too and verifies them with the public one.
# RSA (RS256), the algorithm every token consumer accepts.
openssl genrsa -traditional -out "$pki/sa.key" 2048 2>/dev/null
openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
# The front proxy: the API server's client identity towards aggregated API servers, and the CA they trust.
ca front-proxy-ca podcapture-front-proxy-ca
signed front-proxy-client front-proxy-ca /CN=front-proxy-client "extendedKeyUsage=clientAuth"
rm -f "$pki"/*.srl
chmod 600 "$pki"/*.key
CA_CERT="$pki/ca.crt"
printf '%-24s %5s s\n' "certificates" "$(since "$t")"

# kubeconfig FILE USER: a kubeconfig with the CA and the user's certificate embedded, so it can be copied anywhere.
kubeconfig() {
  local b64ca b64crt b64key
  b64ca="$(base64 -w0 < "$CA_CERT")"
  b64crt="$(base64 -w0 < "$pki/$2.crt")"
  b64key="$(base64 -w0 < "$pki/$2.key")"
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: podcapture-local
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $b64ca
users:
- name: $2
  user:
    client-certificate-data: $b64crt
    client-key-data: $b64key
contexts:
- name: podcapture-local
  context:
    cluster: podcapture-local
    user: $2
current-context: podcapture-local
EOF
  chmod 600 "$1"
}

# start_with_retry NAME ARGV_BUILDER: builds the argv (picking ports), starts and waits for readiness; on a port
# taken meanwhile, picks again.
start_with_retry() {
  local name="$1" builder="$2" attempt t
  for attempt in 1 2 3; do
    t=$(now)
    "$builder"
    : > "$STATE/logs/$name.log"
    launch "$name"
    if wait_ready "$name"; then
      printf '%-24s %5s s  pid %s\n' "$name" "$(since "$t")" "$(pid_of "$name")"
      return 0
    fi
    stop_component "$name" 5
    if [ "$attempt" -lt 3 ] && grep -q "address already in use" "$STATE/logs/$name.log"; then
      echo "controlplane: $name found a port taken, trying new ports" >&2
      continue
    fi
    return 1
  done
  return 1
}

store_argv() {
  local name="$1"
  shift
  printf '%s\0' "$@" > "$STATE/run/$name.argv"
}

# --- etcd ------------------------------------------------------------------------------------------------------
# Plain http on loopback: only this machine's processes can reach it, and tests can call its JSON gateway
# (POST $ETCD_URL/v3/kv/compaction). --unsafe-no-fsync: nothing here must survive a power cut, and fsync is what
# makes etcd slow on a busy disk; a killed process loses nothing, as its writes are in the page cache.
etcd_argv() {
  local client peer
  free_port client
  free_port peer
  ETCD_URL="http://127.0.0.1:$client"
  ETCD_PEER_PORT="$peer"
  store_argv etcd "$BIN_DIR/etcd" \
    --name=podcapture \
    --data-dir="$STATE/etcd" \
    --listen-client-urls="$ETCD_URL" \
    --advertise-client-urls="$ETCD_URL" \
    --listen-peer-urls="http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls="http://127.0.0.1:$peer" \
    --initial-cluster="podcapture=http://127.0.0.1:$peer" \
    --initial-cluster-state=new \
    --unsafe-no-fsync=true \
    --log-level=warn
}
start_with_retry etcd etcd_argv
ETCD_PID="$(pid_of etcd)"

# --- kube-apiserver ------------------------------------------------------------------------------------------------
apiserver_argv() {
  local port
  free_port port
  APISERVER_URL="https://127.0.0.1:$port"
  store_argv kube-apiserver "$BIN_DIR/kube-apiserver" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="$port" \
    --etcd-servers="$ETCD_URL" \
    --tls-cert-file="$pki/apiserver.crt" \
    --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$CA_CERT" \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction,ValidatingAdmissionPolicy \
    --allow-privileged=true \
    --service-cluster-ip-range="$SERVICE_CLUSTER_IP_RANGE" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" \
    --service-account-signing-key-file="$pki/sa.key" \
    --requestheader-client-ca-file="$pki/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" \
    --proxy-client-key-file="$pki/front-proxy-client.key" \
    --endpoint-reconciler-type=none \
    --shutdown-send-retry-after=true
}
# --endpoint-reconciler-type=none: the "kubernetes" Service's endpoint would be 127.0.0.1, which Endpoints refuse
# (a loopback address), and the reconciler would log that error every 10 s; nothing here routes to it anyway.
# --shutdown-send-retry-after: on SIGTERM, drain the requests in flight and then give open watches 2 s, instead of
# waiting up to 60 s (the request timeout) for them to end: a stop by ctl.sh or down.sh takes seconds, not a
# minute, and clients see their watches closed as in a real API server's restart.
start_with_retry kube-apiserver apiserver_argv
KUBE_APISERVER_PID="$(pid_of kube-apiserver)"
KUBECONFIG_FILE="$STATE/admin.kubeconfig"
kubeconfig "$KUBECONFIG_FILE" admin
write_env

# --- kube-controller-manager ---------------------------------------------------------------------------------------
# Every controller, but the two that watch kubelets' heartbeats: with no kubelet, node-lifecycle-controller would
# mark every Node unreachable and taint it NoExecute, and taint-eviction-controller would then delete every Pod on
# it after 300 s. The garbage collector, the ServiceAccount and token controllers and the namespace controller run.
# --leader-elect=false: one instance, and a restart by ctl.sh need not wait out its predecessor's Lease.
kubeconfig "$STATE/kube-controller-manager.kubeconfig" kube-controller-manager
controller_manager_argv() {
  free_port KUBE_CONTROLLER_MANAGER_PORT
  store_argv kube-controller-manager "$BIN_DIR/kube-controller-manager" \
    --kubeconfig="$STATE/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="$STATE/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$KUBE_CONTROLLER_MANAGER_PORT" \
    --controllers='*,-node-lifecycle-controller,-taint-eviction-controller' \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$pki/sa.key" \
    --root-ca-file="$CA_CERT" \
    --cluster-signing-cert-file="$CA_CERT" \
    --cluster-signing-key-file="$pki/ca.key" \
    --service-cluster-ip-range="$SERVICE_CLUSTER_IP_RANGE" \
    --leader-elect=false
}
start_with_retry kube-controller-manager controller_manager_argv
KUBE_CONTROLLER_MANAGER_PID="$(pid_of kube-controller-manager)"
write_env

# The serviceaccount controller makes "default" in every namespace: its presence proves the controllers run.
t=$(now)
default_sa() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" -n default get serviceaccount default; }
wait_until kube-controller-manager 120 default_sa \
  || die "no default ServiceAccount after 120 s; log: $STATE/logs/kube-controller-manager.log"
printf '%-24s %5s s\n' "default ServiceAccount" "$(since "$t")"
printf '%-24s %5s s  %s\n' "control plane up" "$(since "$started")" "$APISERVER_URL"
echo "export KUBECONFIG=$KUBECONFIG_FILE"
