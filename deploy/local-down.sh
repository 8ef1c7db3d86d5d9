#!/usr/bin/env bash
# Undoes deploy/local-up.sh: stops the controller, the agent and the demo Pod's ping, deletes the demo network
# namespace, stops the control plane and removes the state folder (the capture files with it). Safe to run again.
#
#   sudo deploy/local-down.sh
#
# Settings (environment):
#   PODCAPTURE_LOCAL_DIR   state folder (default ~/.cache/podcapture/local), as given to local-up.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

local_dir="${PODCAPTURE_LOCAL_DIR:-${HOME:-/root}/.cache/podcapture/local}"
demo_netns=podcapture-demo

log() { printf '==> %s\n' "$*"; }

# Stops a process local-up.sh started, by pid file, only while its cmdline still is what was recorded (a reused
# pid is never signalled): SIGTERM, and SIGKILL 15 s later.
stop() {
  local name="$1" pid
  [ -s "$local_dir/$name.pid" ] && [ -s "$local_dir/$name.cmdline" ] || return 0
  pid="$(cat "$local_dir/$name.pid")"
  cmp -s <(cat "/proc/$pid/cmdline" 2>/dev/null) "$local_dir/$name.cmdline" || return 0
  log "Stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    cmp -s <(cat "/proc/$pid/cmdline" 2>/dev/null) "$local_dir/$name.cmdline" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# The controller and the agent first, while the control plane is still up: the controller releases its Lease,
# the agent stops its tcpdumps and tidies up as on a node.
stop controller
stop agent
stop ping
if ip netns list 2>/dev/null | grep -qw "$demo_netns"; then
  log "Deleting network namespace $demo_netns"
  ip netns delete "$demo_netns"
fi
if [ -d "$local_dir/controlplane" ]; then
  log "Stopping the control plane"
  controlplane/down.sh "$local_dir/controlplane"
fi
rm -rf "$local_dir"
echo "podcapture's local setup is gone ($local_dir removed)"
