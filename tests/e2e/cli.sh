#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The `sandbox` CLI end to end on this repository's own example: lint,
# golden render output, exit statuses, and located errors on a broken copy.
# SBX_UPDATE_GOLDEN=1 rewrites the golden files (review the diff).
set -uo pipefail
bin=${SBX_SANDBOX_BIN:?set SBX_SANDBOX_BIN to the built sandbox binary}
src=${SBX_SOURCE_ROOT:?set SBX_SOURCE_ROOT to the source tree}
. "$src/tests/e2e/checks.sh"
golden=$src/tests/data/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status_is() { # expected status, command...
	local want=$1; shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	[ "$got" -eq "$want" ] || { echo "  exit $got, want $want: $*"; cat "$tmp/out" "$tmp/err" | head -20; return 1; }
}
same_as_golden() { # golden file, command...
	local file=$1; shift
	"$@" >"$tmp/golden.out" || return 1
	if [ -n "${SBX_UPDATE_GOLDEN:-}" ]; then cp "$tmp/golden.out" "$golden/$file"; fi
	diff -u "$golden/$file" "$tmp/golden.out"
}
has_line() { grep -qxF -- "$1" "$2" || { echo "  missing line: $1"; echo "  in:"; sed 's/^/    /' "$2"; return 1; }; }

cd "$src"
check "lint accepts the example repository" status_is 0 "$bin" lint --repo "$src"
check "lint summary names the counts" has_line "ok: 3 sandboxes, 9 templates and the policy are valid" "$tmp/out"
check "lint defaults to the current folder" status_is 0 "$bin" lint
check "render -o yaml matches the golden file" same_as_golden render-all.yaml "$bin" render --repo "$src"
check "render -o json NAME matches the golden file" same_as_golden render-bob.json "$bin" render --repo "$src" -o json bob
check "render -o json is one valid v1 List" sh -c "'$bin' render --repo '$src' -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"kind\"]==\"List\" and len(d[\"items\"])==27, len(d[\"items\"])'"
check "render output is deterministic" bash -c "cmp <('$bin' render --repo '$src') <('$bin' render --repo '$src')"
check "render of an unknown sandbox exits 1" status_is 1 "$bin" render --repo "$src" nobody
check "unknown command exits 2" status_is 2 "$bin" frobnicate
check "unknown option exits 2" status_is 2 "$bin" lint --frobnicate
check "bad output format exits 2" status_is 2 "$bin" render -o xml
check "sandbox --help exits 0" status_is 0 "$bin" --help
check "sandbox --help lists lint" grep -q '^  lint ' "$tmp/out"
check "sandbox lint --help exits 0" status_is 0 "$bin" lint --help
check "sandbox version" status_is 0 "$bin" version

# A broken copy: every problem reported, located, with a summary and exit 1.
cp -r "$src/templates" "$src/sandboxes" "$tmp/"
sed -i 's/^  size: medium/  size: mediun/' "$tmp/sandboxes/bob.yaml"
sed -i 's/^  owner: alice@example.com/  ownr: alice@example.com/' "$tmp/sandboxes/alice.yaml"
cp "$tmp/sandboxes/alice.yaml" "$tmp/sandboxes/dave.yml"
ln -s alice.yaml "$tmp/sandboxes/eve.yaml"
head -c 300000 /dev/zero | tr '\0' '#' > "$tmp/sandboxes/big.yaml"
check "lint of a broken repository exits 1" status_is 1 "$bin" lint --repo "$tmp"
check "unknown field with hint" has_line "$tmp/sandboxes/alice.yaml:7:3: error: unknown field 'ownr' in spec (did you mean 'owner'?)" "$tmp/out"
check "missing owner" has_line "$tmp/sandboxes/alice.yaml:7:3: error: missing required field 'spec.owner'" "$tmp/out"
check "unknown size with hint" grep -qF "$tmp/sandboxes/bob.yaml:11:9: error: unknown size 'mediun' (did you mean 'medium'?); sizes: small, medium, large" "$tmp/out"
check ".yml is refused" has_line "$tmp/sandboxes/dave.yml: error: files must end in .yaml; rename it to 'dave.yaml'" "$tmp/out"
check "symlinks are refused" has_line "$tmp/sandboxes/eve.yaml: error: symbolic links are not allowed; commit the file itself" "$tmp/out"
check "oversized files are refused" has_line "$tmp/sandboxes/big.yaml: error: file is 300000 bytes; the limit is 262144 bytes (256 KiB)" "$tmp/out"
check "summary line" has_line "6 problems; 1 of 3 sandbox files valid, policy valid, templates valid" "$tmp/out"

# Fleet budget: the sandboxes that take the fleet over budget are named.
rm -f "$tmp/sandboxes/"{dave.yml,eve.yaml,big.yaml}
cp "$src/sandboxes/"*.yaml "$tmp/sandboxes/"
sed -i 's/budget: {cpu: "400", memory: 1600Gi}/budget: {cpu: "14", memory: 1600Gi}/' "$tmp/templates/policy.yaml"
check "over budget exits 1" status_is 1 "$bin" lint --repo "$tmp"
check "the sandbox over budget is named" has_line "$tmp/sandboxes/carol.yaml:1:1: error: sandbox 'carol' takes the fleet over budget: cpu would total 19, the budget (spec.budget.cpu in $tmp/templates/policy.yaml) is 14" "$tmp/out"

# Template problems that show only when rendering fail lint too.
sed -i 's/budget: {cpu: "14", memory: 1600Gi}/budget: {cpu: "400", memory: 1600Gi}/' "$tmp/templates/policy.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: motd\n  namespace: kube-system\ndata: {motd: hi}\n' > "$tmp/templates/motd.yaml"
check "a template rendering into another namespace fails lint" status_is 1 "$bin" lint --repo "$tmp"
check "the namespace problem is located" has_line "$tmp/templates/motd.yaml:1:1: error: the template renders into namespace 'kube-system', not the sandbox's namespace 'sbx-alice'" "$tmp/out"
check "render refuses it too" status_is 1 "$bin" render --repo "$tmp" alice

checks_done
