# SPDX-License-Identifier: Apache-2.0
# Shared helpers for tests/cluster/{build,up,down,env}. Sourced, not run.
# shellcheck shell=bash

SBX_CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Configuration (all overridable from the environment).
: "${SBX_CLUSTER_CACHE:=/var/cache/sandbox-cluster}"  # binaries, outside the repo
: "${SBX_CLUSTER_STATE:=/tmp/sandbox-cluster}"        # certs, data, logs, pids
: "${SBX_CLUSTER_PORT_BASE:=16400}"                   # ports BASE .. BASE+9
: "${SBX_CLUSTER_NODES:=3}"                           # number of KWOK nodes
: "${SBX_CLUSTER_NODE_CPU:=16}"                       # each node's CPUs
: "${SBX_CLUSTER_NODE_MEMORY:=64Gi}"                  # and memory (the large example sandbox needs 12 / 48Gi)
: "${SBX_CLUSTER_TIMEOUT:=120}"                       # seconds per health wait
: "${SBX_CLUSTER_VERSION:=}"                          # Kubernetes minor: a folder of versions/ (default: the newest)

export GOWORK=off CGO_ENABLED=0
# Build with the toolchain the modules ask for; older local Go (>= 1.21)
# fetches it from the module proxy. Callers may pin GOTOOLCHAIN themselves.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  PATH=/usr/local/go/bin:$PATH
fi

# The Kubernetes minors the harness can build, newest first: one Go module
# each under versions/MINOR (go.mod and go.sum pin Kubernetes and etcd).
cluster_versions() {
  local d; for d in "$SBX_CLUSTER_DIR"/versions/*/go.mod; do d=${d%/go.mod}; echo "${d##*/}"; done | sort -rV
}
[[ -n $SBX_CLUSTER_VERSION ]] || SBX_CLUSTER_VERSION=$(cluster_versions | head -n1)
SBX_CLUSTER_MODULE=$SBX_CLUSTER_DIR/versions/$SBX_CLUSTER_VERSION
if [[ ! -f $SBX_CLUSTER_MODULE/go.mod ]]; then
  printf '%s: error: SBX_CLUSTER_VERSION=%s: no such version; the harness has: %s\n' \
    "${0##*/}" "$SBX_CLUSTER_VERSION" "$(cluster_versions | paste -sd' ')" >&2
  exit 2
fi

# Ports, derived from the base so two clusters can run side by side.
PORT_ETCD_CLIENT=$((SBX_CLUSTER_PORT_BASE + 0))
PORT_ETCD_PEER=$((SBX_CLUSTER_PORT_BASE + 1))
PORT_APISERVER=$((SBX_CLUSTER_PORT_BASE + 2))
PORT_KCM=$((SBX_CLUSTER_PORT_BASE + 3))
PORT_SCHEDULER=$((SBX_CLUSTER_PORT_BASE + 4))
PORT_KWOK=$((SBX_CLUSTER_PORT_BASE + 5))       # kubelet API served by KWOK
PORT_KWOK_METRICS=$((SBX_CLUSTER_PORT_BASE + 6))

SERVICE_CIDR=10.96.0.0/16     # cluster IPs
FIRST_SERVICE_IP=10.96.0.1
POD_CIDR=10.244.0.0/16        # pod IPs handed out by KWOK (no overlap)

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Key of the binary cache: first 16 hex digits of sha256 over the go.sum
# files of the selected version's module and KWOK's (they change whenever
# a version changes, and differ between versions).
cache_key() {
  cat "$SBX_CLUSTER_MODULE/go.sum" "$SBX_CLUSTER_DIR/kwok/go.sum" | sha256sum | cut -c1-16
}
bin_dir() { printf '%s/%s/bin\n' "$SBX_CLUSTER_CACHE" "$(cache_key)"; }

# Install Debian packages providing the given commands when missing.
# Usage: need_cmds cmd:package ...
need_cmds() {
  local spec cmd pkg missing=()
  for spec in "$@"; do
    cmd=${spec%%:*} pkg=${spec#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing missing packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 ||
      { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; } ||
      die "could not install ${missing[*]}"
  else
    die "missing commands; install the Debian packages: ${missing[*]}"
  fi
}
