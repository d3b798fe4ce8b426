#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark: `sandbox lint` and `sandbox render` over N generated sandbox
# files (default 5,000) against this repository's templates and policy.
# Prints each figure beside a baseline run on the same files (reading them
# with cat) and as a ratio to the design target of 1 s.
# Usage: tests/bench/lint-render.sh [SANDBOX_BINARY] [N]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$top/build/plain/cli/sandbox}
n=${2:-5000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/sandboxes"
cp -r "$top/templates" "$tmp/"
# A fleet that large needs a budget to match.
sed -i 's/^  budget: .*/  budget: {cpu: "100000", memory: 1000Ti}/' "$tmp/templates/policy.yaml"
mapfile -t keys < <(grep -h '^    - ssh-' "$top/sandboxes/"*.yaml | sed 's/^    - //; s/ *#.*//')
sizes=(small medium large)
for ((i = 0; i < n; i++)); do
	name=$(printf 'dev%05d' "$i")
	cat > "$tmp/sandboxes/$name.yaml" <<YAML
# generated for the benchmark
apiVersion: sandbox.dev/v1alpha1
kind: Sandbox
metadata:
  name: $name
spec:
  owner: $name@example.com
  sshKeys:
    - ${keys[i % ${#keys[@]}]}
  size: ${sizes[i % 3]}
  ports: [3000, 8080]
  env: {EDITOR: vim, TEAM: "t$((i % 17))"}
YAML
done

timeit() { # prints seconds taken by the command
	local start end
	start=$(date +%s.%N)
	"$@" >/dev/null
	end=$(date +%s.%N)
	echo "$end - $start" | bc -l
}
best() { # best of 3 runs
	local b=999 t
	for _ in 1 2 3; do
		t=$(timeit "$@")
		b=$(echo "if ($t < $b) $t else $b" | bc -l)
	done
	printf '%.3f' "$b"
}

base=$(best sh -c "cat '$tmp'/sandboxes/*.yaml '$tmp'/templates/*.yaml")
lint=$(best "$bin" lint --repo "$tmp")
render=$(best "$bin" render --repo "$tmp" -o json)
render_yaml=$(best "$bin" render --repo "$tmp" -o yaml)
printf '%-34s %8s %12s %14s\n' "run ($n sandbox files)" "seconds" "x baseline" "x target (1s)"
printf '%-34s %8s %12s %14s\n' "baseline: cat every file" "$base" "1.00" "-"
for row in "sandbox lint:$lint" "sandbox render -o json:$render" "sandbox render -o yaml:$render_yaml"; do
	label=${row%%:*} secs=${row##*:}
	printf '%-34s %8s %12.2f %14.2f\n' "$label" "$secs" "$(echo "$secs / $base" | bc -l)" "$secs"
done
