#!/usr/bin/env bash
# Deletes the quick-start kind cluster made by deploy/kind-up.sh, and all in it.
#
#   deploy/kind-down.sh
#
# Settings (environment):
#   CLUSTER_NAME  kind cluster name (default podcapture)
set -euo pipefail

CLUSTER_NAME="${CLUSTER_NAME:-podcapture}"

die() { printf 'kind-down.sh: %s\n' "$*" >&2; exit 1; }

command -v kind >/dev/null 2>&1 || die "kind is not on PATH: install it and retry"

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  kind delete cluster --name "$CLUSTER_NAME"
else
  echo "kind-down.sh: no kind cluster named ${CLUSTER_NAME}, nothing to delete"
fi
