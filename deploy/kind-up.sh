#!/usr/bin/env bash
# Quick start: a kind cluster with Antrea and podcapture (the agents and the controller), in one command.
#
#   deploy/kind-up.sh
#
# Needs docker (with a running engine), kind, kubectl and helm. Safe to run
# again: it reuses the cluster, upgrades Antrea, rebuilds and reloads the image
# and restarts the agents and the controller so they run the new one. Remove it all with
# deploy/kind-down.sh.
#
# Settings (environment):
#   CLUSTER_NAME          kind cluster name (default podcapture, as in kind-config.yaml)
#   ANTREA_CHART_VERSION  Antrea Helm chart version (default: the latest)
set -euo pipefail

CLUSTER_NAME="${CLUSTER_NAME:-podcapture}"
ANTREA_CHART_VERSION="${ANTREA_CHART_VERSION:-}"
IMAGE="podcapture-agent:dev"
TIMEOUT="300s"

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'kind-up.sh: %s\n' "$*" >&2; exit 1; }

# Work from the repository root whatever the caller's directory.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
  die "missing ${missing[*]}: install docker, kind, kubectl and helm and put them on PATH"
fi
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine: start it (or check your permissions) and retry"

# Every kubectl and helm call names the kind cluster's context, so nothing ever
# lands on another cluster whatever the current context is.
context="kind-${CLUSTER_NAME}"
k() { kubectl --context "$context" "$@"; }

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  log "Reusing kind cluster ${CLUSTER_NAME}"
else
  log "Creating kind cluster ${CLUSTER_NAME} (1 control plane, 2 workers, no default CNI)"
  kind create cluster --name "$CLUSTER_NAME" --config kind-config.yaml
fi

log "Installing Antrea with Helm"
helm repo add antrea https://charts.antrea.io --force-update >/dev/null
# (The ${a[@]+...} form below keeps an empty array safe under set -u in bash 3.2.)
chart_version=()
if [[ -n "$ANTREA_CHART_VERSION" ]]; then
  chart_version=(--version "$ANTREA_CHART_VERSION")
fi
helm upgrade --install antrea antrea/antrea --namespace kube-system \
  --kube-context "$context" ${chart_version[@]+"${chart_version[@]}"}

log "Waiting for Antrea and the nodes"
k -n kube-system rollout status deployment/antrea-controller --timeout="$TIMEOUT"
k -n kube-system rollout status daemonset/antrea-agent --timeout="$TIMEOUT"
k wait --for=condition=Ready nodes --all --timeout="$TIMEOUT"

log "Building ${IMAGE}"
docker build -t "$IMAGE" .

log "Loading ${IMAGE} into the kind nodes"
kind load docker-image "$IMAGE" --name "$CLUSTER_NAME"

log "Installing podcapture: CRDs, agent, controller, policies and user roles (kubectl apply -k deploy/)"
existed=false
if k -n kube-system get daemonset/podcapture-agent >/dev/null 2>&1; then
  existed=true
fi
k apply -k deploy/
if [[ "$existed" == true ]]; then
  # Same image tag, new image: the Pods only pick it up when restarted.
  k -n kube-system rollout restart daemonset/podcapture-agent deployment/podcapture-controller
fi
k -n kube-system rollout status daemonset/podcapture-agent --timeout="$TIMEOUT"
k -n kube-system rollout status deployment/podcapture-controller --timeout="$TIMEOUT"

cat <<NEXT

podcapture is running on kind cluster ${CLUSTER_NAME} (context ${context}). Try it:
  kubectl apply -f deploy/test-pod.yaml
  kubectl wait --for=condition=Ready pod/test-ping
  kubectl annotate pod test-ping tcpdump.antrea.io="5"
  kubectl get podcaptures
  export PATH="\$PWD/plugin:\$PATH"          # the kubectl podcapture plugin
  kubectl podcapture start -l app=test-ping --duration 60
  kubectl get podcapturesets
NEXT
