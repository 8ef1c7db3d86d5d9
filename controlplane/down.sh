#!/usr/bin/env bash
# Stops everything controlplane/up.sh started in STATE_DIR and deletes STATE_DIR.
#
#   controlplane/down.sh STATE_DIR
#
# Each component is stopped by its pid file, and only while /proc/<pid>/cmdline is still exactly the argv up.sh
# gave it (a reused pid is never signalled): SIGTERM, SIGKILL after 15 s. Idempotent: a missing folder is fine.
# A folder without up.sh's marker file is left alone, so a mistyped path never gets deleted.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=controlplane/lib.sh
. "$here/lib.sh"

if [ $# -ne 1 ] || [ -z "$1" ]; then echo "usage: $0 STATE_DIR" >&2; exit 2; fi
[ -d "$1" ] || exit 0
STATE="$(cd "$1" && pwd)"
[ -e "$STATE/$MARKER" ] || die "$STATE has no $MARKER file: not a control-plane state folder, leaving it alone"

for name in kube-controller-manager kube-apiserver etcd; do
  if running "$name"; then
    t=$(now)
    stop_component "$name"
    printf '%-24s %5s s  stopped\n' "$name" "$(since "$t")"
  fi
done
rm -rf "$STATE"
