#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The deleting rules and the never-blocking loop of sandbox-controller, end
# to end on the local control plane, with the repository served over
# ssh:// by a real sshd behind a proxy that can turn into a tarpit:
#   - a refused file (a symlink, a *.yml name) is InvalidSpec, never removed;
#   - the breaker counts what one revision removes against the revision in
#     force: one removal at a time always goes, two at once of five do not;
#     PendingDelete clocks are kept while removals are refused, and valid
#     sandboxes prune nothing meanwhile;
#   - kill -9 while refused: still refused after the restart;
#   - the end of the grace period is ordered (workload, namespace, then the
#     Sandbox) and retried while the namespace cannot be deleted;
#   - a namespace the sandbox did not create is never deleted
#     (namespacePrefix ""), a copy of a managed object elsewhere survives;
#   - REVISION stays on a drift correction;
#   - a git server that never answers: /healthz, watches and the Lease go on;
#   - a replica that lost its Lease writes nothing;
#   - a token in the repository url appears nowhere.
set -uo pipefail
ctl=${SBX_CONTROLLER_BIN:?set SBX_CONTROLLER_BIN}
src=${SBX_SOURCE_ROOT:?set SBX_SOURCE_ROOT}
. "$src/tests/e2e/checks.sh"
. "$src/tests/e2e/sshd.sh"
[ -n "${KUBECONFIG:-}" ] || { echo "KUBECONFIG is not set: run tests/cluster/up and eval tests/cluster/env"; exit 1; }
tmp=$(mktemp -d)
id=$RANDOM
prefix="s$id-"
inst="s$id"
secret=webhook-secret-$id
port=$(listen_port "$id")
port_b=$((port + 1))
lease_ns=sandbox-system
names=(one two three four five six seven eight)
pid= pid_b= proxy_pid=

cleanup() {
	for p in $pid $pid_b; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
	stop_sshd
	kubectl delete validatingadmissionpolicybinding "keep-$id" --wait=false >/dev/null 2>&1
	kubectl delete validatingadmissionpolicy "keep-$id" --wait=false >/dev/null 2>&1
	for n in "${names[@]}" hand; do kubectl delete sandbox "$n-$id" --wait=false >/dev/null 2>&1; done
	kubectl get ns -o name | grep -E "namespace/($prefix|hand-$id|eight-$id|copy-$id)" | xargs -r kubectl delete --wait=false >/dev/null 2>&1
	kubectl -n "$lease_ns" delete configmap "$inst-state" "h$id-state" "$inst-health" "h$id-health" "c$id-health" --wait=false >/dev/null 2>&1
	kubectl -n "$lease_ns" delete lease sandbox-controller --wait=false >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
# the controller runs as the ServiceAccount deploy/ installs, not as admin
. "$src/tests/e2e/deployed.sh"
controller_as_service_account || { echo "could not install deploy/ or get the controller's token"; exit 1; }

on_failure() {
	kubectl get sandboxes $(for n in "${names[@]}"; do printf '%s-%s ' "$n" "$id"; done) -o custom-columns='NAME:.metadata.name,SYNC:.status.sync,SINCE:.status.pendingDeleteSince,MESSAGE:.status.message' 2>/dev/null | sed 's/^/  # /'
	tail -5 "$tmp/controller.log" | sed 's/^/  # /'
}
field() { kubectl get sandbox "$1-$id" -o "jsonpath={.status.$2}" 2>/dev/null; }
sync_is() { [ "$(field "$1" sync)" = "$2" ]; }
ns() { echo "$prefix$1-$id"; }
gone() { ! kubectl get "$@" >/dev/null 2>&1; }
export -f field sync_is ns gone
export id prefix

# The GitOps repository: this project's templates, a 15 s grace period, the
# default maxPrunePercent (20), seven developers.
repo=$tmp/repo
mkdir -p "$repo/sandboxes"
cp -r "$src/templates" "$repo/"
sed -i "s/^  namespacePrefix: .*/  namespacePrefix: $prefix/; s/^    gracePeriod: .*/    gracePeriod: 15s/" "$repo/templates/policy.yaml"
key=$(grep -h '^    - ssh-ed25519' "$src/sandboxes/alice.yaml" | head -1 | sed 's/^    - //')
sandbox() { # name [dir]
	printf 'apiVersion: sandbox.dev/v1alpha1\nkind: Sandbox\nmetadata:\n  name: %s\nspec:\n  owner: %s@example.com\n  sshKeys:\n    - %s\n  size: small\n' "$1-$id" "$1" "$key" > "${2:-$repo}/sandboxes/$1-$id.yaml"
}
for n in one two three four five six seven; do sandbox "$n"; done
git -C "$repo" init -q -b main
commit() { git -C "$1" add -A && git -C "$1" -c user.name=e2e -c user.email=e2e@example.com commit -qm "$2"; }
commit "$repo" "seven sandboxes"
printf '%s' "$secret" > "$tmp/secret"

# sshd serves it; the controller reaches sshd through the proxy
start_sshd "$tmp/sshd" || exit 1
echo forward > "$tmp/mode"
python3 "$src/tests/e2e/tarpit-proxy.py" "$tmp/proxy-port" "$sshd_port" "$tmp/mode" &
proxy_pid=$!
until_ok 10 test -s "$tmp/proxy-port"
proxy_port=$(cat "$tmp/proxy-port")
printf '[127.0.0.1]:%s %s\n' "$proxy_port" "$(cut -d' ' -f1,2 "$tmp/sshd/host.pub")" >> "$tmp/sshd/known_hosts"
url="ssh://$(id -un)@127.0.0.1:$proxy_port$repo"
export LSAN_OPTIONS="suppressions=$src/tests/data/lsan-libgit2-ssh.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

# start [identity [port]]: a replica with leader election
start() {
	local who=${1:-a} p=${2:-$port}
	"$ctl" --repo "$url" --git-ssh-key "$tmp/sshd/client" --git-known-hosts "$tmp/sshd/known_hosts" \
		--state-dir "$tmp/state-$who" --listen "127.0.0.1:$p" --webhook-secret-file "$tmp/secret" \
		--poll-interval 3600 --git-timeout 60 --instance "$inst" --leader-elect \
		--lease-namespace "$lease_ns" --identity "$who-$id" >>"$tmp/controller.log" 2>&1 &
	if [ "$who" = a ]; then pid=$!; else pid_b=$!; fi
	until_ok 60 curl -sf "http://127.0.0.1:$p/readyz"
}
hook() { # [port]
	local body='{"ref":"refs/heads/main"}' sig
	sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" | sed 's/^.* //')
	curl -s -o /dev/null -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$sig" \
		-H 'Content-Type: application/json' --data "$body" "http://127.0.0.1:${1:-$port}/webhook"
}
writes() { curl -sf "http://127.0.0.1:${1:-$port}/metrics" | awk '$1 ~ /^sandbox_writes_total/ {s += $2} END {print s + 0}'; }
rv() { kubectl -n "$(ns "$1")" get deploy sandbox -o jsonpath='{.metadata.resourceVersion}'; }

check "controller starts, leads and is ready" start
all_seven=$(for n in one two three four five six seven; do printf '%s-%s ' "$n" "$id"; done)
check "all seven Synced and Healthy" until_ok 120 bash -c "[ \"\$(kubectl get sandboxes $all_seven -o jsonpath='{range .items[*]}{.status.sync}/{.status.health} {end}' | tr ' ' '\n' | grep -c '^Synced/Healthy$')\" = 7 ]"
check "the namespace's uid is recorded in status" bash -c "[ \"\$(field one namespaceUID)\" = \"\$(kubectl get ns $(ns one) -o jsonpath='{.metadata.uid}')\" ]"

# finding 1: files the source refuses are InvalidSpec, not removed
four_rv=$(rv four) five_rv=$(rv five)
git -C "$repo" mv "sandboxes/four-$id.yaml" "sandboxes/four-$id.yml"
rm "$repo/sandboxes/five-$id.yaml"
ln -s "one-$id.yaml" "$repo/sandboxes/five-$id.yaml"
commit "$repo" "four: *.yml; five: a symlink"; hook
check "refused *.yml: InvalidSpec naming the file" until_ok 30 bash -c "sync_is four InvalidSpec && field four message | grep -q \"four-$id.yml: files must end in .yaml\""
check "refused symlink: InvalidSpec naming the reason" until_ok 30 bash -c "sync_is five InvalidSpec && field five message | grep -q 'symbolic links are not allowed'"
check "refused files: nothing of them touched" bash -c "[ \"\$(kubectl -n $(ns four) get deploy sandbox -o jsonpath='{.metadata.resourceVersion}/{.spec.replicas}')\" = $four_rv/1 ] && [ \"\$(kubectl -n $(ns five) get deploy sandbox -o jsonpath='{.metadata.resourceVersion}/{.spec.replicas}')\" = $five_rv/1 ]"

# finding 2: one removal at a time, whatever the share; earlier removals
# are not counted again
git -C "$repo" rm -q "sandboxes/six-$id.yaml"; commit "$repo" "six: remove"; hook
check "one removal of seven (20%): PendingDelete" until_ok 30 sync_is six PendingDelete
six_since=$(field six pendingDeleteSince)
git -C "$repo" rm -q "sandboxes/three-$id.yaml"; commit "$repo" "three: remove"; hook
check "the next single removal, while one is pending: PendingDelete too" until_ok 30 sync_is three PendingDelete
three_since=$(field three pendingDeleteSince)
check "... the first one's clock is kept" bash -c "[ -n '$six_since' ] && [ \"\$(field six pendingDeleteSince)\" = '$six_since' ]"

# two removals of five at once, with a template dropped in the same
# commit: refused; valid sandboxes apply but prune nothing (finding 8)
git -C "$repo" rm -q "sandboxes/one-$id.yaml" "sandboxes/two-$id.yaml" templates/networkpolicy.yaml
commit "$repo" "one, two: remove; no NetworkPolicy"; hook
check "two removals of five: PruneBlocked with the reason" until_ok 30 bash -c "sync_is one PruneBlocked && sync_is two PruneBlocked && field one message | grep -q 'removes 2 of 5 sandboxes'"
check "... their workloads still run" bash -c "[ \"\$(kubectl -n $(ns one) get deploy sandbox -o jsonpath='{.spec.replicas}')\" = 1 ]"
check "... a valid sandbox keeps what the templates dropped, and says so" until_ok 30 bash -c "sync_is seven PruneBlocked && field seven message | grep -q '1 object no longer in the templates is kept' && kubectl -n $(ns seven) get networkpolicy sandbox"
check "... pending clocks are kept" bash -c "[ -n '$six_since' ] && [ -n '$three_since' ] && [ \"\$(field six pendingDeleteSince)/\$(field three pendingDeleteSince)\" = '$six_since/$three_since' ]"
check "... a grace period that ends meanwhile deletes nothing" until_ok 40 bash -c "field six message | grep -q 'nothing is deleted while removals are refused' && kubectl get ns $(ns six)"

# finding 3: kill -9 while refused; the restart decides the same
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
check "restart after kill -9" start
sleep 3
check "after the restart: still PruneBlocked, nothing newly pending" bash -c "sync_is one PruneBlocked && sync_is two PruneBlocked && [ -z \"\$(field one pendingDeleteSince)\$(field two pendingDeleteSince)\" ]"
check "after the restart: nothing deleted" bash -c "kubectl get ns $(ns one) $(ns two) $(ns three) $(ns six) && kubectl -n $(ns seven) get networkpolicy sandbox"
check "the revision in force is stored in the cluster" bash -c "[ \"\$(kubectl -n $lease_ns get configmap $inst-state -o jsonpath='{.data.sandboxes}' | sort | tr '\n' ' ')\" = 'five-$id four-$id one-$id seven-$id two-$id ' ]"

# the end of the grace period, ordered and retried: while an admission
# policy refuses to delete six's namespace, six stays PendingDelete with
# the reason and its Sandbox stays; then namespace first, Sandbox last
kubectl apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: keep-$id}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [DELETE], resources: [namespaces]}
  validations:
  - expression: "oldObject.metadata.name != '$(ns six)'"
    message: "test $id keeps this namespace"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: keep-$id}
spec:
  policyName: keep-$id
  validationActions: [Deny]
YAML
sleep 2
sandbox one; sandbox two; commit "$repo" "one, two: back"; hook
check "unblocked: the dropped NetworkPolicy is pruned" until_ok 30 gone -n "$(ns seven)" networkpolicy sandbox
check "grace over: six's workload deleted first" until_ok 30 gone -n "$(ns six)" deploy sandbox
check "namespace deletion refused: PendingDelete with the reason, retried" until_ok 30 bash -c "sync_is six PendingDelete && field six message | grep -q 'keeps this namespace' && kubectl get sandbox six-$id"
kubectl delete validatingadmissionpolicybinding "keep-$id" >/dev/null; kubectl delete validatingadmissionpolicy "keep-$id" >/dev/null
check "then the namespace goes" until_ok 90 bash -c "! kubectl get ns $(ns six) -o jsonpath='{.status.phase}' | grep -q Active"
check "... and the Sandbox only once it is gone" bash -c "for i in \$(seq 200); do kubectl get sandbox six-$id >/dev/null 2>&1 || break; sleep 0.3; done; gone sandbox six-$id && gone ns $(ns six)"
check "three goes the same way" until_ok 90 bash -c "gone sandbox three-$id && gone ns $(ns three)"

# finding 5: a copy of a managed object in another namespace survives
reconciles() { curl -sf "http://127.0.0.1:$port/metrics" | awk '$1 ~ /^sandbox_reconciles_total/ {s += $2} END {print s + 0}'; }
before=$(reconciles)
kubectl create namespace "copy-$id" >/dev/null
kubectl -n "$(ns seven)" get secret authorized-keys -o json | python3 -c "
import json, sys
o = json.load(sys.stdin); m = o['metadata']
for k in ('uid', 'resourceVersion', 'creationTimestamp', 'managedFields'): m.pop(k, None)
m['namespace'] = 'copy-$id'; print(json.dumps(o))" | kubectl apply -f - >/dev/null
check "the copy's watch event reconciles its sandbox" until_ok 20 bash -c "[ \$(curl -sf http://127.0.0.1:$port/metrics | awk '\$1 ~ /^sandbox_reconciles_total/ {s += \$2} END {print s + 0}') -gt $before ]"
sleep 2
check "... and the copy is not pruned" kubectl -n "copy-$id" get secret authorized-keys

# finding 7: REVISION is the commit that last changed a sandbox's inputs;
# a drift correction does not move it
seven_rev=$(field seven observedRevision)
sed -i 's/size: small/size: medium/' "$repo/sandboxes/one-$id.yaml"; commit "$repo" "one: medium"; hook
until_ok 30 bash -c "[ \"\$(field one observedRevision)\" = \"$(git -C "$repo" rev-parse HEAD)\" ]"
kubectl -n "$(ns seven)" patch resourcequota sandbox --type merge -p '{"spec":{"hard":{"limits.cpu":"64"}}}' >/dev/null
check "drift corrected" until_ok 30 bash -c "[ \"\$(kubectl -n $(ns seven) get resourcequota sandbox -o jsonpath='{.spec.hard.limits\\.cpu}')\" = 1 ]"
check "... REVISION of that sandbox unchanged" bash -c "[ \"\$(field seven observedRevision)\" = '$seven_rev' ]"

# finding 4: namespacePrefix "" and a namespace that exists already, named
# like a new sandbox: Conflict, then removal, grace, and the namespace and
# what is in it survive (a second sandbox keeps the tree from being empty)
repo_b=$tmp/repo-b
mkdir -p "$repo_b/sandboxes"
cp -r "$src/templates" "$repo_b/"
sed -i "s/^  namespacePrefix: .*/  namespacePrefix: \"\"/; s/^    gracePeriod: .*/    gracePeriod: 5s/; s/^    maxPrunePercent: .*/    maxPrunePercent: 100/" "$repo_b/templates/policy.yaml"
kubectl create namespace "hand-$id" >/dev/null
kubectl -n "hand-$id" create configmap precious --from-literal=data=keep >/dev/null
sandbox hand "$repo_b"; sandbox eight "$repo_b"
git -C "$repo_b" init -q -b main && commit "$repo_b" "hand and eight: new"
"$ctl" --repo "file://$repo_b" --state-dir "$tmp/state-h" --listen "127.0.0.1:$port_b" --webhook-secret-file "$tmp/secret" \
	--poll-interval 1 --instance "h$id" --lease-namespace "$lease_ns" >>"$tmp/controller-h.log" 2>&1 &
pid_b=$!
check "prefix \"\": a namespace that exists already is a Conflict" until_ok 60 bash -c "sync_is hand Conflict"
git -C "$repo_b" rm -q "sandboxes/hand-$id.yaml"; commit "$repo_b" "hand: remove"
check "... removed: PendingDelete" until_ok 30 sync_is hand PendingDelete
check "... after the grace period the Sandbox goes" until_ok 60 gone sandbox "hand-$id"
check "... and the namespace it never created stays, with its contents" bash -c "kubectl get ns hand-$id -o jsonpath='{.status.phase}' | grep -q Active && kubectl -n hand-$id get configmap precious"
kill "$pid_b"; wait "$pid_b" 2>/dev/null; pid_b=

# the loop never blocks: a git server that accepts and never answers; all
# of this happens while the ref check is stuck (the bound is 60 s)
echo tarpit > "$tmp/mode"
hook
sleep 1
renew1=$(kubectl -n "$lease_ns" get lease sandbox-controller -o jsonpath='{.spec.renewTime}')
kubectl -n "$(ns seven)" patch resourcequota sandbox --type merge -p '{"spec":{"hard":{"limits.cpu":"32"}}}' >/dev/null
check "tarpit: watches are drained, drift reverted" until_ok 10 bash -c "[ \"\$(kubectl -n $(ns seven) get resourcequota sandbox -o jsonpath='{.spec.hard.limits\\.cpu}')\" = 1 ]"
check "tarpit: the Lease is renewed on time" until_ok 10 bash -c "[ \"\$(kubectl -n $lease_ns get lease sandbox-controller -o jsonpath='{.spec.renewTime}')\" != '$renew1' ] && [ \"\$(kubectl -n $lease_ns get lease sandbox-controller -o jsonpath='{.spec.holderIdentity}')\" = a-$id ]"
slowest=0
for i in $(seq 20); do
	t=$(curl -s -m 2 -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/healthz")
	slowest=$(printf '%s\n%s\n' "$slowest" "$t" | sort -g | tail -1)
	sleep 0.2
done
check "tarpit: /healthz answers within 100 ms (slowest ${slowest}s)" bash -c "[ \"\$(echo '$slowest < 0.1' | bc)\" = 1 ]"
check "tarpit: all of it while the ref check was stuck" bash -c "! grep -q 'got no answer' '$tmp/controller.log'"
check "tarpit: after --git-timeout the check is given up, the revision kept" until_ok 75 grep -q 'got no answer within 60 s' "$tmp/controller.log"
echo forward > "$tmp/mode"
sed -i 's/size: medium/size: small/' "$repo/sandboxes/one-$id.yaml"; commit "$repo" "one: small"; hook
check "the server back: the next revision is taken" until_ok 30 bash -c "[ \"\$(field one observedRevision)\" = \"$(git -C "$repo" rev-parse HEAD)\" ]"

# a replica that lost its Lease writes nothing: stop the leader past the
# Lease, let the other take over, wake the first one up
start b "$port_b"
sleep 2
writes_a=$(writes)
kill -STOP "$pid"
check "the other replica takes the Lease" until_ok 40 bash -c "[ \"\$(kubectl -n $lease_ns get lease sandbox-controller -o jsonpath='{.spec.holderIdentity}')\" = b-$id ]"
kubectl -n "$(ns seven)" patch resourcequota sandbox --type merge -p '{"spec":{"hard":{"limits.cpu":"16"}}}' >/dev/null
check "... and reverts drift" until_ok 30 bash -c "[ \"\$(kubectl -n $(ns seven) get resourcequota sandbox -o jsonpath='{.spec.hard.limits\\.cpu}')\" = 1 ]"
kill -CONT "$pid"
sleep 5
check "the woken replica writes nothing" bash -c "[ \"\$(curl -sf http://127.0.0.1:$port/metrics | awk '\$1 ~ /^sandbox_writes_total/ {s += \$2} END {print s + 0}')\" = '$writes_a' ] && grep -q 'not the leader' '$tmp/controller.log'"
kill "$pid_b"; wait "$pid_b" 2>/dev/null; pid_b=

# a token in the repository url: masked in the log, /readyz and /metrics
kill "$pid"; wait "$pid" 2>/dev/null; pid=
canary="canary-$id-not-a-token"
"$ctl" --repo "https://bot:$canary@127.0.0.1:1/repo.git" --state-dir "$tmp/state-c" --listen "127.0.0.1:$port" \
	--poll-interval 1 --git-timeout 5 --instance "c$id" --lease-namespace "$lease_ns" >"$tmp/canary.log" 2>&1 &
pid=$!
until_ok 30 grep -q 'fetching .* failed' "$tmp/canary.log"
curl -s "http://127.0.0.1:$port/readyz" > "$tmp/canary.readyz"
curl -s "http://127.0.0.1:$port/metrics" > "$tmp/canary.metrics"
check "url token: the log names the repository without it" grep -q 'https://bot@127.0.0.1:1/repo.git' "$tmp/canary.log"
check "url token: in no log line, /readyz or /metrics" bash -c "! grep -q '$canary' '$tmp/canary.log' '$tmp/canary.readyz' '$tmp/canary.metrics' && grep -q 'bot@127.0.0.1' '$tmp/canary.readyz'"
check "url token: the published git error (c$id-health) names the url without it" until_ok 20 bash -c \
	"kubectl -n $lease_ns get configmap c$id-health -o jsonpath='{.data.gitError}' > '$tmp/canary.health' && grep -q 'bot@127.0.0.1' '$tmp/canary.health' && ! grep -q '$canary' '$tmp/canary.health'"
kill "$pid"; wait "$pid" 2>/dev/null; pid=

checks_done
