#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark `sandbox ssh` connection setup on the local control plane
# (tests/cluster up, tests/cluster/env evaluated), side by side with OpenSSH
# over `kubectl port-forward` to the same pod and the same sshd:
#  - sandbox ssh NAME -- true          (port-forward, TLS, WebSocket, ssh: all of it)
#  - ssh over a running kubectl port-forward   (the port-forward already up)
#  - kubectl port-forward started, then ssh    (what one connection costs a user)
# The sshd is a real one on loopback with the sandbox's host key and
# authorized_keys, behind KWOK's port-forward. Prints medians and ratios.
# Usage: tests/bench/ssh.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build/asan}
rounds=${2:-20}
ctl=$build/controller/sandbox-controller
cli=$build/cli/sandbox
tmp=$(mktemp -d)
id=$RANDOM
name=s$id
pf_pid=
. "$top/tests/e2e/sshd.sh"
cleanup() {
	[ -n "$pf_pid" ] && kill "$pf_pid" 2>/dev/null
	stop_sshd
	kubectl delete clusterportforward "bench-$id" --wait=false >/dev/null 2>&1 || true
	kubectl delete sandbox "$name" --wait=false >/dev/null 2>&1 || true
	kubectl delete ns "b$id-$name" --wait=false >/dev/null 2>&1 || true
	kubectl -n kube-system delete configmap "bench-$id-state" --wait=false >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N '' -C bench -f "$tmp/key"
mkdir -p "$tmp/repo/sandboxes"
cp -r "$top/templates" "$tmp/repo/"
sed -i "s/^  namespacePrefix: .*/  namespacePrefix: b$id-/" "$tmp/repo/templates/policy.yaml"
printf 'apiVersion: sandbox.dev/v1alpha1\nkind: Sandbox\nmetadata:\n  name: %s\nspec:\n  owner: bench@example.com\n  sshKeys:\n    - %s\n' "$name" "$(cat "$tmp/key.pub")" > "$tmp/repo/sandboxes/$name.yaml"
git -C "$tmp/repo" init -q -b main && git -C "$tmp/repo" add -A && git -C "$tmp/repo" -c user.name=b -c user.email=b@e commit -qm bench
"$ctl" --repo "file://$tmp/repo" --state-dir "$tmp/state" --listen '' --instance "bench-$id" --install-crd --once --settle-timeout 60 2>"$tmp/ctl.log"
ns=b$id-$name
pod=$(kubectl -n "$ns" get pods -o jsonpath='{.items[0].metadata.name}')
kubectl -n "$ns" get secret ssh-host-key -o 'jsonpath={.data.ssh_host_ed25519_key}' | base64 -d > "$tmp/host"
kubectl -n "$ns" get secret authorized-keys -o 'jsonpath={.data.authorized_keys}' | base64 -d > "$tmp/ak"
start_sshd "$tmp/sshd" "$tmp/host" "$tmp/ak"
kubectl apply -f - >/dev/null <<YAML
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata: {name: bench-$id}
spec:
  selector: {matchNamespaces: [$ns]}
  forwards:
  - ports: [2222]
    target: {address: 127.0.0.1, port: $sshd_port}
YAML
me=$(id -un)
opts=(-i "$tmp/key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
for i in $(seq 20); do "$cli" ssh "$name" -l "$me" -i "$tmp/key" -- true 2>/dev/null && break; sleep 0.5; done

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m / 1e6}'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for ((i = 0; i < rounds; i++)); do
	t0=$(now); "$cli" ssh "$name" -l "$me" -i "$tmp/key" -- true; t1=$(now)
	echo $((t1 - t0)) >> "$tmp/ours"
done
lp=$(free_port)
kubectl -n "$ns" port-forward --address 127.0.0.1 "pod/$pod" "$lp:2222" >/dev/null 2>&1 &
pf_pid=$!
for i in $(seq 50); do ssh "${opts[@]}" -p "$lp" "$me@127.0.0.1" true 2>/dev/null && break; sleep 0.2; done
for ((i = 0; i < rounds; i++)); do
	t0=$(now); ssh "${opts[@]}" -p "$lp" "$me@127.0.0.1" true; t1=$(now)
	echo $((t1 - t0)) >> "$tmp/warm"
done
kill "$pf_pid"; wait "$pf_pid" 2>/dev/null || true; pf_pid=
for ((i = 0; i < rounds; i++)); do
	lp=$(free_port)
	t0=$(now)
	kubectl -n "$ns" port-forward --address 127.0.0.1 "pod/$pod" "$lp:2222" >/dev/null 2>&1 &
	pf_pid=$!
	until ssh "${opts[@]}" -p "$lp" "$me@127.0.0.1" true 2>/dev/null; do sleep 0.02; done
	t1=$(now)
	kill "$pf_pid"; wait "$pf_pid" 2>/dev/null || true; pf_pid=
	echo $((t1 - t0)) >> "$tmp/cold"
done
ours=$(median < "$tmp/ours"); warm=$(median < "$tmp/warm"); cold=$(median < "$tmp/cold")
printf 'connection setup + "true", median of %d (ms):\n' "$rounds"
printf '  sandbox ssh NAME -- true                      %8s\n' "$ours"
printf '  ssh over a running kubectl port-forward      %8s   ratio sandbox/this %s\n' "$warm" "$(echo "$ours $warm" | awk '{printf "%.2f", $1 / $2}')"
printf '  kubectl port-forward started, then ssh       %8s   ratio sandbox/this %s\n' "$cold" "$(echo "$ours $cold" | awk '{printf "%.2f", $1 / $2}')"
