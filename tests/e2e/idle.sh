#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Idle suspension end to end on the local control plane (tests/cluster),
# with durations of seconds: the controller (as the deployed
# ServiceAccount) makes each sandbox's activity Lease; an unused sandbox is
# scaled to 0 and shows Suspended "idle since"; an open connection holds it
# awake past suspendAfter; `sandbox ssh` wakes it with progress and gets a
# shell, the tunnel wakes it quietly for plain ssh; `never` and
# spec.suspended are respected; a restart of the controller neither wakes
# nor suspends. The sandbox's sshd is a real OpenSSH sshd on loopback with
# the sandbox's own host key, reached from the pod's port 2222 through
# KWOK's port-forward.
set -uo pipefail
bin=${SBX_SANDBOX_BIN:?set SBX_SANDBOX_BIN}
ctl=${SBX_CONTROLLER_BIN:?set SBX_CONTROLLER_BIN}
src=${SBX_SOURCE_ROOT:?set SBX_SOURCE_ROOT}
. "$src/tests/e2e/checks.sh"
. "$src/tests/e2e/sshd.sh"
[ -n "${KUBECONFIG:-}" ] || { echo "KUBECONFIG is not set: run tests/cluster/up and eval tests/cluster/env"; exit 1; }
tmp=$(mktemp -d)
id=$RANDOM
prefix="i$id-"
port=$(listen_port $((id + 23)))
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	stop_sshd
	kubectl delete clusterportforward "idle-$id" --wait=false >/dev/null 2>&1
	for n in una vic wes; do kubectl delete sandbox "$n" --wait=false >/dev/null 2>&1; done
	kubectl get ns -o name | grep "namespace/$prefix" | xargs -r kubectl delete --wait=false >/dev/null 2>&1
	kubectl -n sandbox-system delete configmap "idle-$id-state" "idle-$id-health" --wait=false >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$src/tests/e2e/deployed.sh"
controller_as_service_account || { echo "could not install deploy/ or get the controller's token"; exit 1; }
on_failure() { tail -5 "$tmp/controller.log" | sed 's/^/  # /'; }

field() { kubectl get sandbox "$1" -o "jsonpath={.status.$2}" 2>/dev/null; }
replicas() { kubectl -n "$prefix$1" get deploy sandbox -o 'jsonpath={.spec.replicas}' 2>/dev/null; }
asleep() { [ "$(replicas "$1")/$(field "$1" health)" = 0/Suspended ] && [ -n "$(field "$1" idle.idleSince)" ]; }
awake() { [ "$(replicas "$1")/$(field "$1" health)" = 1/Healthy ] && [ -z "$(field "$1" idle.idleSince)" ]; }
export -f field replicas asleep awake
export prefix

# The repository: idle suspension after 6 s for everyone (so the Lease
# holds a renewal 3 s), vic never, wes suspended in git.
. "$src/tests/e2e/gitops.sh"
gitops_repo "$tmp/repo" "$prefix" 's/^  deletion:/  idle:\n    suspendAfter: 6s\n  deletion:/'
sandbox una small; sandbox vic small; sandbox wes small
printf '  idle:\n    suspendAfter: never\n' >> "$repo/sandboxes/vic.yaml"
printf '  suspended: true\n' >> "$repo/sandboxes/wes.yaml"
commit "three sandboxes, idle after 6s"
# the CLI's settings and clone in this run's own home
export SANDBOX_REPO="file://$repo" HOME=$tmp/home
mkdir -p "$HOME"

start() {
	"$ctl" --repo "file://$repo" --state-dir "$tmp/state" --listen "127.0.0.1:$port" --poll-interval 1 \
		--instance "idle-$id" --workers 4 >>"$tmp/controller.log" 2>&1 &
	pid=$!
	until_ok 30 curl -sf "http://127.0.0.1:$port/readyz"
}
stop() { kill "$pid" && wait "$pid"; local rc=$?; pid=; return $rc; }

check "controller starts and is ready" start
check "all three Synced" until_ok 90 bash -c "[ \"\$(kubectl get sandboxes una vic wes -o jsonpath='{.items[*].status.sync}')\" = 'Synced Synced Synced' ]"
check "una's activity Lease: ours, a renewal holds 3 s" bash -c "[ \"\$(kubectl -n ${prefix}una get lease sandbox-activity -o jsonpath='{.spec.leaseDurationSeconds}/{.metadata.labels.sandbox\\.dev/name}')\" = 3/una ]"
check "vic (never) has no Lease" bash -c "! kubectl -n ${prefix}vic get lease sandbox-activity 2>/dev/null"
check "unused for 6 s, una is scaled to 0: Suspended, idle since" until_ok 60 asleep una
check "... Synced, with the reason in the message" bash -c "[ \"\$(field una sync)\" = Synced ] && field una message | grep -q '^idle since 20.*sandbox ssh una. wakes it'"
check "... namespace and volume kept" bash -c "kubectl -n ${prefix}una get pvc home >/dev/null"
check "sandbox list: Suspended, with how long it has been idle" bash -c "'$bin' list | grep -qE '^una  *una@example.com  *small  *Synced  *Suspended  *[0-9]+[smhd]  *[0-9]+[smhd]\$'"
check "sandbox status: the reason" bash -c "'$bin' status una | grep -q '^Message:    idle since 20'"
check "sandbox doctor: the namespace link says it sleeps, and what wakes it" bash -c "'$bin' doctor una -o json --controller-instance 'idle-$id' >'$tmp/doc.json'; python3 -c 'import json,sys; c={l[\"name\"]: l for l in json.load(open(sys.argv[1]))[\"checks\"]}[\"namespace\"]; assert c[\"detail\"].startswith(\"the sandbox is suspended for idleness (idle since 20\") and \"wakes it\" in c[\"fix\"], c' '$tmp/doc.json'"
check "vic (never) still runs" bash -c "[ \"\$(replicas vic)/\$(field vic health)\" = 1/Healthy ] && [ -z \"\$(field vic idle)\" ]"
check "wes: git's suspension, no idle status" bash -c "[ \"\$(replicas wes)/\$(field wes health)\" = 0/Suspended ] && [ -z \"\$(field wes idle)\" ]"
metric() { curl -sf "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
export -f metric; export port
check "metrics: one sandbox suspended for idleness, with its requests" bash -c "[ \"\$(metric sandbox_idle_suspended)/\$(metric sandbox_idle_suspended_cpu_cores)/\$(metric sandbox_idle_suspended_memory_bytes)\" = 1/1/2147483648 ]"
check "metrics: what it reclaims adds up between scrapes" bash -c "metric sandbox_idle_reclaimed_cpu_core_seconds_total >/dev/null; sleep 2; awk -v c=\$(metric sandbox_idle_reclaimed_cpu_core_seconds_total) -v m=\$(metric sandbox_idle_reclaimed_memory_byte_seconds_total) 'BEGIN { exit !(c >= 1.5 && m >= 1.5 * 2^31) }'"
check "nothing was written to git" bash -c "[ \$(git -C '$repo' rev-list --count HEAD) = 1 ] && [ -z \"\$(git -C '$repo' status --porcelain)\" ]"

idle_since=$(field una idle.idleSince)
check "restart: the controller stops" stop
check "... and starts again" start
sleep 3
check "... which neither wakes it: still asleep, idle since the same time" bash -c "asleep una && [ \"\$(field una idle.idleSince)\" = '$idle_since' ]"

now() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
renew() { kubectl -n "${prefix}$1" --as "$1@example.com" patch lease sandbox-activity --type merge \
	-p "{\"spec\":{\"holderIdentity\":\"e2e\",\"renewTime\":\"$(now)\"}}" >/dev/null; }
export -f now renew
check "the owner may renew the Lease (and wakes una)" renew una
check "... una runs again" until_ok 30 awake una
check "... the owner may do nothing else with Leases" bash -c "[ \"\$(kubectl -n ${prefix}una auth can-i create leases --as una@example.com)\" = no ] && [ \"\$(kubectl -n ${prefix}una auth can-i patch leases/other --as una@example.com)\" = no ]"

# renewals every second for 12 s (twice suspendAfter): it never sleeps
held() {
	for i in $(seq 12); do
		renew una || return 1
		[ "$(replicas una)" = 1 ] || { echo "  scaled to 0 while renewed"; return 1; }
		sleep 1
	done
}
check "renewed while connected, it stays awake past suspendAfter" held
check "then idle again, it sleeps again" until_ok 60 asleep una

# the sandbox's sshd: its own host key, reached from the pod's 2222
kubectl -n "${prefix}una" get secret ssh-host-key -o 'jsonpath={.data.ssh_host_ed25519_key}' | base64 -d > "$tmp/host-key"
ssh-keygen -q -t ed25519 -N '' -C dev -f "$tmp/dev"
check "sshd with una's host key on loopback" start_sshd "$tmp/sshd" "$tmp/host-key" "$tmp/dev.pub"
kubectl apply -f - >/dev/null <<YAML
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata: {name: idle-$id}
spec:
  selector: {matchNamespaces: [${prefix}una]}
  forwards:
  - ports: [2222]
    target: {address: 127.0.0.1, port: $sshd_port}
YAML
me=$(id -un)

t0=$(date +%s%N)
check "sandbox ssh wakes a sleeping sandbox and runs the command" bash -c \
	"[ \"\$('$bin' ssh una -l '$me' -i '$tmp/dev' -- echo ok 2>'$tmp/wake.err')\" = ok ] || { cat '$tmp/wake.err'; exit 1; }"
t1=$(date +%s%N)
echo "# wake to shell: $(( (t1 - t0) / 1000000 )) ms, with these steps:"
sed 's/^/#   /' "$tmp/wake.err"
check "... showing each step on stderr" bash -c "for s in 'activity marked' 'woken by the controller' 'pod scheduled' 'pod running' ready; do grep -q \"^  \$s  \" '$tmp/wake.err' || { cat '$tmp/wake.err'; exit 1; }; done"
check "... and it runs" until_ok 10 awake una

# a connection open for 12 s through the tunnel holds it awake
"$bin" ssh-config una > "$tmp/ssh_config" 2>"$tmp/err" || cat "$tmp/err"
ssh_opts="-F $tmp/ssh_config -i $tmp/dev -o IdentitiesOnly=yes -o BatchMode=yes -l $me"
export ssh_opts
# sampled every second while the connection is open, with the controller
# restarted meanwhile (a restart must not suspend a connected sandbox)
held_by_ssh() {
	ssh $ssh_opts sandbox-una 'sleep 14; echo done' >"$tmp/held.out" 2>&1 &
	local p=$! i=0
	while kill -0 "$p" 2>/dev/null; do
		[ "$(replicas una)" = 1 ] || { echo "  scaled to 0 while connected"; kill "$p"; return 1; }
		if [ $((i += 1)) = 3 ]; then stop && start || { echo "  the controller did not restart"; return 1; }; fi
		sleep 1
	done
	wait "$p" && grep -qx done "$tmp/held.out" || { cat "$tmp/held.out"; return 1; }
}
check "plain ssh through the tunnel holds it awake for a 14 s connection, across a controller restart" held_by_ssh
check "idle again after it closes" until_ok 60 asleep una
check "plain ssh wakes it quietly through the tunnel" bash -c \
	"[ \"\$(ssh $ssh_opts sandbox-una echo ok 2>'$tmp/tunnel.err')\" = ok ] && ! grep -q 'activity marked' '$tmp/tunnel.err' || { cat '$tmp/tunnel.err'; exit 1; }"

# with no controller to wake it, ssh gives up in time and says on what
check "asleep again" until_ok 60 asleep una
check "the controller stops" stop
check "sandbox ssh with nobody to wake it exits 255 after --wake-timeout" bash -c \
	"'$bin' ssh una -l '$me' -i '$tmp/dev' --wake-timeout 3s -- true 2>'$tmp/timeout.err'; [ \$? = 255 ]"
check "... naming what it waited for" bash -c "grep -q \"timed out after 3s waking 'una': waiting for 'woken by the controller'\" '$tmp/timeout.err' || { cat '$tmp/timeout.err'; exit 1; }"
check "... the controller starts again" start
check "... and wakes it: the renewal was made while it was away" until_ok 30 awake una

# never wakes it; and drops the Lease
check "asleep once more" until_ok 60 asleep una
printf '  idle:\n    suspendAfter: never\n' >> "$repo/sandboxes/una.yaml"
commit "una: never"
check "never: woken, no idle status" until_ok 30 bash -c "[ \"\$(replicas una)/\$(field una health)\" = 1/Healthy ] && [ -z \"\$(field una idle)\" ]"
check "... and its Lease is pruned" until_ok 30 bash -c "! kubectl -n ${prefix}una get lease sandbox-activity 2>/dev/null"
check "SIGTERM exits 0" stop
checks_done
