# Sourced by the controller e2e scripts (after checks.sh, with src, tmp
# and ctl set): installs deploy/ as the admin of KUBECONFIG, then makes
# `ctl` a wrapper that runs the controller as the deployed ServiceAccount
# (a token from `kubectl create token`), never as admin, with its Lease and
# state ConfigMap in the deployed namespace. Every check of the script then
# shows that the deployed ClusterRole is enough.
deployed_ns=sandbox-system

deploy_install() {
	# the namespace first: a fresh cluster has none for the rest to go in
	kubectl apply -f "$src/deploy/base/namespace.yaml" >/dev/null &&
		kubectl apply -k "$src/deploy" >/dev/null 2>"$tmp/deploy.err" ||
		{ cat "$tmp/deploy.err"; return 1; }
}

# service_account_kubeconfig FILE [ACCOUNT]: the admin kubeconfig's server
# and CA, with the token of ACCOUNT in the deployed namespace (default: the
# controller's)
service_account_kubeconfig() {
	local server ca token
	server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}') &&
	ca=$(kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority}') &&
	token=$(kubectl -n "$deployed_ns" create token "${2:-sandbox-controller}" --duration 4h) || return 1
	cat > "$1" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "$server", certificate-authority: "$ca"}}]
users: [{name: sandbox-controller, user: {token: "$token"}}]
contexts: [{name: controller, context: {cluster: local, user: sandbox-controller}}]
current-context: controller
YAML
	chmod 600 "$1"
}

controller_as_service_account() {
	deploy_install && service_account_kubeconfig "$tmp/controller.kubeconfig" || return 1
	mkdir -p "$tmp/bin"
	printf '#!/bin/bash\nKUBECONFIG=%q SANDBOX_LEASE_NAMESPACE=%q exec %q "$@"\n' \
		"$tmp/controller.kubeconfig" "$deployed_ns" "$ctl" > "$tmp/bin/sandbox-controller"
	chmod +x "$tmp/bin/sandbox-controller"
	ctl=$tmp/bin/sandbox-controller
}
