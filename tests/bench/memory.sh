#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The controller's memory with N sandboxes synced (default 5000), on the
# local control plane (tests/cluster up, tests/cluster/env evaluated):
#  - the resident size of a controller watching a cluster with none of
#    them (only the cluster's own namespaces): the baseline;
#  - a cold sync of N generated sandboxes (seconds, CPU, peak resident
#    size), pods marked running by KWOK nodes of its own;
#  - a fresh controller against the synced cluster once its start-up pass
#    is over: the resident size with every sandbox synced, and the slope
#    per 1,000 sandboxes over the baseline.
# The target (64 MB at 5,000) is printed beside the figure, never asserted.
# At 5,000 the cold sync alone takes the API server on two cores about
# 20 minutes; the namespaces go at the end (the controller-manager takes
# many minutes: `tests/cluster/down --purge && tests/cluster/up` is
# quicker).
# Usage: tests/bench/memory.sh [BUILD_DIR] [N]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build/dev}
n=${2:-5000}
ctl=$build/controller/sandbox-controller
tmp=$(mktemp -d)
id=$RANDOM
port=$((21000 + id % 11000)) # below the ephemeral range (32768 and up)
pid=
started=$(date +%s)
phase() { printf '[%s] %s\n' "$(date -u -d "@$(( $(date +%s) - started ))" +%H:%M:%S)" "$1" >&2; }
. "$top/tests/bench/fleet.sh"
cleanup() {
	set +e
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	for f in "$tmp"/*.log; do [ -f "$f" ] && cp "$f" "/tmp/memory-bench-$(basename "$f")"; done
	delete_matching sandboxes "/m$id-"
	delete_matching namespaces "^namespace/m$id-"
	kubectl delete node -l "sandbox-bench=$id" --wait=false >/dev/null 2>&1
	kubectl -n kube-system delete configmap "mem-$id-state" --wait=false >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 143" INT TERM

phase "KWOK nodes and $n sandbox files"
kwok_nodes "$id" $(( (n + 99) / 100 )) mem
repo=$tmp/repo empty=$tmp/empty
fleet_repo "$repo" "m$id" "$n" 4
fleet_repo "$empty" "m$id" 0 4

args=(--state-dir "$tmp/state" --instance "mem-$id" --install-crd --workers 64 --kube-qps 1000)

# steady: the start-up pass over every sandbox is done (bounded: 20 min)
rss_when_steady() { # WANT_RECONCILES: the resident MB of $pid once steady
	for _ in $(seq 2400); do
		curl -sf "http://127.0.0.1:$port/metrics" | awk -v n="$1" '/^sandbox_reconciles_total/ {r += $NF}
			/^sandbox_workqueue_depth / {d = $NF} END {exit !(r >= n && d == 0)}' && break
		sleep 0.5
	done
	sleep 5 # what the pass left behind is freed
	awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status"
}
serve() { # REPO: a long-running controller in the background, ready
	"$ctl" --repo "file://$1" "${args[@]}" --listen "127.0.0.1:$port" --poll-interval 3600 2>>"$tmp/serve.log" &
	pid=$!
	for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0; sleep 0.2; done
	echo "memory.sh: the controller was not ready after 60 s" >&2
	return 1
}

phase "baseline: no sandboxes"
serve "$empty"
base=$(rss_when_steady 0)
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

phase "cold sync of $n sandboxes"
/usr/bin/time -f '%e %U %S %M' -o "$tmp/cold" "$ctl" --repo "file://$repo" "${args[@]}" --listen '' \
	--once --settle-timeout 0 2>"$tmp/cold.log"

phase "a fresh start against the synced cluster"
serve "$repo"
rss=$(rss_when_steady "$n")
synced=$(grep -o 'cache synced: [0-9]*' "$tmp/serve.log" | tail -1 | grep -o '[0-9]*$')
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
phase "done"

read -r cs cu cy cm < "$tmp/cold"
printf '\ncontroller memory, %s sandboxes (%s objects cached)\n' "$n" "$synced"
printf '%-44s %s MB\n' "resident, no sandboxes (baseline)" "$base"
printf '%-44s %s s, %s s CPU, peak %s MB\n' "cold sync" "$cs" \
	"$(awk -v u="$cu" -v s="$cy" 'BEGIN {printf "%.1f", u + s}')" "$(awk -v m="$cm" 'BEGIN {printf "%.1f", m / 1024}')"
printf '%-44s %s MB (target <= 64 MB at 5,000 sandboxes)\n' "resident, every sandbox synced" "$rss"
printf '%-44s %s MB per 1,000 sandboxes (%s per object)\n' "slope over the baseline" \
	"$(awk -v r="$rss" -v b="$base" -v n="$n" 'BEGIN {printf "%.1f", (r - b) * 1000 / n}')" \
	"$(awk -v r="$rss" -v b="$base" -v o="$synced" 'BEGIN {printf "%.0f bytes", (r - b) * 1048576 / o}')"
printf '%-44s %s MB\n' "at 5,000 by that slope" \
	"$(awk -v r="$rss" -v b="$base" -v n="$n" 'BEGIN {printf "%.1f", b + (r - b) * 5000 / n}')"
