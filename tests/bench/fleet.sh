# SPDX-License-Identifier: Apache-2.0
# What the benchmarks share (sourced, with $top set): KWOK nodes for the
# pods, and a repository of generated sandboxes.

# kwok_nodes ID COUNT NAME: COUNT KWOK nodes NAME-ID-I labelled
# sandbox-bench=ID (110 CPUs and 110 pods each), waited for until ready
kwok_nodes() {
	local i
	for ((i = 0; i < $2; i++)); do
		cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: $3-$1-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {type: kwok, sandbox-bench: "$1", kubernetes.io/hostname: $3-$1-$i, kubernetes.io/os: linux, kubernetes.io/arch: amd64}
status:
  allocatable: {cpu: "110", memory: 440Gi, pods: "110", ephemeral-storage: 5Ti}
  capacity: {cpu: "110", memory: 440Gi, pods: "110", ephemeral-storage: 5Ti}
YAML
	done | kubectl apply -f - >/dev/null
	kubectl wait --for=condition=Ready node -l "sandbox-bench=$1" --timeout=120s >/dev/null
}

# fleet_repo DIR PREFIX N WIDTH: a git repository in DIR with the example's
# templates (namespaces PREFIX-NAME, a fleet budget with room for N) and N
# small sandboxes PREFIX-000 ... (WIDTH digits), one SSH key each
fleet_repo() {
	local dir=$1 p=$2 n=$3 w=$4 key i name
	mkdir -p "$dir/sandboxes"
	cp -r "$top/templates" "$dir/"
	sed -i -e "s/^  namespacePrefix: .*/  namespacePrefix: $p-/" \
		-e "s/^  budget: .*/  budget: {cpu: \"$((n + 1))\", memory: $((4 * n + 4))Gi}/" "$dir/templates/policy.yaml"
	key=$(grep -h '^    - ssh-ed25519' "$top/sandboxes/alice.yaml" | head -1 | sed 's/^    - //')
	for ((i = 0; i < n; i++)); do
		name=$p-$(printf "%0${w}d" "$i")
		printf 'apiVersion: sandbox.dev/v1alpha1\nkind: Sandbox\nmetadata:\n  name: %s\nspec:\n  owner: dev%s@example.com\n  sshKeys:\n    - %s\n  size: small\n' \
			"$name" "$(printf "%0${w}d" "$i")" "$key" > "$dir/sandboxes/$name.yaml"
	done
	git -C "$dir" init -q -b main && git -C "$dir" add -A &&
		git -C "$dir" -c user.name=b -c user.email=b@e commit -qm bench
}

# delete_matching RESOURCE REGEX: deletes every RESOURCE whose kubectl name
# (kind/name) matches REGEX, without waiting for it to go. Eight kubectls
# at a time: one alone reads and deletes each object in turn while the
# namespace controller keeps the server busy, and took 13 minutes for the
# 4,000 objects a 1,000-sandbox run leaves.
delete_matching() {
	kubectl get "$1" -o name | grep -E "$2" | xargs -r -P 8 -n 125 kubectl delete --wait=false >/dev/null 2>&1
}
