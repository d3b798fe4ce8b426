#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `sandbox diff` on the local control plane: three sandboxes synced by the
# controller (run once, as its deployed ServiceAccount, then stopped so
# nothing reverts what the checks change), then changes in the working
# tree compared with the cluster: none (exit 0); a size change (the
# Deployment's resources and the quota, the pod restarts); a template
# label (one group, counted three times); a removed file (what the grace
# period deletes); a drifted live object (what the controller reverts); a
# revision of the clone (--rev); JSON for bots; and a developer's account
# without patch rights (compared without the dry run, and said so).
set -uo pipefail
ctl=${SBX_CONTROLLER_BIN:?set SBX_CONTROLLER_BIN}
sbx=${SBX_SANDBOX_BIN:?set SBX_SANDBOX_BIN}
src=${SBX_SOURCE_ROOT:?set SBX_SOURCE_ROOT}
. "$src/tests/e2e/checks.sh"
[ -n "${KUBECONFIG:-}" ] || { echo "KUBECONFIG is not set: run tests/cluster/up and eval tests/cluster/env"; exit 1; }
tmp=$(mktemp -d)
id=$RANDOM
prefix="f$id-"
inst="diff-$id"
cleanup() {
	for n in ana ben cyd; do kubectl delete sandbox "$n" --wait=false >/dev/null 2>&1; done
	kubectl get ns -o name | grep "namespace/$prefix" | xargs -r kubectl delete --wait=false >/dev/null 2>&1
	kubectl -n sandbox-system delete configmap "$inst-state" "$inst-health" --wait=false >/dev/null 2>&1
	kubectl -n sandbox-system delete serviceaccount "dev-$id" --wait=false >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
. "$src/tests/e2e/deployed.sh"
controller_as_service_account || { echo "could not install deploy/ or get the controller's token"; exit 1; }
on_failure() { sed 's/^/  # /' "$tmp/out" 2>/dev/null | tail -30; }

# the GitOps repository: this project's templates, three developers
. "$src/tests/e2e/gitops.sh"
gitops_repo "$tmp/repo" "$prefix"
sandbox ana small; sandbox ben small; sandbox cyd small
commit "three sandboxes"
ns() { echo "$prefix$1"; }

check "the controller syncs the three sandboxes once" "$ctl" --repo "file://$repo" --state-dir "$tmp/state" \
	--instance "$inst" --listen '' --once --settle-timeout 120
# diff ARGS...: run sandbox diff on the working tree, output in $tmp/out, exit status in $tmp/rc
diff_() { "$sbx" diff --controller-instance "$inst" "$@" >"$tmp/out" 2>&1; echo $? >"$tmp/rc"; }
rc() { [ "$(cat "$tmp/rc")" = "$1" ]; }
out() { grep -q -e "$1" "$tmp/out"; }
export -f rc; export tmp

diff_ --repo "$repo"
check "no change: exit 0" rc 0
check "... and it says nothing changes" out '^0 of 3 sandboxes change'

sandbox ana medium
diff_ --repo "$repo"
check "a size change: exit 1" rc 1
check "... the Deployment's cpu limit as a unified diff" bash -c "grep -q '^+++ merged/apps.v1.Deployment.$(ns ana).sandbox' '$tmp/out' && grep -qE '^-            cpu: \"?1\"?$' '$tmp/out' && grep -qE '^\+            cpu: \"?2\"?$' '$tmp/out'"
check "... and the quota" out "^+++ merged/v1.ResourceQuota.$(ns ana).sandbox"
check "... one line for ana: the pod restarts, the volume grows" bash -c "grep '^ana: ' '$tmp/out' | grep 'to change' | grep 'Deployment sandbox' | grep 'ResourceQuota sandbox' | grep 'the pod restarts' | grep -q 'the home volume grows (10Gi -> 20Gi)'"
check "... the others are not listed as changing" bash -c "! grep -qE '^(ben|cyd): ' '$tmp/out'"
diff_ ana --repo "$repo" -o json
check "-o json: exit 1, valid JSON that says so" bash -c "rc 1 && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[\"differences\"] and d[\"sandboxes\"][0][\"podRestarts\"] and \"Deployment\" in d[\"sandboxes\"][0][\"diff\"], d' '$tmp/out'"
SANDBOX_EXTERNAL_DIFF="diff -q" diff_ ana --repo "$repo"
check "SANDBOX_EXTERNAL_DIFF replaces diff -u -N, over live/ and merged/" bash -c "rc 1 && grep -q '^Files live/apps.v1.Deployment.$(ns ana).sandbox and merged/apps.v1.Deployment.$(ns ana).sandbox differ' '$tmp/out'"
sandbox ana small

sed -i '0,/^  name: sandbox$/s//  name: sandbox\n  labels:\n    team: platform/' "$repo/templates/deployment.yaml"
diff_ --repo "$repo"
check "a template label: exit 1" rc 1
check "... one diff, for ana and 2 more that change the same way" bash -c "[ \$(grep -c '^# ' '$tmp/out') = 1 ] && grep -q '^# ana, and 2 more sandboxes that change the same way' '$tmp/out'"
check "... the fleet summary counts 3 sandboxes in one group" bash -c "grep -q '^3 of 3 sandboxes change' '$tmp/out' && grep -q '^  3 sandboxes (ana, ben, cyd):' '$tmp/out'"
check "... with the label it adds" out '^      metadata.labels.team: (none) -> "platform"'
git -C "$repo" checkout -q templates/deployment.yaml

git -C "$repo" rm -q --cached sandboxes/cyd.yaml && rm "$repo/sandboxes/cyd.yaml"
diff_ --repo "$repo"
check "a removed file: exit 1" rc 1
check "... says the workload stops now and what the grace period deletes" out "^cyd: the file is removed: the workload stops now (PendingDelete); after the grace period (3d) the controller deletes Namespace $(ns cyd), .*PersistentVolumeClaim $(ns cyd)/home.*Sandbox cyd"
check "... and shows the Deployment scaled to 0" bash -c "grep -q '^+++ merged/apps.v1.Deployment.$(ns cyd).sandbox' '$tmp/out' && grep -q '^+  replicas: 0' '$tmp/out'"
git -C "$repo" checkout -q HEAD -- sandboxes/cyd.yaml

kubectl -n "$(ns ben)" patch deployment sandbox --type json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/cpu","value":"3"}]' >/dev/null
diff_ ben --repo "$repo"
check "drift: exit 1, the live value and the one the controller puts back" bash -c "rc 1 && grep -qE '^-            cpu: \"?3\"?$' '$tmp/out' && grep -qE '^\+            cpu: \"?1\"?$' '$tmp/out'"
check "... and says the controller reverts it" out 'changed in the cluster since the controller applied them: the controller reverts them'

# a revision of the clone: the commit before is the same three sandboxes
sandbox ben large; commit "ben: large"
diff_ --rev HEAD~1 --repo-url "file://$repo" --clone "$tmp/clone" ben
check "--rev HEAD~1: the drift only (that revision has ben small)" bash -c "rc 1 && grep -qE '^\+            cpu: \"?1\"?$' '$tmp/out'"
diff_ --rev main --repo-url "file://$repo" --clone "$tmp/clone" ben
check "--rev main: ben large" bash -c "rc 1 && grep -qE '^\+            cpu: \"?4\"?$' '$tmp/out'"
diff_ --rev no-such-rev --repo-url "file://$repo" --clone "$tmp/clone"
check "--rev of nothing: exit 2, naming it" bash -c "rc 2 && grep -q \"no revision 'no-such-rev'\" '$tmp/out'"
diff_ --rev main --repo-url "file://$tmp/no-such-repo" --clone "$tmp/clone2"
check "--rev from a repository that cannot be fetched: exit 2, not 1" rc 2
kubectl -n "$(ns ben)" patch deployment sandbox --type json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/resources/limits/cpu","value":"1"}]' >/dev/null

# a developer: sandbox-owner in ana's namespace, sandbox-viewer; no patch rights
kubectl -n sandbox-system create serviceaccount "dev-$id" >/dev/null
kubectl -n "$(ns ana)" create rolebinding "dev-$id" --clusterrole sandbox-owner --serviceaccount "sandbox-system:dev-$id" >/dev/null
service_account_kubeconfig "$tmp/dev.kubeconfig" "dev-$id"
sandbox ana medium
diff_ ana --repo "$repo" --kubeconfig "$tmp/dev.kubeconfig"
check "a developer without patch rights: exit 1, the Deployment's change" bash -c "rc 1 && grep -qE '^\+            cpu: \"?2\"?$' '$tmp/out'"
check "... compared without the dry run, and said" out 'refused the dry run.*without the server.s defaults'
check "... what it may not read is named, not compared" out "not compared, as you may not read them in $(ns ana): resourcequotas, limitranges"
diff_ ben --repo "$repo" --kubeconfig "$tmp/dev.kubeconfig"
check "... another developer's sandbox: exit 2, could not compare" bash -c "rc 2 && grep -q 'could not compare' '$tmp/out'"

diff_ --repo "$repo" --rev main
check "--repo and --rev together: a usage error" rc 2
checks_done
