#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark sandbox-controller on the local control plane (tests/cluster up,
# tests/cluster/env evaluated): for N generated sandboxes (default 100)
#  - cold sync: the controller's first full sync, beside `kubectl apply
#    --server-side` of the same rendered objects (into another prefix);
#  - unchanged resync: a second run's API requests, writes and CPU time;
#  - webhook commit-to-applied latency for one sandbox, over R rounds.
# Usage: tests/bench/controller.sh [BUILD_DIR] [N] [R]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build/asan}
n=${2:-100}
rounds=${3:-10}
ctl=$build/controller/sandbox-controller
cli=$build/cli/sandbox
tmp=$(mktemp -d)
id=$RANDOM
port=$((21000 + id % 20000))
pid=
trap 'cp "$tmp"/run*.log /tmp/ 2>/dev/null; [ -n "$pid" ] && kill $pid 2>/dev/null; kubectl get ns -o name | grep -E "namespace/(b|k)$id-" | xargs -r kubectl delete --wait=false >/dev/null 2>&1; kubectl get sandboxes -o name | grep "/b$id" | xargs -r kubectl delete --wait=false >/dev/null 2>&1; rm -rf "$tmp"' EXIT

repo=$tmp/repo
mkdir -p "$repo/sandboxes"
cp -r "$top/templates" "$repo/"
sed -i "s/^  namespacePrefix: .*/  namespacePrefix: b$id-/" "$repo/templates/policy.yaml"
key=$(grep -h '^    - ssh-ed25519' "$top/sandboxes/alice.yaml" | head -1 | sed 's/^    - //')
for ((i = 0; i < n; i++)); do
	printf 'apiVersion: sandbox.dev/v1alpha1\nkind: Sandbox\nmetadata:\n  name: b%s-%03d\nspec:\n  owner: dev%03d@example.com\n  sshKeys:\n    - %s\n  size: small\n' "$id" "$i" "$i" "$key" > "$repo/sandboxes/b$id-$(printf %03d "$i").yaml"
done
git -C "$repo" init -q -b main && git -C "$repo" add -A && git -C "$repo" -c user.name=b -c user.email=b@e commit -qm bench

secs() { echo "$(( $2 - $1 ))" | awk '{printf "%.2f", $1 / 1e9}'; }

# cold sync, controller
t0=$(date +%s%N)
/usr/bin/time -f '%U %S' -o "$tmp/cpu1" "$ctl" --repo "file://$repo" --state-dir "$tmp/state" --listen '' \
	--instance "bench-$id" --workers 64 --kube-qps "${SBX_BENCH_QPS:-100}" --once --settle-timeout 0 2>"$tmp/run1.log"
t1=$(date +%s%N)
# cold sync, baseline: kubectl apply --server-side of the same objects under another prefix
sed "s/^  namespacePrefix: .*/  namespacePrefix: k$id-/" "$repo/templates/policy.yaml" > "$tmp/policy.yaml"
mkdir -p "$tmp/krepo" && cp -r "$repo/sandboxes" "$repo/templates" "$tmp/krepo/" && cp "$tmp/policy.yaml" "$tmp/krepo/templates/policy.yaml"
"$cli" render --repo "$tmp/krepo" -o yaml > "$tmp/objects.yaml"
t2=$(date +%s%N)
kubectl apply --server-side --field-manager=baseline -f "$tmp/objects.yaml" >/dev/null
t3=$(date +%s%N)
objects=$(grep -c '^---' "$tmp/objects.yaml")

# unchanged resync
/usr/bin/time -f '%U %S' -o "$tmp/cpu2" "$ctl" --repo "file://$repo" --state-dir "$tmp/state" --listen '' \
	--instance "bench-$id" --workers 32 --once --settle-timeout 0 2>"$tmp/run2.log"
resync=$(grep -o 'API requests.*' "$tmp/run2.log" | tail -1)
cpu2=$(awk '{printf "%.2f", $1 + $2}' "$tmp/cpu2")

# webhook latency: commit, webhook, until the quota shows the change
secret=bench-$id
printf '%s' "$secret" > "$tmp/secret"
"$ctl" --repo "file://$repo" --state-dir "$tmp/state" --listen "127.0.0.1:$port" --webhook-secret-file "$tmp/secret" \
	--poll-interval 3600 --instance "bench-$id" --workers 32 2>"$tmp/run3.log" &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
body='{"ref":"refs/heads/main"}'
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.* //')
: > "$tmp/lat"
for ((r = 0; r < rounds; r++)); do
	size=$([ $((r % 2)) = 0 ] && echo medium || echo small)
	want=$([ "$size" = medium ] && echo 2 || echo 1)
	f=$repo/sandboxes/b$id-000.yaml
	sed -i "s/^  size: .*/  size: $size/" "$f"
	git -C "$repo" -c user.name=b -c user.email=b@e commit -qam "round $r"
	s=$(date +%s%N)
	curl -s -o /dev/null -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$sig" --data "$body" "http://127.0.0.1:$port/webhook"
	until [ "$(kubectl -n b$id-b$id-000 get resourcequota sandbox -o jsonpath='{.spec.hard.limits\.cpu}')" = "$want" ]; do sleep 0.02; done
	e=$(date +%s%N)
	echo $(( (e - s) / 1000000 )) >> "$tmp/lat"
done
kill $pid; wait $pid 2>/dev/null || true; pid=
p50=$(sort -n "$tmp/lat" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
p99=$(sort -n "$tmp/lat" | awk '{a[NR]=$1} END {i=int(NR*0.99+0.5); if (i<1) i=1; print a[i]}')

printf '\n%-52s %10s %10s\n' "controller benchmark, $n sandboxes ($objects objects)" "seconds" "ratio"
printf '%-52s %10s %10s\n' "baseline: kubectl apply --server-side" "$(secs "$t2" "$t3")" "1.00"
printf '%-52s %10s %10s\n' "sandbox-controller cold sync (apply, prune, status)" "$(secs "$t0" "$t1")" \
	"$(awk -v a="$(secs "$t2" "$t3")" -v b="$(secs "$t0" "$t1")" 'BEGIN {printf "%.2fx faster", a / b}')"
printf '%-52s %10s\n' "unchanged resync: controller CPU seconds" "$cpu2"
printf '%-52s %s\n' "unchanged resync: $resync" ""
printf '%-52s %s ms / %s ms (over %d rounds; measured with kubectl polling)\n' "webhook commit-to-applied p50 / p99" "$p50" "$p99" "$rounds"
