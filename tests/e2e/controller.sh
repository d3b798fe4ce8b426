#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sandbox-controller end to end on the local control plane (tests/cluster)
# with a real git remote over file://, or over ssh:// through a real sshd
# on loopback when SBX_E2E_GIT=ssh: create, drift reverted, resize, an
# invalid file isolated, remove and restore within the grace period, grace
# expiry, mass delete blocked, a conflict with an unowned object, webhook
# signatures, a kill mid-sync, zero writes on an unchanged resync, the
# metrics the alerts and the dashboard read (and that they read nothing
# else: promtool check metrics and querycheck on the live page), and
# leader election.
set -uo pipefail
ctl=${SBX_CONTROLLER_BIN:?set SBX_CONTROLLER_BIN}
src=${SBX_SOURCE_ROOT:?set SBX_SOURCE_ROOT}
. "$src/tests/e2e/checks.sh"
transport=${SBX_E2E_GIT:-file}
. "$src/tests/e2e/sshd.sh"
[ -n "${KUBECONFIG:-}" ] || { echo "KUBECONFIG is not set: run tests/cluster/up and eval tests/cluster/env"; exit 1; }
tmp=$(mktemp -d)
id=$RANDOM
prefix="e$id-"
secret=webhook-secret-$id
port=$(listen_port "$id")
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	stop_sshd
	for n in ana ben cyd dee "zed-$id"; do kubectl delete sandbox "$n" --wait=false >/dev/null 2>&1; done
	kubectl get ns -o name | grep "namespace/$prefix" | xargs -r kubectl delete --wait=false >/dev/null 2>&1
	kubectl -n sandbox-system delete configmap "e2e-$id-state" "e2e-$id-health" --wait=false >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
# the controller runs as the ServiceAccount deploy/ installs, not as admin
. "$src/tests/e2e/deployed.sh"
controller_as_service_account || { echo "could not install deploy/ or get the controller's token"; exit 1; }

on_failure() {
	kubectl get sandboxes ana ben cyd dee -o custom-columns='NAME:.metadata.name,SYNC:.status.sync,HEALTH:.status.health,MESSAGE:.status.message' 2>/dev/null | sed 's/^/  # /'
	tail -5 "$tmp/controller.log" | sed 's/^/  # /'
}
field() { kubectl get sandbox "$1" -o "jsonpath={.status.$2}" 2>/dev/null; }
status_is() { [ "$(field "$1" sync)/$(field "$1" health)" = "$2" ]; }
ns() { echo "$prefix$1"; }

# the GitOps repository: this project's templates, a short grace period, three developers
. "$src/tests/e2e/gitops.sh"
gitops_repo "$tmp/repo" "$prefix" 's/^    gracePeriod: .*/    gracePeriod: 20s/' 's/^    maxPrunePercent: .*/    maxPrunePercent: 50/'
sandbox ana small; sandbox ben small; sandbox cyd small
commit "three sandboxes"
printf '%s' "$secret" > "$tmp/secret"

# the controller's url: the repository itself, or the same folder through sshd
git_flags=()
url="file://$repo"
if [ "$transport" = ssh ]; then
	start_sshd "$tmp/sshd" || exit 1
	url="ssh://$(id -un)@127.0.0.1:$sshd_port$repo"
	git_flags=(--git-ssh-key "$tmp/sshd/client" --git-known-hosts "$tmp/sshd/known_hosts")
	# the sanitizer build: libgit2's own ssh leaks are not ours (see the file)
	export LSAN_OPTIONS="suppressions=$src/tests/data/lsan-libgit2-ssh.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
	export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
fi
echo "# git over $url"

start() {
	"$ctl" --repo "$url" "${git_flags[@]}" --state-dir "$tmp/state" --listen "127.0.0.1:$port" \
		--webhook-secret-file "$tmp/secret" --poll-interval 3600 --instance "e2e-$id" \
		--workers 8 >>"$tmp/controller.log" 2>&1 &
	pid=$!
	until_ok 30 curl -sf "http://127.0.0.1:$port/readyz"
}
hook() { # [secret] -> HTTP code
	local body='{"ref":"refs/heads/main"}' sig
	sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "${1:-$secret}" | sed 's/^.* //')
	curl -s -o /dev/null -w '%{http_code}' -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$sig" \
		-H 'Content-Type: application/json' --data "$body" "http://127.0.0.1:$port/webhook"
}
export -f field status_is ns hook
export secret port prefix

check "controller starts and is ready" start
check "create: all three Synced and Healthy" until_ok 90 bash -c "[ \"\$(kubectl get sandboxes ana ben cyd -o jsonpath='{.items[*].status.sync}{.items[*].status.health}')\" = 'Synced Synced SyncedHealthy Healthy Healthy' ]"
check "status names the revision and the host-key fingerprint" bash -c "[ \"$(field ana observedRevision)\" = \"$(git -C "$repo" rev-parse HEAD)\" ] && field ana ssh.hostKeyFingerprint | grep -q '^SHA256:'"
check "kubectl get sandboxes shows the printer columns" bash -c "kubectl get sandboxes ana | head -1 | grep -q 'OWNER.*SIZE.*SYNC.*HEALTH.*REVISION.*AGE'"

# drift: out-of-band edits are reverted through the watch, no poll needed
kubectl -n "$(ns ana)" patch deployment sandbox --type json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/cpu","value":"3"}]' >/dev/null
check "drift: Deployment resources reverted" until_ok 30 bash -c "[ \"\$(kubectl -n $(ns ana) get deploy sandbox -o jsonpath='{.spec.template.spec.containers[0].resources.limits.cpu}')\" = 1 ]"
kubectl -n "$(ns ana)" delete networkpolicy sandbox >/dev/null
check "drift: deleted NetworkPolicy recreated" until_ok 30 kubectl -n "$(ns ana)" get networkpolicy sandbox
kubectl label namespace "$(ns ana)" pod-security.kubernetes.io/enforce- >/dev/null
check "drift: pod-security label restored" until_ok 30 bash -c "[ \"\$(kubectl get ns $(ns ana) -o jsonpath='{.metadata.labels.pod-security\\.kubernetes\\.io/enforce}')\" = restricted ]"
kubectl -n "$(ns ana)" patch resourcequota sandbox --type merge -p '{"spec":{"hard":{"limits.cpu":"64"}}}' >/dev/null
check "drift: raised quota restored" until_ok 30 bash -c "[ \"\$(kubectl -n $(ns ana) get resourcequota sandbox -o jsonpath='{.spec.hard.limits\\.cpu}')\" = 1 ]"
check "drift corrections counted" bash -c "[ \$(curl -sf http://127.0.0.1:$port/metrics | awk '\$1 == \"sandbox_drift_corrections_total\" {print \$2}') -ge 3 ]"

# webhook: a bad or missing signature fetches nothing
sandbox ben medium; commit "ben: medium"
check "webhook: bad signature gets 401" bash -c "[ \"\$(hook wrong-secret)\" = 401 ]"
check "webhook: missing signature gets 401" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --data '{}' http://127.0.0.1:$port/webhook)\" = 401 ]"
sleep 3
check "webhook: nothing fetched after bad signatures" bash -c "[ \"\$(kubectl -n $(ns ben) get resourcequota sandbox -o jsonpath='{.spec.hard.limits\\.cpu}')\" = 1 ]"
check "webhook: good signature gets 202" bash -c "[ \"\$(hook)\" = 202 ]"
check "resize: quota and Deployment follow the new size" until_ok 30 bash -c "[ \"\$(kubectl -n $(ns ben) get resourcequota sandbox -o jsonpath='{.spec.hard.limits\\.cpu}')/\$(kubectl -n $(ns ben) get deploy sandbox -o jsonpath='{.spec.template.spec.containers[0].resources.limits.memory}')\" = 2/4Gi ]"
check "resize: Synced again" until_ok 60 status_is ben Synced/Healthy

# an invalid file is reported and its objects left alone; the others proceed
ana_rv=$(kubectl -n "$(ns ana)" get deploy sandbox -o jsonpath='{.metadata.resourceVersion}')
sed -i 's/^  size: small/  size: small\n  colour: blue/' "$repo/sandboxes/ana.yaml"
sandbox ben large; commit "ana: invalid; ben: large"; hook >/dev/null
check "invalid file: InvalidSpec with the located error" until_ok 30 bash -c "[ \"\$(kubectl get sandbox ana -o jsonpath='{.status.sync}')\" = InvalidSpec ] && kubectl get sandbox ana -o jsonpath='{.status.problems}' | grep -q \"sandboxes/ana.yaml:10:3: unknown field 'colour'\""
check "invalid file: the other sandbox proceeds" until_ok 30 bash -c "[ \"\$(kubectl -n $(ns ben) get resourcequota sandbox -o jsonpath='{.spec.hard.limits\\.cpu}')\" = 4 ]"
check "invalid file: its live objects are untouched" bash -c "[ \"\$(kubectl -n $(ns ana) get deploy sandbox -o jsonpath='{.metadata.resourceVersion}')\" = $ana_rv ]"
sandbox ana small; commit "ana: fixed"; hook >/dev/null
check "fixed file: Synced again" until_ok 60 status_is ana Synced/Healthy

# remove and restore within the grace period: data kept
pvc_uid=$(kubectl -n "$(ns cyd)" get pvc home -o jsonpath='{.metadata.uid}')
git -C "$repo" rm -q sandboxes/cyd.yaml && commit "cyd: remove"; hook >/dev/null
check "remove: PendingDelete" until_ok 30 bash -c "[ \"\$(kubectl get sandbox cyd -o jsonpath='{.status.sync}')\" = PendingDelete ]"
check "remove: workload stopped" until_ok 30 bash -c "[ \"\$(kubectl -n $(ns cyd) get deploy sandbox -o jsonpath='{.spec.replicas}')\" = 0 ]"
check "remove: namespace and volume kept" kubectl -n "$(ns cyd)" get pvc home
sandbox cyd small; commit "cyd: restore"; hook >/dev/null
check "restore: Synced and Healthy again" until_ok 60 status_is cyd Synced/Healthy
check "restore: same volume (data kept)" bash -c "[ \"\$(kubectl -n $(ns cyd) get pvc home -o jsonpath='{.metadata.uid}')\" = $pvc_uid ]"

# mass delete: removing more than maxPrunePercent (50%) deletes nothing
git -C "$repo" rm -q sandboxes/ben.yaml sandboxes/cyd.yaml && commit "remove two of three"; hook >/dev/null
check "mass delete: PruneBlocked with the reason" until_ok 30 bash -c "[ \"\$(kubectl get sandbox cyd -o jsonpath='{.status.sync}')\" = PruneBlocked ] && kubectl get sandbox cyd -o jsonpath='{.status.message}' | grep -q maxPrunePercent"
check "mass delete: workloads still running" bash -c "[ \"\$(kubectl -n $(ns cyd) get deploy sandbox -o jsonpath='{.spec.replicas}')\" = 1 ]"
sandbox ben large; sandbox cyd small; commit "restore both"; hook >/dev/null
check "mass delete: restored revision syncs" until_ok 60 bash -c "[ \"\$(kubectl get sandboxes ben cyd -o jsonpath='{.items[*].status.sync}')\" = 'Synced Synced' ]"

# grace expiry: after gracePeriod (20s) the namespace goes
git -C "$repo" rm -q sandboxes/cyd.yaml && commit "cyd: remove for good"; hook >/dev/null
check "grace: PendingDelete first" until_ok 30 bash -c "[ \"\$(kubectl get sandbox cyd -o jsonpath='{.status.sync}')\" = PendingDelete ]"
check "grace: namespace deleted after the grace period" until_ok 90 bash -c "! kubectl get ns $(ns cyd) -o jsonpath='{.status.phase}' | grep -q Active"
check "grace: Sandbox object gone" until_ok 60 bash -c "! kubectl get sandbox cyd"

# conflict: an object that is not ours is never touched
kubectl create namespace "$(ns dee)" >/dev/null
sandbox dee small; commit "dee: new"; hook >/dev/null
check "conflict: status Conflict naming the object" until_ok 30 bash -c "[ \"\$(kubectl get sandbox dee -o jsonpath='{.status.sync}')\" = Conflict ] && kubectl get sandbox dee -o jsonpath='{.status.message}' | grep -q 'Namespace $(ns dee) exists and is not managed'"
check "conflict: the unowned namespace is left alone" bash -c "[ -z \"\$(kubectl get ns $(ns dee) -o jsonpath='{.metadata.labels.app\\.kubernetes\\.io/managed-by}')\" ] && ! kubectl -n $(ns dee) get deploy sandbox"
check "conflict: a Warning Event names it" until_ok 30 bash -c "kubectl get events -n default --field-selector involvedObject.name=dee,reason=Conflict -o name | grep -q ."
kubectl delete namespace "$(ns dee)" --wait=true >/dev/null 2>&1
check "conflict: once that namespace goes, the sandbox is applied without another push" until_ok 60 bash -c "[ \"\$(kubectl get sandbox dee -o jsonpath='{.status.sync}')\" = Synced ] && kubectl -n $(ns dee) get deploy sandbox >/dev/null 2>&1"
git -C "$repo" rm -q sandboxes/dee.yaml && commit "dee: gone"; hook >/dev/null
check "conflict: ... and removed again once its grace period ends" until_ok 90 bash -c "! kubectl get sandbox dee >/dev/null 2>&1"

# another instance's Sandbox (the same cluster, another repository): its
# watch event reaches this controller, which must leave it alone
kubectl apply -f - >/dev/null <<YAML
apiVersion: sandbox.dev/v1alpha1
kind: Sandbox
metadata:
  name: zed-$id
  labels: {app.kubernetes.io/managed-by: sandbox-controller, sandbox.dev/name: zed-$id}
  annotations: {sandbox.dev/tracking-id: "other-$id:sandbox.dev/Sandbox:/zed-$id"}
spec: {owner: zed@example.com, namespace: other-zed-$id}
YAML
zed_rv=$(kubectl get sandbox "zed-$id" -o jsonpath='{.metadata.resourceVersion}')
sleep 3
check "another instance's Sandbox is not touched" bash -c "[ \"\$(kubectl get sandbox zed-$id -o jsonpath='{.metadata.resourceVersion}/{.status}')\" = '$zed_rv/' ]"
kubectl delete sandbox "zed-$id" --wait=false >/dev/null 2>&1

# killed mid-sync: a new sandbox, a crash, a restart; it converges
sandbox cyd small; commit "cyd: back"; hook >/dev/null
sleep 0.2
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
check "restart after a crash" start
check "crash: converges after restart" until_ok 90 status_is cyd Synced/Healthy

# an unchanged resync makes zero writes: restart, sync everything, count
kill "$pid"; wait "$pid"; pid=
check "SIGTERM exits 0" bash -c "true"
start
until_ok 30 bash -c "[ \$(curl -sf http://127.0.0.1:$port/metrics | awk '\$1 ~ /^sandbox_reconciles_total/ {s += \$2} END {print s + 0}') -ge 3 ]"
sleep 2
check "no-op resync: zero writes" bash -c "[ \$(curl -sf http://127.0.0.1:$port/metrics | awk '\$1 ~ /^sandbox_writes_total/ {s += \$2} END {print s + 0}') = 0 ]"
check "no-op resync: no write requests at all" bash -c "! curl -sf http://127.0.0.1:$port/metrics | grep -E '^sandbox_api_requests_total\\{verb=\"(PATCH|POST|PUT|DELETE)\"'"
check "metrics: sandboxes by sync and health" bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q '^sandbox_sandboxes{sync=\"Synced\",health=\"Healthy\"} 3'"
check "no secret in the log" bash -c "! grep -q '$secret' '$tmp/controller.log'"
server_version=$(kubectl version -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')
check "the log names the API server's Kubernetes version ($server_version)" \
	grep -q "level=info msg=\"the API server runs Kubernetes $server_version\"" "$tmp/controller.log"

# an admission refusal shows in status: a template change that the
# namespace's Pod Security level refuses leaves the pods uncreated
# (FailedCreate); taking it out of the template takes it out of the cluster
cp "$repo/templates/deployment.yaml" "$tmp/deployment.yaml"
sed -i 's/^      automountServiceAccountToken: false/      automountServiceAccountToken: false\n      hostPID: true/' "$repo/templates/deployment.yaml"
commit "templates: hostPID"; hook >/dev/null
check "admission refusal: Degraded with the reason" until_ok 60 bash -c "[ \"\$(kubectl get sandbox ana -o jsonpath='{.status.health}')\" = Degraded ] && kubectl get sandbox ana -o jsonpath='{.status.message}' | grep -q 'FailedCreate.*violates PodSecurity'"
check "metrics: the Degraded sandbox is named in sandbox_status" until_ok 10 bash -c "curl -sf http://127.0.0.1:$port/metrics | grep -q '^sandbox_status{sandbox=\"ana\",sync=\"Synced\",health=\"Degraded\"} 1'"
cp "$tmp/deployment.yaml" "$repo/templates/deployment.yaml"
commit "templates: back"; hook >/dev/null
check "removed template field: removed from the cluster, Healthy again" until_ok 60 bash -c "[ -z \"\$(kubectl -n $(ns ana) get deploy sandbox -o jsonpath='{.spec.template.spec.hostPID}')\" ] && status_is ana Synced/Healthy"

# monitoring: what deploy/monitoring/ queries is what /metrics exports
metric() { curl -sf "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
export -f metric
check "metrics: commit to applied and to ready observed for the template changes" until_ok 60 bash -c "[ \$(metric sandbox_commit_to_applied_seconds_count) -ge 3 ] && [ \$(metric sandbox_commit_to_ready_seconds_count) -ge 3 ]"
check "metrics: the newest revision is applied (head_unapplied 0), this replica leads" until_ok 30 bash -c "[ \"\$(metric sandbox_head_unapplied_seconds)/\$(metric sandbox_leader)\" = 0/1 ]"
cp "$repo/templates/networkpolicy.yaml" "$tmp/networkpolicy.yaml"
sed -i 's/port: 2222/port: 70000/' "$repo/templates/networkpolicy.yaml"
commit "templates: a port the API server refuses"; hook >/dev/null
check "metrics: a refused apply counts as a reconcile error with reason invalid" until_ok 30 bash -c "[ \"\$(metric 'sandbox_reconcile_errors_total{reason=\"invalid\"}')\" -ge 1 ]"
check "metrics: the refused revision is not applied (head_unapplied > 0)" until_ok 10 bash -c "v=\$(metric sandbox_head_unapplied_seconds); [ -n \"\$v\" ] && [ \"\$v\" != 0 ]"
cp "$tmp/networkpolicy.yaml" "$repo/templates/networkpolicy.yaml"
commit "templates: port back"; hook >/dev/null
check "metrics: the next revision applies (head_unapplied 0 again)" until_ok 60 bash -c "[ \"\$(metric sandbox_head_unapplied_seconds)\" = 0 ]"
mon=$("$src/tests/monitoring/build") || mon=
curl -sf "http://127.0.0.1:$port/metrics" >"$tmp/metrics.txt"
check "promtool check metrics passes on the live /metrics" bash -c "[ -n '$mon' ] && '$mon/promtool' check metrics <'$tmp/metrics.txt'"
check "the dashboard and the alert rules query only what /metrics exports" \
	"$mon/querycheck" -metrics "$tmp/metrics.txt" -rules "$src/deploy/monitoring/rules.yaml" "$src"/deploy/monitoring/dashboards/*.json

# leader election: two replicas, one leader; the other takes over when it stops
kill "$pid"; wait "$pid" 2>/dev/null; pid=
lease_ns=sandbox-system
"$ctl" --repo "$url" "${git_flags[@]}" --state-dir "$tmp/state-a" --listen '' --instance "e2e-$id" --leader-elect \
	--lease-namespace "$lease_ns" --identity "a-$id" --poll-interval 3600 >"$tmp/a.log" 2>&1 &
pa=$!
until_ok 30 grep -q 'became the leader' "$tmp/a.log"
"$ctl" --repo "$url" "${git_flags[@]}" --state-dir "$tmp/state-b" --listen "127.0.0.1:$port" --instance "e2e-$id" --leader-elect \
	--lease-namespace "$lease_ns" --identity "b-$id" --poll-interval 3600 >"$tmp/b.log" 2>&1 &
pb=$!
sleep 4
check "leader election: one leader" bash -c "grep -q 'became the leader' '$tmp/a.log' && ! grep -q 'became the leader' '$tmp/b.log'"
check "metrics: the follower says sandbox_leader 0 and exports no head_unapplied" until_ok 10 bash -c "[ \"\$(metric sandbox_leader)\" = 0 ] && [ -z \"\$(metric sandbox_head_unapplied_seconds)\" ]"
check "leader election: the Lease names it" bash -c "[ \"\$(kubectl -n $lease_ns get lease sandbox-controller -o jsonpath='{.spec.holderIdentity}')\" = a-$id ]"
kill "$pa"; wait "$pa" 2>/dev/null
check "leader election: the other takes over" until_ok 30 grep -q 'became the leader' "$tmp/b.log"
check "metrics: the new leader says sandbox_leader 1" until_ok 10 bash -c "[ \"\$(metric sandbox_leader)\" = 1 ]"
kill "$pb"; wait "$pb" 2>/dev/null

checks_done
