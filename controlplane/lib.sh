# Shared by up.sh, ctl.sh and down.sh (sourced, not run). Everything a component needs to be started again or
# stopped lives in the state folder:
#   run/<component>.argv   its argv, NUL-separated (never a shell string), so ctl.sh starts it exactly as before
#   run/<component>.pid    its pid
#   logs/<component>.log   its stdout and stderr
# A pid counts as the component only while /proc/<pid>/cmdline equals the stored argv byte for byte: a reused pid,
# or a zombie (whose cmdline is empty), never does, so nothing else is ever signalled.
# shellcheck shell=bash

COMPONENTS=(etcd kube-apiserver kube-controller-manager)
# The file whose presence marks a folder as one of ours; down.sh deletes no folder without it.
# shellcheck disable=SC2034 # used by the scripts that source this
MARKER=.podcapture-controlplane

die() {
  echo "controlplane: $*" >&2
  exit 1
}

is_component() {
  local c
  for c in "${COMPONENTS[@]}"; do [ "$c" = "$1" ] && return 0; done
  return 1
}

# Seconds since the epoch with microseconds, for "ready in 1.2 s" lines.
now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

pid_of() {
  local f="$STATE/run/$1.pid"
  [ -s "$f" ] && cat "$f"
}

# same_cmdline PID FILE: true while process PID's argv is FILE's NUL-separated argv. Read through a pipe: /proc
# files report size 0, and cmp -s calls two regular files of different sizes different without reading them.
same_cmdline() {
  cmp -s <(cat "/proc/$1/cmdline" 2>/dev/null) "$2"
}

# True while the component's recorded pid is still that component.
running() {
  local pid
  pid="$(pid_of "$1")" || return 1
  [ -n "$pid" ] && same_cmdline "$pid" "$STATE/run/$1.argv"
}

# Starts a component from its stored argv in a session of its own (setsid), so it outlives the script and the
# terminal that started it. setsid execs in place (a background job of a script is no process-group leader), so $!
# is the component's own pid; running() checks that it is.
launch() {
  local name="$1" pid _
  local -a argv
  mapfile -d '' argv < "$STATE/run/$name.argv"
  mkdir -p "$STATE/logs"
  setsid "${argv[@]}" >>"$STATE/logs/$name.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" > "$STATE/run/$name.pid"
  for _ in $(seq 1 50); do
    running "$name" && return 0
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  running "$name" || { tail -n 20 "$STATE/logs/$name.log" >&2; die "$name (pid $pid) did not start; log: $STATE/logs/$name.log"; }
}

# SIGTERM, then SIGKILL after a grace, and waits until the process is gone. A no-op if it is not running.
stop_component() {
  local name="$1" grace="${2:-15}" pid _
  running "$name" || { rm -f "$STATE/run/$name.pid"; return 0; }
  pid="$(pid_of "$name")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((grace * 10))); do
    running "$name" || break
    sleep 0.1
  done
  if running "$name"; then
    echo "controlplane: $name (pid $pid) still running ${grace} s after SIGTERM, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      running "$name" || break
      sleep 0.1
    done
  fi
  running "$name" && die "$name (pid $pid) would not stop"
  rm -f "$STATE/run/$name.pid"
}

# Polls until a command succeeds, the component dies, or the timeout passes. Returns 0, 1 (died) or 2 (timeout).
wait_until() {
  local name="$1" timeout="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  while [ "$SECONDS" -lt "$deadline" ]; do
    "$@" >/dev/null 2>&1 && return 0
    running "$name" || return 1
    sleep 0.3
  done
  return 2
}

# The readiness check of each component, from the values in control-plane.env.
etcd_healthy() { curl -sf --max-time 2 "$ETCD_URL/health" | grep -q '"health":"true"'; }
apiserver_ready() {
  curl -sf --max-time 5 --cacert "$CA_CERT" --cert "$STATE/pki/admin.crt" --key "$STATE/pki/admin.key" \
    "$APISERVER_URL/readyz" | grep -qx ok
}
controller_manager_healthy() { curl -skf --max-time 2 "https://127.0.0.1:$KUBE_CONTROLLER_MANAGER_PORT/healthz" | grep -qx ok; }

# Waits for the component's readiness check; on failure shows the end of its log and fails.
wait_ready() {
  local name="$1" timeout="${2:-180}" check rc=0
  case "$name" in
    etcd) check=etcd_healthy ;;
    kube-apiserver) check=apiserver_ready ;;
    kube-controller-manager) check=controller_manager_healthy ;;
  esac
  wait_until "$name" "$timeout" "$check" || rc=$?
  case "$rc" in
    0) return 0 ;;
    1) tail -n 30 "$STATE/logs/$name.log" >&2; echo "controlplane: $name exited; log: $STATE/logs/$name.log" >&2 ;;
    *) tail -n 30 "$STATE/logs/$name.log" >&2; echo "controlplane: $name not ready after $timeout s; log: $STATE/logs/$name.log" >&2 ;;
  esac
  return 1
}

# control-plane.env: KEY=value lines, values shell-quoted (plain paths and URLs come out unquoted), so a test can
# read it as properties and a script can source it.
ENV_KEYS=(APISERVER_URL ETCD_URL BIN_DIR KUBECTL CA_CERT KUBECONFIG_FILE STATE_DIR
  ETCD_PID KUBE_APISERVER_PID KUBE_CONTROLLER_MANAGER_PID
  ETCD_PEER_PORT KUBE_CONTROLLER_MANAGER_PORT SERVICE_CLUSTER_IP_RANGE)
write_env() {
  local key tmp="$STATE/control-plane.env.tmp"
  : > "$tmp"
  for key in "${ENV_KEYS[@]}"; do
    printf '%s=%q\n' "$key" "${!key:-}" >> "$tmp"
  done
  sed -i "s/=''\$/=/" "$tmp"
  mv "$tmp" "$STATE/control-plane.env"
}

# The env key holding a component's pid: kube-apiserver -> KUBE_APISERVER_PID.
pid_key() {
  local key="${1//-/_}_PID"
  echo "${key^^}"
}

load_env() {
  [ -f "$STATE/control-plane.env" ] || die "$STATE/control-plane.env not found: is $STATE a folder made by controlplane/up.sh?"
  # shellcheck disable=SC1091 # written by write_env, values %q-quoted
  . "$STATE/control-plane.env"
}
