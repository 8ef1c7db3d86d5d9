#!/usr/bin/env bash
# Stops or starts again one component of a control plane that up.sh started, for fault tests.
#
#   controlplane/ctl.sh STATE_DIR stop|start etcd|kube-apiserver|kube-controller-manager
#
# stop: SIGTERM, SIGKILL after 15 s, and waits until the process is gone; its pid in control-plane.env becomes
# empty. start: the exact argv it had (stored NUL-separated in STATE_DIR/run/, never re-read through a shell),
# so the same ports and files; waits until it is ready (/readyz for kube-apiserver) and writes the new pid into
# control-plane.env. Both are no-ops when the component already is in the state asked for.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=controlplane/lib.sh
. "$here/lib.sh"

usage() { echo "usage: $0 STATE_DIR stop|start etcd|kube-apiserver|kube-controller-manager" >&2; exit 2; }
[ $# -eq 3 ] || usage
[ -d "$1" ] || die "$1: no such folder"
STATE="$(cd "$1" && pwd)"
action="$2"
name="$3"
is_component "$name" || usage
[ -f "$STATE/run/$name.argv" ] || die "$STATE/run/$name.argv not found: was $STATE made by controlplane/up.sh?"
load_env
key="$(pid_key "$name")"

case "$action" in
  stop)
    t=$(now)
    stop_component "$name"
    printf -v "$key" '%s' ""
    write_env
    printf '%-24s %5s s  stopped\n' "$name" "$(since "$t")"
    ;;
  start)
    t=$(now)
    if running "$name"; then
      echo "$name already running (pid $(pid_of "$name"))"
      exit 0
    fi
    launch "$name"
    wait_ready "$name" || { stop_component "$name" 5; exit 1; }
    printf -v "$key" '%s' "$(pid_of "$name")"
    write_env
    printf '%-24s %5s s  pid %s\n' "$name" "$(since "$t")" "${!key}"
    ;;
  *) usage ;;
esac
