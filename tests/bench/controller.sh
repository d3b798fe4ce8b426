#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark sandbox-controller on the local control plane (tests/cluster up,
# tests/cluster/env evaluated): for N generated sandboxes (default 100)
#  - cold sync: the controller's first full sync, beside `kubectl apply
#    --server-side` of the same rendered objects (into another prefix), each
#    on a quiet cluster (the other side's pods running), with the machine's
#    CPU use over each: on a small machine the API server shares the cores,
#    and a busy figure near 100% says the server side is the limit;
#  - the ceiling: the same objects (a third prefix) as plain server-side
#    applies, 64 in flight (tests/bench/ssa_ceiling.c): the most this API
#    server takes here, which the other two are compared with, with each
#    one's client CPU and API requests;
#  - unchanged resync: a second run's API requests, writes and CPU time;
#  - webhook commit-to-applied latency for one sandbox, over R rounds;
#  - drift: 50 out-of-band quota edits on random sandboxes, each timed
#    until the controller's correction is visible;
#  - the controller's RSS with every sandbox synced.
# The targets (docs/performance.md) are printed beside the figures, never
# asserted.
# It adds KWOK nodes for the pods (removed at the end). SBX_BENCH_QPS sets
# the controller's --kube-qps for the cold sync (default 100, as shipped).
# The namespaces go at the end, which takes the controller-manager minutes
# for a large N: `tests/cluster/down --purge && tests/cluster/up` is quicker.
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
port=$((21000 + id % 11000)) # below the ephemeral range (32768 and up)
pid= watcher=
started=$(date +%s)
# progress on stderr, so a long run says where it is and where time went
phase() { printf '[%s] %s\n' "$(date -u -d "@$(( $(date +%s) - started ))" +%M:%S)" "$1" >&2; }
. "$top/tests/bench/fleet.sh"
cleanup() {
	set +e
	phase "cleaning up"
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	[ -n "$watcher" ] && kill "$watcher" 2>/dev/null
	# the controller's and kubectl's logs stay for a look: /tmp/controller-bench-*.log
	for f in "$tmp"/run*.log "$tmp"/kubectl.log; do [ -f "$f" ] && cp "$f" "/tmp/controller-bench-$(basename "$f")"; done
	delete_matching sandboxes "/b$id-"
	delete_matching namespaces "^namespace/(b|k|c)$id-"
	kubectl delete node -l "sandbox-bench=$id" --wait=false >/dev/null 2>&1
	kubectl -n kube-system delete configmap "bench-$id-state" --wait=false >/dev/null 2>&1
	rm -rf "$tmp"
	phase "cleaned up (the namespaces' contents go in the background)"
}
trap cleanup EXIT
trap "exit 143" INT TERM

# KWOK nodes of its own, enough for both sides' pods (one per sandbox, one
# CPU each for the small size), removed at the end
phase "KWOK nodes and $n sandbox files"
kwok_nodes "$id" $(( (3 * n + 99) / 100 )) bench
repo=$tmp/repo
fleet_repo "$repo" "b$id" "$n" 3

# what every controller run here shares
ctl_args=(--repo "file://$repo" --state-dir "$tmp/state" --instance "bench-$id" --install-crd)

secs() { echo "$(( $2 - $1 ))" | awk '{printf "%.2f", $1 / 1e9}'; }
# busy and total jiffies of the whole machine, to tell when the API server's
# side (it shares the cores) is what limits a run
cpu_now() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }
busy() { # "busy total" before, after: percent busy in between
	echo "$1 $2" | awk '{printf "%d%%", 100 * ($3 - $1) / ($4 - $2)}'
}

# Each side runs on a quiet cluster: nothing left of an earlier run, and the
# other side's rollouts finished (pods scheduled and running under KWOK).
wait_gone() { # PATTERN: no namespace name matches
	for _ in $(seq 600); do
		kubectl get ns --no-headers -o custom-columns=N:.metadata.name | grep -qE "$1" || return 0
		sleep 0.5
	done
	echo "controller.sh: namespaces matching $1 are still there after 300 s" >&2
	return 1
}
wait_ready() { # PREFIX: all N Deployments in namespaces PREFIX* have their replica ready
	# (every 2 s: listing thousands of Deployments competes with the
	# scheduler for the same two cores)
	for _ in $(seq 300); do
		[ "$(kubectl get deploy -A --no-headers -o custom-columns=NS:.metadata.namespace,R:.status.readyReplicas |
			awk -v p="^$1" '$1 ~ p && $2 == 1' | wc -l)" -ge "$n" ] && return 0
		sleep 2
	done
	echo "controller.sh: the Deployments in $1* are not all ready after 600 s (enough KWOK nodes for $((2 * n)) pods?)" >&2
	return 1
}
quota_cpu() { kubectl -n "$1" get resourcequota sandbox -o jsonpath='{.spec.hard.limits\.cpu}'; }
# The latencies are timed by a watch on the quota, opened before the
# change, so that no process starts while the clock runs.
# watch_quota NS: a kubectl watch of the quota's limits.cpu, one line per
# event in $tmp/watch; returns once the first line (its value now) is there
watch_quota() {
	: > "$tmp/watch"
	kubectl -n "$1" get resourcequota sandbox -w -o jsonpath='{.spec.hard.limits\.cpu}{"\n"}' \
		>"$tmp/watch" 2>/dev/null &
	watcher=$!
	local end=$((SECONDS + 30))
	until [ -s "$tmp/watch" ]; do
		((SECONDS < end)) || { echo "controller.sh: no watch on the quota in $1 after 30 s" >&2; return 1; }
		sleep 0.01
	done
}
# until_quota WANT: waits (60 s at most) until the watch shows WANT after
# another value, then stops it; sets e to that moment in microseconds
until_quota() {
	local end=$((SECONDS + 60)) lines v other
	while ((SECONDS < end)); do
		mapfile -t lines <"$tmp/watch"
		other=
		for v in "${lines[@]}"; do
			if [ "$v" != "$1" ]; then
				other=1
			elif [ -n "$other" ]; then
				e=${EPOCHREALTIME/./}
				kill "$watcher"; wait "$watcher" 2>/dev/null || true; watcher=
				return 0
			fi
		done
		sleep 0.005
	done
	echo "controller.sh: the quota is not at limits.cpu $1 after 60 s" >&2
	return 1
}
phase "waiting for an earlier run's namespaces to go"
wait_gone '^[bkc][0-9]+-'

# copy_repo L: the same sandboxes named L$id-NNN, in $tmp/Lrepo (so the
# controller never takes them for its own)
copy_repo() {
	mkdir -p "$tmp/$1repo/sandboxes" && cp -r "$repo/templates" "$tmp/$1repo/"
	sed -i "s/^  namespacePrefix: .*/  namespacePrefix: $1$id-/" "$tmp/$1repo/templates/policy.yaml"
	for f in "$repo"/sandboxes/*.yaml; do
		b=$(basename "$f")
		sed "s/b$id-/$1$id-/" "$f" > "$tmp/$1repo/sandboxes/$1${b#b}"
	done
}

# cold sync, baseline: kubectl apply --server-side of the same objects for
# sandboxes named k$id-NNN
phase "cold sync: kubectl apply --server-side"
copy_repo k
# and another manager label, so they stay out of the controller's cache
"$cli" render --repo "$tmp/krepo" -o yaml |
	sed 's|app.kubernetes.io/managed-by: sandbox-controller|app.kubernetes.io/managed-by: baseline|' > "$tmp/objects.yaml"
t2=$(date +%s%N) c2=$(cpu_now)
/usr/bin/time -f '%U %S' -o "$tmp/cpuk" kubectl apply -v=6 --server-side --field-manager=baseline \
	-f "$tmp/objects.yaml" >/dev/null 2>"$tmp/kubectl.log" || {
	echo "controller.sh: kubectl apply failed:" >&2
	grep -v '"Response" verb=' "$tmp/kubectl.log" | tail -20 >&2
	exit 1
}
t3=$(date +%s%N) c3=$(cpu_now)
krequests=$(grep -c '"Response" verb=' "$tmp/kubectl.log" || true)
objects=$(grep -c '^---' "$tmp/objects.yaml")
wait_ready "k$id-"

phase "cold sync: the ceiling"
# the ceiling: the same objects (sandboxes c$id-NNN) as plain server-side
# applies, 64 in flight over HTTP/2, no reads and no status
copy_repo c
"$cli" render --repo "$tmp/crepo" -o json |
	sed 's|"app.kubernetes.io/managed-by":"sandbox-controller"|"app.kubernetes.io/managed-by":"ceiling"|g' > "$tmp/ceiling.json"
t4=$(date +%s%N) c4=$(cpu_now)
ceiling=$("$build/tests/ssa_ceiling" "$tmp/ceiling.json" 64)
t5=$(date +%s%N) c5=$(cpu_now)
wait_ready "c$id-"

phase "cold sync: sandbox-controller"
# cold sync, controller: every object applied and every status written once
t0=$(date +%s%N) c0=$(cpu_now)
/usr/bin/time -f '%U %S' -o "$tmp/cpu1" "$ctl" "${ctl_args[@]}" --listen '' \
	--workers 64 --kube-qps "${SBX_BENCH_QPS:-100}" --once --settle-timeout 0 2>"$tmp/run1.log"
t1=$(date +%s%N) c1=$(cpu_now)
wait_ready "b$id-"

phase "unchanged pass"
# unchanged resync: first one pass that lets the statuses catch up with the
# finished rollouts, then the measured one
"$ctl" "${ctl_args[@]}" --listen '' --workers 32 --once --settle-timeout 120 2>"$tmp/run-settle.log"
/usr/bin/time -f '%U %S' -o "$tmp/cpu2" "$ctl" "${ctl_args[@]}" --listen '' \
	--workers 32 --once --settle-timeout 0 2>"$tmp/run2.log"
resync=$(grep -o 'API requests[^"]*' "$tmp/run2.log" | tail -1)
cpu2=$(awk '{printf "%.2f", $1 + $2}' "$tmp/cpu2")

phase "webhook latency ($rounds rounds)"
# webhook latency: commit, webhook, until the quota shows the change
secret=bench-$id
printf '%s' "$secret" > "$tmp/secret"
"$ctl" "${ctl_args[@]}" --listen "127.0.0.1:$port" --webhook-secret-file "$tmp/secret" \
	--poll-interval 3600 --workers 32 2>"$tmp/run3.log" &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
# steady state: the start-up pass over every sandbox is done
for _ in $(seq 1200); do
	curl -sf "http://127.0.0.1:$port/metrics" | awk -v n="$n" '/^sandbox_reconciles_total/ {r += $NF}
		/^sandbox_workqueue_depth / {d = $NF} END {exit !(r >= n && d == 0)}' && break
	sleep 0.5
done
body='{"ref":"refs/heads/main"}'
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.* //')
: > "$tmp/lat"
for ((r = 0; r < rounds; r++)); do
	# one CPU more, then back: a change the quota shows, with no volume resize
	f=$repo/sandboxes/b$id-000.yaml
	if [ $((r % 2)) = 0 ]; then
		printf '  resources:\n    cpu: "2"\n' >> "$f"
		want=2
	else
		sed -i '/^  resources:/,$d' "$f"
		want=1
	fi
	git -C "$repo" -c user.name=b -c user.email=b@e commit -qam "round $r"
	watch_quota "b$id-b$id-000"
	s=${EPOCHREALTIME/./}
	curl -s -o /dev/null -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$sig" --data "$body" "http://127.0.0.1:$port/webhook"
	until_quota "$want"
	echo $(( (e - s) / 1000 )) >> "$tmp/lat"
done
phase "drift (50 edits)"
# memory with every sandbox synced
rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
# drift: 50 out-of-band edits of random sandboxes' quotas, each timed from
# the edit's response to the corrected object being visible
: > "$tmp/drift"
for ((r = 0; r < 50; r++)); do
	dns=b$id-b$id-$(printf %03d $((RANDOM % n)))
	# what it must come back to (the webhook rounds leave sandbox 000 at
	# two CPUs when their number is odd)
	want=$(quota_cpu "$dns")
	watch_quota "$dns"
	kubectl -n "$dns" patch resourcequota sandbox --type merge -p '{"spec":{"hard":{"limits.cpu":"64"}}}' >/dev/null
	s=${EPOCHREALTIME/./}
	until_quota "$want"
	echo $(( (e - s) / 1000 )) >> "$tmp/drift"
done
kill $pid; wait $pid 2>/dev/null || true; pid=
pct() { sort -n "$1" | awk -v q="$2" '{a[NR]=$1} END {i=int(NR*q+0.5); if (i<1) i=1; print a[i]}'; }
p50=$(pct "$tmp/lat" 0.5) p99=$(pct "$tmp/lat" 0.99)
d50=$(pct "$tmp/drift" 0.5) d99=$(pct "$tmp/drift" 0.99)

phase "done"
# figures side by side; the targets are printed, never asserted
cs=$(secs "$t4" "$t5") ks=$(secs "$t2" "$t3") bs=$(secs "$t0" "$t1")
ccpu=$(awk '{for (i = 1; i <= NF; i++) if ($i == "cpu") print $(i + 1)}' <<<"$ceiling")
creq=$(awk '{for (i = 1; i <= NF; i++) if ($i == "requests") print $(i + 1)}' <<<"$ceiling")
bcpu=$(awk '{printf "%.2f", $1 + $2}' "$tmp/cpu1") kcpu=$(awk '{printf "%.2f", $1 + $2}' "$tmp/cpuk")
breq=$(grep -o 'API requests.*' "$tmp/run1.log" | tail -1 | grep -oE '[0-9]+' | awk '{s += $1} END {print s}')
row() { # name seconds cpu requests busy
	printf '%-44s %8s %10s %9s %10s %9s %8s\n' "$1" "$2" \
		"$(awk -v o="$objects" -v t="$2" 'BEGIN {printf "%.0f", o / t}')" \
		"$(awk -v c="$cs" -v t="$2" 'BEGIN {printf "%.2f", c / t}')" "$3" "$4" "$5"
}
printf '\ncontroller benchmark, %s sandboxes (%s objects), cold sync with --kube-qps %s\n' \
	"$n" "$objects" "${SBX_BENCH_QPS:-100}"
printf '%-44s %8s %10s %9s %10s %9s %8s\n' "cold sync" "seconds" "objects/s" "vs ceil." "client CPU" \
	"requests" "busy"
row "ceiling: server-side apply, 64 in flight" "$cs" "$ccpu" "$creq" "$(busy "$c4" "$c5")"
row "sandbox-controller (apply, prune, status)" "$bs" "$bcpu" "${breq:-?}" "$(busy "$c0" "$c1")"
row "kubectl apply --server-side" "$ks" "$kcpu" "$krequests" "$(busy "$c2" "$c3")"
printf '  targets: controller >= 0.80 of the ceiling; its CPU <= 1/5 of kubectl'"'"'s (%s s); requests <= kubectl'"'"'s\n' \
	"$(awk -v k="$kcpu" 'BEGIN {printf "%.2f", k / 5}')"
printf '%-52s %s (target <= 1 s per 1,000 sandboxes: %s s per 1,000)\n' "unchanged pass: controller CPU seconds" \
	"$cpu2" "$(awk -v c="$cpu2" -v n="$n" 'BEGIN {printf "%.2f", c * 1000 / n}')"
printf '%-52s %s\n' "unchanged pass: $resync" ""
printf '%-52s %s ms / %s ms (50 edits; target p99 <= 1000 ms at 1,000)\n' "drift reverted p50 / p99" "$d50" "$d99"
printf '%-52s %s ms / %s ms (%d rounds; target p99 <= 500 ms at 1,000)\n' "webhook commit-to-applied p50 / p99" \
	"$p50" "$p99" "$rounds"
printf '%-52s %s MB (target <= 64 MB at 5,000 sandboxes)\n' "controller RSS, every sandbox synced" "$rss"
printf '(latencies are timed by a kubectl watch opened before each change)\n'
