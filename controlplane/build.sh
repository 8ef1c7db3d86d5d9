#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and a kubectl of the same release from the Go module proxy (and nothing else), at the
# versions in versions.env, into a cache outside the repository keyed by those versions. A second run finds the
# binaries and returns at once. Prints the folder that holds the binaries as its last line.
#
#   controlplane/build.sh            # build if missing, print the bin folder
#   PODCAPTURE_CACHE=/some/dir ...   # another cache root (default ~/.cache/podcapture)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=controlplane/versions.env
. "$here/versions.env"

cache="${PODCAPTURE_CACHE:-${HOME:-/root}/.cache/podcapture}"
out="$cache/controlplane-$KUBERNETES_VERSION-etcd-$ETCD_VERSION"
bin="$out/bin"
commands=(etcd kube-apiserver kube-controller-manager kubectl)

have_all() {
  local c
  for c in "${commands[@]}"; do [ -x "$bin/$c" ] || return 1; done
}
if have_all; then
  echo "$bin"
  exit 0
fi

# One build at a time per version (two control planes started at once both find the binaries missing): the
# second waits here, then finds them built.
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
if have_all; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null 2>&1 || { echo "build.sh: needs Go (go1.26 or newer) on PATH" >&2; exit 1; }
started=$SECONDS
src="$out/src"
rm -rf "$src"
mkdir -p "$src" "$bin"
cp -R "$here/module/." "$src/"

# k8s.io/kubernetes names its staging modules as v0.0.0 with replace directives to ./staging, which a module that
# depends on it does not inherit: every one gets pinned here to the release's published version instead.
{
  echo "module podcapture.local/controlplane"
  echo
  echo "go 1.26.0"
  echo
  echo "require ("
  echo "	k8s.io/kubernetes $KUBERNETES_VERSION"
  echo "	go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  echo ")"
  echo
  echo "replace ("
  while read -r staging; do
    case "$staging" in '#'* | '') continue ;; esac
    echo "	$staging => $staging $STAGING_VERSION"
  done < "$here/staging-modules.txt"
  echo ")"
} > "$src/go.mod"

# The release's own version strings, as its Makefile stamps them, so /version and kubectl version tell the truth.
minor="${KUBERNETES_VERSION#v1.}"
minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean"
done

cd "$src"
export GOFLAGS="-mod=mod"
echo "build.sh: resolving modules (k8s.io/kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION)" >&2
go mod tidy >&2
echo "build.sh: compiling ${commands[*]} (cold: several minutes on 2 cores)" >&2
# Each binary is written beside its final name and renamed into place, so an interrupted build never leaves a
# half-written binary that have_all would take for a built one.
build() {
  go build -trimpath -ldflags "$2" -o "$bin/.$1.tmp" "$3" >&2
  mv -f "$bin/.$1.tmp" "$bin/$1"
}
build kube-apiserver "$ldflags" k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager "$ldflags" k8s.io/kubernetes/cmd/kube-controller-manager
build kubectl "$ldflags" k8s.io/kubernetes/cmd/kubectl
build etcd "-s -w" ./etcd
have_all
echo "build.sh: built in $((SECONDS - started)) s" >&2
echo "$bin"
