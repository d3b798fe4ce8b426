#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deploy/ on the local control plane: without the CRD the controller stops
# and says how to install it, and --install-crd installs it; deploy/'s
# server-side dry run, then the real apply; the controller's Deployment
# admitted under the restricted Pod Security level and rolled out; what the
# controller's ServiceAccount may do (`kubectl auth can-i --list`, less what
# any signed-in account may) against the checked-in tables in
# tests/data/rbac/; what it may not do, asked and tried with its own token;
# what a sandbox owner gets through the RoleBinding the controller may
# create; as root, deploy/'s controller pod run under runc; and
# deploy/monitoring applied against the Prometheus Operator's CRDs.
set -uo pipefail
src=${SBX_SOURCE_ROOT:?set SBX_SOURCE_ROOT}
ctl=${SBX_CONTROLLER_BIN:?set SBX_CONTROLLER_BIN}
. "$src/tests/e2e/checks.sh"
[ -n "${KUBECONFIG:-}" ] || { echo "KUBECONFIG is not set: run tests/cluster/up and eval tests/cluster/env"; exit 1; }
tmp=$(mktemp -d)
id=$RANDOM
ns=d$id-sandbox
sa=system:serviceaccount:sandbox-system:sandbox-controller
pod=sandbox-controller-d$id
cid=sbx-controller-$id
install_pid=
cleanup() {
	[ -n "$install_pid" ] && kill "$install_pid" 2>/dev/null
	runc delete -f "$cid" >/dev/null 2>&1
	kubectl delete sandbox "p$id" --wait=false >/dev/null 2>&1
	kubectl get ns -o name | grep "namespace/d$id-" | xargs -r kubectl delete --wait=false >/dev/null 2>&1
	kubectl -n sandbox-system delete configmap "d$id-state" "d$id-health" --wait=false >/dev/null 2>&1
	kubectl -n sandbox-system delete lease sandbox-controller --wait=false >/dev/null 2>&1
	kubectl delete ns "$ns" --wait=false >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$src/tests/e2e/deployed.sh"

# the rows `can-i --list` shows for SUBJECT in NS, less those any signed-in
# account gets (a ServiceAccount bound to nothing); spaces collapsed, the
# words inside each [...] sorted (merged rules list verbs in any order)
can_i_rows() { # subject ns
	kubectl auth can-i --list --as "$1" -n "$2" | python3 -c '
import re, sys
for line in sys.stdin:
    print(re.sub(r"\[([^]]*)\]", lambda m: "[" + " ".join(sorted(m.group(1).split())) + "]",
                 " ".join(line.split())))' | sort -u
}
rights() { # subject ns
	can_i_rows "$1" "$2" > "$tmp/all"
	can_i_rows "system:serviceaccount:$2:nobody-$id" "$2" > "$tmp/base"
	comm -23 "$tmp/all" "$tmp/base"
}
same_rights() { # table subject ns
	local want=$src/tests/data/rbac/$1
	rights "$2" "$3" > "$tmp/got"
	if [ -n "${SBX_UPDATE_GOLDEN:-}" ]; then cp "$tmp/got" "$want"; fi
	diff -u "$want" "$tmp/got"
}
cannot() { # verb resource [ns] : the controller's account may not
	[ "$(kubectl auth can-i "$1" "$2" --as "$sa" ${3:+-n "$3"} 2>/dev/null)" = no ] ||
		{ echo "  the controller may $1 $2${3:+ in $3}"; return 1; }
}
as_controller() { KUBECONFIG=$tmp/controller.kubeconfig kubectl "$@"; }
refused() { # what the controller's own token is refused, with Forbidden
	as_controller "$@" >"$tmp/out" 2>&1 && { echo "  allowed: kubectl $*"; return 1; }
	grep -qi forbidden "$tmp/out" || { cat "$tmp/out"; return 1; }
}

# a cluster that never had it (this removes every Sandbox object: status
# only, a controller writes them again)
kubectl delete crd sandboxes.sandbox.dev --ignore-not-found --timeout=120s >/dev/null
git init -q -b main "$tmp/repo"
check "without the CRD the controller exits 1, naming kubectl apply -k deploy/" bash -c \
	"'$ctl' --repo 'file://$tmp/repo' --state-dir '$tmp/state' --listen '' 2>'$tmp/nocrd.err'; [ \$? -eq 1 ] && grep -q 'not installed: apply deploy/ (kubectl apply -k deploy/) or start once with --install-crd' '$tmp/nocrd.err'"
"$ctl" --repo "file://$tmp/repo" --state-dir "$tmp/state" --listen '' --install-crd >"$tmp/install.log" 2>&1 &
install_pid=$!
check "--install-crd installs it and waits until it is Established" until_ok 60 bash -c \
	"kubectl get crd sandboxes.sandbox.dev -o jsonpath='{.status.conditions[?(@.type==\"Established\")].status}' | grep -qx True"
kill "$install_pid" 2>/dev/null; wait "$install_pid" 2>/dev/null; install_pid=
"$ctl" --print-crd > "$tmp/crd.yaml"
check "... the one --print-crd prints" bash -c "kubectl diff -f '$tmp/crd.yaml' >'$tmp/crd.diff' 2>&1 || { cat '$tmp/crd.diff'; exit 1; }"

check "the namespace applies" kubectl apply -f "$src/deploy/base/namespace.yaml"
check "kubectl apply -k deploy/ --dry-run=server" bash -c "kubectl apply -k '$src/deploy' --dry-run=server >'$tmp/dry' 2>&1 || { cat '$tmp/dry'; exit 1; }"
check "the production overlay builds with its registry, repository and StorageClass" bash -c \
	"kubectl kustomize '$src/deploy/overlays/production' > '$tmp/prod' && grep -q 'image: .*dkr.ecr.*/sandbox-controller:' '$tmp/prod' && grep -q 'SANDBOX_REPO: ssh://git@github.com/acme/' '$tmp/prod' && grep -q '^kind: StorageClass' '$tmp/prod'"
check "... and passes a server-side dry run" bash -c "kubectl apply -k '$src/deploy/overlays/production' --dry-run=server >'$tmp/dry' 2>&1 || { cat '$tmp/dry'; exit 1; }"
check "kubectl apply -k deploy/" deploy_install
check "the Deployment is admitted (restricted Pod Security) and rolls out 2 replicas" \
	bash -c "kubectl -n sandbox-system rollout status deploy/sandbox-controller --timeout=60s >/dev/null && [ \"\$(kubectl -n sandbox-system get deploy sandbox-controller -o jsonpath='{.status.readyReplicas}')\" = 2 ]"
check "the CRD is Established" bash -c "kubectl get crd sandboxes.sandbox.dev -o jsonpath='{.status.conditions[?(@.type==\"Established\")].status}' | grep -qx True"
check "a token for the controller's ServiceAccount" service_account_kubeconfig "$tmp/controller.kubeconfig"
check "... which the API server knows as that account" bash -c "as_controller() { KUBECONFIG='$tmp/controller.kubeconfig' kubectl \"\$@\"; }; as_controller auth whoami -o jsonpath='{.status.userInfo.username}' | grep -qx '$sa'"

check "the controller's rights in its own namespace match tests/data/rbac/controller-own-namespace.txt" \
	same_rights controller-own-namespace.txt "$sa" sandbox-system
check "... and in any other namespace match controller-other-namespace.txt" \
	same_rights controller-other-namespace.txt "$sa" default
check "no wildcard in the controller's rules" bash -c \
	"kubectl get clusterrole sandbox-controller -o json > '$tmp/cr.json' && kubectl -n sandbox-system get role sandbox-controller -o json > '$tmp/r.json' && python3 -c 'import json,sys; rules=[r for f in sys.argv[1:] for r in json.load(open(f))[\"rules\"]]; assert rules and not any(\"*\" in v for r in rules for k in (\"apiGroups\",\"resources\",\"verbs\",\"resourceNames\") for v in r.get(k, [])), rules' '$tmp/cr.json' '$tmp/r.json'"
check "it may not create ClusterRoles or ClusterRoleBindings" bash -c "$(declare -f cannot); sa='$sa'; cannot create clusterroles && cannot create clusterrolebindings"
check "it may not escalate or bind any ClusterRole but sandbox-owner" bash -c \
	"$(declare -f cannot); sa='$sa'; cannot escalate clusterroles && cannot escalate roles default && cannot bind clusterroles/cluster-admin && cannot bind clusterroles/admin && cannot bind clusterroles/sandbox-viewer"
check "it may not impersonate, exec into pods or touch nodes" bash -c \
	"$(declare -f cannot); sa='$sa'; cannot impersonate users && cannot impersonate serviceaccounts && cannot create pods/exec default && cannot create pods default && cannot get nodes"
check "it may not install, change or delete CRDs" bash -c \
	"$(declare -f cannot); sa='$sa'; cannot create customresourcedefinitions && cannot patch customresourcedefinitions/sandboxes.sandbox.dev && cannot delete customresourcedefinitions/sandboxes.sandbox.dev && cannot get customresourcedefinitions/other.example.com"
check "it may change no Lease but sandbox-activity (and its own, at home)" bash -c "$(declare -f cannot); sa='$sa'; cannot patch leases/kube-controller-manager kube-system && cannot delete leases/kube-scheduler kube-system && cannot patch leases/node-1 kube-node-lease && cannot get leases/sandbox-controller default && cannot update leases/sandbox-activity default"
check "it may not write cluster-scoped RBAC (the viewer role is in deploy/ now)" bash -c "$(declare -f cannot); sa='$sa'; cannot patch clusterroles/sandbox-viewer && cannot delete clusterrolebindings/sandbox-viewer"

# tried for real with its own token, in a namespace it creates
kubectl create ns "$ns" >/dev/null
check "it may bind sandbox-owner in a sandbox namespace" as_controller -n "$ns" create rolebinding sandbox-owner --clusterrole sandbox-owner --user "dev-$id@example.com"
check "binding cluster-admin is refused by the API server" refused -n "$ns" create rolebinding escalate --clusterrole cluster-admin --user "dev-$id@example.com"
check "binding admin is refused" refused -n "$ns" create rolebinding escalate --clusterrole admin --user "dev-$id@example.com"
check "a Role with rights it lacks (pods/exec) is refused" refused -n "$ns" create role wider --verb create --resource pods/exec
check "a ClusterRoleBinding is refused" refused create clusterrolebinding "d$id" --clusterrole sandbox-owner --user "dev-$id@example.com"
check "reading nodes is refused" refused get nodes
check "the owner gets exactly tests/data/rbac/sandbox-owner.txt in the sandbox namespace" \
	same_rights sandbox-owner.txt "dev-$id@example.com" "$ns"
check "... and nothing in another namespace" bash -c "[ \"\$(kubectl auth can-i get pods --as 'dev-$id@example.com' -n default)\" = no ]"
check "any signed-in user may list Sandboxes (sandbox-viewer)" bash -c "[ \"\$(kubectl auth can-i list sandboxes.sandbox.dev --as 'someone-$id@example.com' --as-group system:authenticated)\" = yes ]"

# --- deploy/'s controller pod, run: the controller image's file system
# (images/controller/runtime-root) under runc, set up by pod-bundle.py from
# the live Deployment and ConfigMap: uid 65532, read-only root, emptyDir
# state and /tmp, the git and webhook Secrets, the ServiceAccount's token
# where the kubelet mounts it, --in-cluster --leader-elect. Two
# differences from a node: the host's network (the API server listens on
# loopback, so KUBERNETES_SERVICE_HOST is 127.0.0.1), hence one more
# --listen on a free loopback port instead of :8080; and SANDBOX_REPO
# names a file:// repository mounted at /repo.
if [ "$(id -u)" -eq 0 ]; then
	git init -q -b main "$tmp/seed"
	mkdir -p "$tmp/seed/sandboxes"
	cp -r "$src/templates" "$tmp/seed/"
	sed -i "s/^  namespacePrefix: .*/  namespacePrefix: d$id-/" "$tmp/seed/templates/policy.yaml"
	sed "s/^  name: alice$/  name: p$id/" "$src/sandboxes/alice.yaml" > "$tmp/seed/sandboxes/p$id.yaml"
	git -C "$tmp/seed" add -A && git -C "$tmp/seed" -c user.name=t -c user.email=t@example.com commit -qm seed
	git clone -q --bare "$tmp/seed" "$tmp/remote.git"
	sh "$src/images/controller/runtime-root" "$ctl" "$tmp/ctlroot"
	mkdir -p "$tmp/ctlroot/repo" "$tmp/ctlroot/proc" "$tmp/ctlroot/dev" "$tmp/ctlroot/sys" \
		"$tmp/ctlroot/etc/sandbox-controller/git" "$tmp/ctlroot/etc/sandbox-controller/webhook" \
		"$tmp/ctlroot/var/run/secrets/kubernetes.io/serviceaccount"
	port=$(listen_port $((id + 7)))
	server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
	ca=$(kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority}')
	python3 - "$tmp" "$id" "$port" "$server" "$ca" > "$tmp/pod.json" <<'PY'
import json, subprocess, sys, base64, urllib.parse
tmp, id_, port, server, ca = sys.argv[1:6]
kc = lambda *a: json.loads(subprocess.check_output(["kubectl", "-n", "sandbox-system", *a, "-o", "json"]))
cm = kc("get", "configmap", "sandbox-controller")
cm["data"]["SANDBOX_REPO"] = "file:///repo"
cm["data"]["SANDBOX_POLL_INTERVAL"] = "1"
cm["data"]["SANDBOX_INSTANCE"] = "d" + id_   # its own state ConfigMap and tracking ids
token = subprocess.check_output(["kubectl", "-n", "sandbox-system", "create", "token", "sandbox-controller"]).decode().strip()
b64 = lambda b: base64.b64encode(b).decode()
u = urllib.parse.urlparse(server)
print(json.dumps({
    "deployment": kc("get", "deploy", "sandbox-controller"),
    "configmaps": {"sandbox-controller": cm},
    "secrets": {"sandbox-controller-git": {"data": {"ssh-privatekey": b64(b"unused for file://\n"), "known_hosts": b64(b"")}},
                "sandbox-controller-webhook": {"data": {"secret": b64(b"webhook-secret-" + id_.encode())}}},
    "pod": {"name": "sandbox-controller-d" + id_, "namespace": "sandbox-system"},
    "entrypoint": ["/usr/local/bin/sandbox-controller"],
    "serviceaccount": {"token": token, "ca.crt": open(ca).read(), "namespace": "sandbox-system"},
    "env": {"KUBERNETES_SERVICE_HOST": u.hostname, "KUBERNETES_SERVICE_PORT": str(u.port)},
    "extra_args": ["--listen=127.0.0.1:" + port]}))
PY
	python3 "$src/tests/e2e/pod-bundle.py" "$tmp/bundle" "$tmp/ctlroot" host < "$tmp/pod.json" 2>"$tmp/bundle.err" ||
		cat "$tmp/bundle.err"
	# the repository, read-only at /repo
	python3 - "$tmp/bundle/config.json" "$tmp/remote.git" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["mounts"].append({"destination": "/repo", "type": "bind", "source": sys.argv[2], "options": ["rbind", "ro"]})
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
	chown -R 65532:65532 "$tmp/remote.git"
	check "deploy/'s controller pod starts under runc (uid 65532, read-only root)" bash -c \
		"runc run -d --bundle '$tmp/bundle' '$cid' </dev/null >'$tmp/pod.log' 2>&1 || { cat '$tmp/pod.log'; exit 1; }"
	check "... it is ready (/readyz) in-cluster, with the account's token" until_ok 60 curl -sf "http://127.0.0.1:$port/readyz"
	check "... and alive (/healthz)" curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"
	check "... holds the Lease in sandbox-system as its pod name" until_ok 30 bash -c \
		"[ \"\$(kubectl -n sandbox-system get lease sandbox-controller -o jsonpath='{.spec.holderIdentity}')\" = $pod ]"
	check "... and brings a sandbox to Synced" until_ok 90 bash -c \
		"[ \"\$(kubectl get sandbox p$id -o jsonpath='{.status.sync}')\" = Synced ]"
	check "... the owner's RoleBinding names the sandbox-owner ClusterRole" bash -c \
		"[ \"\$(kubectl -n d$id-p$id get rolebinding sandbox-owner -o jsonpath='{.roleRef.kind}/{.roleRef.name}')\" = ClusterRole/sandbox-owner ]"
	check "... its process runs as 65532 with no capabilities" bash -c \
		"st=/proc/\$(runc state '$cid' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"pid\"])')/status; grep -q '^Uid:.65532' \$st && grep -q '^CapEff:.0000000000000000' \$st"
	check "... and it stops on SIGTERM, letting the Lease go" bash -c \
		"runc kill '$cid' TERM && for i in \$(seq 40); do runc state '$cid' 2>/dev/null | grep -q '\"status\": \"stopped\"' && break; sleep 0.5; done; runc state '$cid' | grep -q '\"status\": \"stopped\"' && [ -z \"\$(kubectl -n sandbox-system get lease sandbox-controller -o jsonpath='{.spec.holderIdentity}')\" ]"
	check "... with nothing logged as an error or by a sanitizer" bash -c \
		"grep -q 'became the leader' '$tmp/pod.log' && ! grep -E 'level=error|Sanitizer' '$tmp/pod.log'"
else
	check "deploy/'s controller pod under runc needs root" false
fi

# deploy/monitoring against the Prometheus Operator's own CRDs (from its Go
# module): the API server checks the PrometheusRule and the ServiceMonitor
# against their schemas
mon=$("$src/tests/monitoring/build") || mon=
check "the Prometheus Operator's CRDs install" bash -c "[ -n '$mon' ] && for c in prometheusrules servicemonitors; do
	kubectl get crd \$c.monitoring.coreos.com >/dev/null 2>&1 || { kubectl apply --server-side -f '$mon/crds/monitoring.coreos.com_'\$c.yaml >/dev/null && echo \$c >>'$tmp/crds-created'; } || exit 1; done &&
	kubectl wait --for condition=Established --timeout 60s crd/prometheusrules.monitoring.coreos.com crd/servicemonitors.monitoring.coreos.com >/dev/null"
check "kubectl apply -k deploy/monitoring: admitted by the CRDs' schemas" kubectl apply --server-side -k "$src/deploy/monitoring"
check "... the PrometheusRule holds every alert of rules.yaml" bash -c \
	"[ \"\$(kubectl -n sandbox-system get prometheusrule sandbox-controller -o jsonpath='{.spec.groups[*].rules[*].alert}')\" = \"\$(sed -n 's/^      - alert: //p' '$src/deploy/monitoring/rules.yaml' | xargs)\" ]"
check "... the ServiceMonitor selects the controller's Service and its port" bash -c \
	"sel=\$(kubectl -n sandbox-system get servicemonitor sandbox-controller -o go-template='{{range \$k, \$v := .spec.selector.matchLabels}}{{\$k}}={{\$v}},{{end}}'); port=\$(kubectl -n sandbox-system get servicemonitor sandbox-controller -o jsonpath='{.spec.endpoints[0].port}'); [ -n \"\$port\" ] && kubectl -n sandbox-system get svc -l \"\${sel%,}\" -o jsonpath='{.items[*].spec.ports[*].name}' | grep -qw \"\$port\""
check "... the dashboard ConfigMap carries the sidecar's label and the dashboard as it is in git" bash -c \
	"kubectl -n sandbox-system get configmap -l grafana_dashboard=1 -o name | grep -qx configmap/sandbox-controller-dashboards && kubectl -n sandbox-system get configmap sandbox-controller-dashboards -o jsonpath='{.data.sandbox-fleet\\.json}' | diff -q - '$src/deploy/monitoring/dashboards/sandbox-fleet.json' >/dev/null"
kubectl delete --ignore-not-found -k "$src/deploy/monitoring" >/dev/null 2>&1
[ -f "$tmp/crds-created" ] && while read -r c; do kubectl delete crd "$c.monitoring.coreos.com" >/dev/null 2>&1; done <"$tmp/crds-created"
checks_done
