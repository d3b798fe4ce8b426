# SPDX-License-Identifier: Apache-2.0
# Sourced by e2e scripts (with src set): a GitOps repository of this
# project's templates in a folder, sandbox files for it, and commits.
# The key is the example's own (sandboxes/alice.yaml).
gitops_key=$(grep -h '^    - ssh-ed25519' "$src/sandboxes/alice.yaml" | head -1 | sed 's/^    - //')

# gitops_repo DIR PREFIX [SED...]: the templates with namespacePrefix PREFIX
# (and each further sed expression applied to the policy); sets repo=DIR
gitops_repo() {
	repo=$1
	local prefix=$2 e
	shift 2
	mkdir -p "$repo/sandboxes" && cp -r "$src/templates" "$repo/" || return 1
	sed -i "s/^  namespacePrefix: .*/  namespacePrefix: $prefix/" "$repo/templates/policy.yaml"
	for e in "$@"; do sed -i "$e" "$repo/templates/policy.yaml"; done
	git -C "$repo" init -q -b main
}

# sandbox NAME SIZE: write sandboxes/NAME.yaml of $repo
sandbox() {
	printf 'apiVersion: sandbox.dev/v1alpha1\nkind: Sandbox\nmetadata:\n  name: %s\nspec:\n  owner: %s@example.com\n  sshKeys:\n    - %s\n  size: %s\n' "$1" "$1" "$gitops_key" "$2" > "$repo/sandboxes/$1.yaml"
}

# commit MESSAGE: everything in $repo
commit() { git -C "$repo" add -A && git -C "$repo" -c user.name=e2e -c user.email=e2e@example.com commit -qm "$1"; }
