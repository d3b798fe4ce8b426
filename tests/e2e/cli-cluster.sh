#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CLI and the controller together on the local control plane
# (tests/cluster), with the GitOps repository served by a real OpenSSH sshd
# on 127.0.0.1: the controller fetches over ssh://, developers push over
# ssh:// and file://. create --wait -> Healthy; resize -> the new quota and
# Deployment resources are live; two creates racing from two clones both
# land (the rebase path); delete -> PendingDelete; quota set -> the
# namespace's ResourceQuota changes; list and status read what the
# controller reports.
set -uo pipefail
bin=${SBX_SANDBOX_BIN:?set SBX_SANDBOX_BIN}
ctl=${SBX_CONTROLLER_BIN:?set SBX_CONTROLLER_BIN}
src=${SBX_SOURCE_ROOT:?set SBX_SOURCE_ROOT}
. "$src/tests/e2e/checks.sh"
. "$src/tests/e2e/sshd.sh"
[ -n "${KUBECONFIG:-}" ] || { echo "KUBECONFIG is not set: run tests/cluster/up and eval tests/cluster/env"; exit 1; }
tmp=$(mktemp -d)
id=$RANDOM
prefix="c$id-"
names="gus hal ivy jon"
ctl_pid= sshd_pid=
ctl_port=$(listen_port $((id + 11)))

cleanup() {
	[ -n "$ctl_pid" ] && kill "$ctl_pid" 2>/dev/null && wait "$ctl_pid" 2>/dev/null
	stop_sshd
	declare -F devbox_stop >/dev/null && devbox_stop
	for n in 1 2 3 4; do tmux -L "sbx-$id-$n" kill-server 2>/dev/null; done
	[ -n "${SSH_AGENT_PID:-}" ] && kill "$SSH_AGENT_PID" 2>/dev/null
	kubectl delete clusterportforward "cli-$id" --wait=false >/dev/null 2>&1
	kubectl delete clusterlogs "cli-$id" --wait=false >/dev/null 2>&1
	for n in $names; do kubectl delete sandbox "$n" --wait=false >/dev/null 2>&1; done
	kubectl get ns -o name | grep "namespace/$prefix" | xargs -r kubectl delete --wait=false >/dev/null 2>&1
	kubectl -n sandbox-system delete configmap "cli-$id-state" "cli-$id-health" --wait=false >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
# the controller runs as the ServiceAccount deploy/ installs, not as admin
. "$src/tests/e2e/deployed.sh"
controller_as_service_account || { echo "could not install deploy/ or get the controller's token"; exit 1; }
. "$src/tests/e2e/devbox.sh"

on_failure() {
	tail -5 "$tmp/controller.log" | sed 's/^/  # /'
}
status_is() { # expected status, command...
	local want=$1; shift
	"$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	local got=$?
	[ "$got" -eq "$want" ] || { echo "  exit $got, want $want: $*"; cat "$tmp/out" "$tmp/err" | head -30; return 1; }
}
has() { grep -qF -- "$1" "$2" || { echo "  missing: $1"; echo "  in:"; sed 's/^/    /' "$2"; return 1; }; }
field() { kubectl get sandbox "$1" -o "jsonpath={.status.$2}" 2>/dev/null; }
jp() { kubectl -n "$prefix$1" get "$2" -o "jsonpath=$3" 2>/dev/null; }
export -f field jp
export prefix
# the sanitizer build: libgit2's own ssh leaks are not ours (see the file)
export LSAN_OPTIONS="suppressions=$src/tests/data/lsan-libgit2-ssh.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

# The GitOps repository: the example's templates with this run's prefix, a
# grace period long enough to see PendingDelete, and no sandbox yet.
git init -q -b main "$tmp/seed"
mkdir -p "$tmp/seed/sandboxes"
cp -r "$src/templates" "$tmp/seed/"
sed -i "s/^  namespacePrefix: .*/  namespacePrefix: $prefix/; s/^    maxPrunePercent: .*/    maxPrunePercent: 100/; s/^    carol: .*/    hal: {cpu: \"8\", memory: 16Gi}/" "$tmp/seed/templates/policy.yaml"
touch "$tmp/seed/sandboxes/.keep"
git -C "$tmp/seed" add -A
git -C "$tmp/seed" -c user.name=seed -c user.email=seed@example.com commit -qm "policy and templates"
git clone -q --bare "$tmp/seed" "$tmp/remote.git"

# sshd on loopback serving it: its own host key, one authorized client key.
start_sshd "$tmp/sshd" || exit 1
url="ssh://$(id -un)@127.0.0.1:$sshd_port$tmp/remote.git"

# The controller fetches over ssh://, polling every second.
start_ctl() { # [git key]
	"$ctl" --repo "$url" --git-ssh-key "${1:-$tmp/sshd/client}" --git-known-hosts "$tmp/sshd/known_hosts" \
		--state-dir "$tmp/state" --listen "127.0.0.1:$ctl_port" --poll-interval 1 --instance "cli-$id" --workers 4 \
		>>"$tmp/controller.log" 2>&1 &
	ctl_pid=$!
}
start_ctl

# A developer: home, key, git identity; the repository over ssh://.
export HOME=$tmp/home USER=dev
mkdir -p "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N '' -C dev@laptop -f "$HOME/.ssh/id_ed25519"
printf '[user]\n\tname = Dev\n\temail = dev@example.com\n' > "$HOME/.gitconfig"
unset SSH_AUTH_SOCK SANDBOX_CONFIG XDG_CONFIG_HOME XDG_DATA_HOME
export SANDBOX_REPO=$url SANDBOX_GIT_SSH_KEY=$tmp/sshd/client SANDBOX_GIT_KNOWN_HOSTS=$tmp/sshd/known_hosts
export SANDBOX_CLONE=$tmp/clone-a

check "create --wait over ssh:// ends ready" status_is 0 "$bin" create gus --size small --wait --timeout 120
check "... showing each step" bash -c "for s in pushed 'seen by the controller' applied 'pod scheduled' 'pod running' ready; do grep -q \"^  \$s  \" '$tmp/out' || exit 1; done"
check "... the owner is who the cluster says you are" bash -c "git -C '$tmp/remote.git' show main:sandboxes/gus.yaml | grep -q '^  owner: sandbox-admin$'"
check "... and the Sandbox is Synced and Healthy" bash -c "[ \"\$(field gus sync)/\$(field gus health)\" = Synced/Healthy ]"
check "list shows it in a table" status_is 0 "$bin" list
check "... with the columns" bash -c "head -1 '$tmp/out' | grep -q '^NAME  *OWNER  *SIZE  *SYNC  *HEALTH  *AGE  *IDLE$' && grep -q '^gus  *sandbox-admin  *small  *Synced  *Healthy ' '$tmp/out'"
check "list -o json is a v1 List" bash -c "'$bin' list -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"kind\"]==\"List\" and \"gus\" in [i[\"metadata\"][\"name\"] for i in d[\"items\"]]'"
check "status shows the timeline and the message" status_is 0 "$bin" status gus
check "... lines" bash -c "grep -q '^Sync:       Synced at ' '$tmp/out' && grep -q '^  ready  *20' '$tmp/out' && grep -q '^Message:    ready' '$tmp/out'"
check "status -o yaml" bash -c "'$bin' status gus -o yaml | grep -q '^  sync: Synced$'"
check "status of an unknown sandbox exits 1" status_is 1 "$bin" status nobody

# resize: quota and Deployment resources follow
check "resize --wait ends ready" status_is 0 "$bin" resize gus --cpu 2 --memory 3Gi --yes --wait --timeout 120
check "... the Deployment has the new resources" until_ok 30 bash -c "[ \"\$(jp gus deploy/sandbox '{.spec.template.spec.containers[0].resources.limits.memory}')\" = 3Gi ]"
check "... the ResourceQuota has the new figures" until_ok 30 bash -c "[ \"\$(jp gus resourcequota/sandbox '{.spec.hard.limits\.cpu}/{.spec.hard.limits\.memory}')\" = 2/3Gi ]"

# plain OpenSSH through 'sandbox tunnel', into the devbox image: its root
# filesystem (built from images/devbox with mmdebstrap) under runc, set up
# from gus's live Deployment and Secrets the way its pod would run, and
# reached from the pod's port 2222 through KWOK's port-forward
until_ok 60 bash -c "[ \"\$(kubectl -n ${prefix}gus get pods --no-headers 2>/dev/null | wc -l)\" = 1 ]"
kubectl -n "${prefix}gus" get secret ssh-host-key -o 'jsonpath={.data.ssh_host_ed25519_key}' | base64 -d > "$tmp/sandbox-host-key"
chmod 600 "$tmp/sandbox-host-key"
check "the devbox image runs under runc as gus's pod would, sshd listening" devbox_start "${prefix}gus"
kubectl apply -f - >/dev/null <<YAML
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata: {name: cli-$id}
spec:
  selector: {matchNamespaces: [${prefix}gus]}
  forwards:
  - ports: [2222]
    target: {address: $devbox_addr, port: 2222}
YAML
check "ssh-config prints a block with the pinned host key" status_is 0 "$bin" ssh-config gus
cp "$tmp/out" "$tmp/ssh_config"
check "... ProxyCommand, User dev and the known_hosts file" bash -c "grep -q '^  ProxyCommand .*sandbox tunnel gus$' '$tmp/ssh_config' && grep -q '^  User dev$' '$tmp/ssh_config' && grep -q \"^sandbox-gus \$(ssh-keygen -y -f '$tmp/sandbox-host-key' | cut -d' ' -f1,2)\$\" '$HOME/.config/sandbox/known_hosts'"
# (no spaces in these paths: a plain string survives export into bash -c)
ssh_opts="-F $tmp/ssh_config -i $HOME/.ssh/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes"
ssh_gus() { ssh $ssh_opts sandbox-gus "$@"; }
export -f ssh_gus; export tmp HOME ssh_opts
check "plain ssh through the tunnel runs a command" until_ok 30 bash -c "[ \"\$(ssh_gus echo ok)\" = ok ]"
check "... as dev, uid 1000, home /home/dev" bash -c "[ \"\$(ssh_gus 'echo \$(id -un) \$(id -u) \$(id -g) \$HOME')\" = 'dev 1000 1000 /home/dev' ]"
check "... with no capabilities at all, no new privileges and a seccomp filter" bash -c "[ \"\$(ssh_gus 'grep -E \"^(CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):\" /proc/self/status' | tr -s '\t ' ' ' | tr '\n' ' ')\" = 'CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000000 CapAmb: 0000000000000000 NoNewPrivs: 1 Seccomp: 2 ' ]"
check "... the secrets with the template's modes, mounted read-only" bash -c "[ \"\$(ssh_gus 'stat -L -c %a:%U:%G /etc/sandbox/host-key/ssh_host_ed25519_key /etc/sandbox/authorized-keys/authorized_keys; for m in /etc/sandbox/host-key /etc/sandbox/authorized-keys; do awk -v m=\$m '\''\$2 == m { split(\$4, o, \",\"); print o[1] }'\'' /proc/self/mounts; done' | tr '\n' ' ')\" = '440:root:dev 440:root:dev ro ro ' ]"
check "the tools a developer expects are there" ssh_gus 'for t in git curl make gcc vi nano rsync less man locale; do command -v $t >/dev/null || { echo "missing $t"; exit 1; }; done; locale -a | grep -qx en_US.utf8'
head -c 10485760 /dev/urandom > "$tmp/10MiB"
check "10 MiB through stdin come back byte for byte" bash -c "ssh_gus cat < '$tmp/10MiB' | cmp - '$tmp/10MiB'"
check "the remote command's status comes back" bash -c "ssh_gus 'exit 7'; [ \$? = 7 ]"
check "scp up 10 MiB" scp -q $ssh_opts "$tmp/10MiB" sandbox-gus:up.bin
check "... lands in the home volume byte for byte" cmp "$devbox_dir/volumes/home/up.bin" "$tmp/10MiB"
check "scp down 10 MiB byte for byte" bash -c "scp -q $ssh_opts sandbox-gus:up.bin '$tmp/down.bin' && cmp '$tmp/down.bin' '$tmp/10MiB'"
head -c 10485760 /dev/urandom > "$tmp/10MiB.b"
check "rsync up 10 MiB" rsync -q -e "ssh $ssh_opts" "$tmp/10MiB.b" sandbox-gus:rsync.bin
check "rsync down 10 MiB byte for byte" bash -c "rsync -q -e 'ssh $ssh_opts' sandbox-gus:rsync.bin '$tmp/rsync.down' && cmp '$tmp/rsync.down' '$tmp/10MiB.b'"

# sandbox ssh: libssh through the same tunnel, the host key checked against status
me=dev
check "sandbox ssh logs in as dev, the image's user, without -l" bash -c "[ \"\$('$bin' ssh gus -- id -un)\" = dev ]"
check "sandbox ssh NAME -- echo ok prints ok" status_is 0 "$bin" ssh gus -l "$me" -- echo ok
check "... exactly" bash -c "[ \"\$(cat '$tmp/out')\" = ok ]"
check "sandbox ssh -- sh -c 'exit 7' exits 7" status_is 7 "$bin" ssh gus -l "$me" -- sh -c 'exit 7'
check "stdout and stderr stay apart" bash -c "'$bin' ssh gus -l '$me' -- sh -c 'echo out; echo err >&2' >'$tmp/o' 2>'$tmp/e' && [ \"\$(cat '$tmp/o')/\$(cat '$tmp/e')\" = out/err ]"
check "a command gets no terminal without -t" bash -c "'$bin' ssh gus -l '$me' -- tty | grep -qx 'not a tty'"
check "... and one with -t" bash -c "'$bin' ssh gus -l '$me' -t -- tty | grep -q '^/dev/pts/'"
check "10 MiB through sandbox ssh come back byte for byte" bash -c "'$bin' ssh gus -l '$me' -- cat < '$tmp/10MiB' | cmp - '$tmp/10MiB'"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$tmp/stranger"
check "a key not in the sandbox file is refused with 255" status_is 255 "$bin" ssh gus -l "$me" -i "$tmp/stranger" -- true
check "... saying which file must list it" has "spec.sshKeys in sandboxes/gus.yaml" "$tmp/err"

# sandbox doctor: every link holds; then one link broken at a time, and
# doctor must name that one first, with its fix, and exit 1
doc_first() { # link fix-substring [doctor args...]
	local link=$1 fix=$2 rc; shift 2
	"$bin" doctor "${@:-gus}" </dev/null >"$tmp/doc.out" 2>&1; rc=$?
	[ "$rc" = 1 ] && grep -q "^First broken link: $link (" "$tmp/doc.out" && grep -qF -- "$fix" "$tmp/doc.out" ||
		{ echo "  exit $rc, want 1 naming $link and: $fix"; sed 's/^/    /' "$tmp/doc.out" | head -40; return 1; }
}
export -f doc_first; export bin
check "doctor: every link holds, exit 0" bash -c "'$bin' doctor gus >'$tmp/doc.out' 2>&1 && grep -q '^All links hold' '$tmp/doc.out' && [ \$(grep -c '^  ok ' '$tmp/doc.out') = 9 ] || { cat '$tmp/doc.out'; exit 1; }"
t0=$(date +%s%N); "$bin" doctor gus >/dev/null 2>&1; echo "# doctor on a healthy sandbox: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "doctor -o json: ok, nine checks" bash -c "'$bin' doctor gus -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"ok\"] and len(d[\"checks\"])==9 and all(c[\"status\"]==\"ok\" for c in d[\"checks\"]), d'"
check "doctor: a key not in the file -> ssh, naming spec.sshKeys" doc_first ssh "spec.sshKeys in sandboxes/gus.yaml" gus -i "$tmp/stranger"
check "... naming your key by fingerprint as not in the file" grep -q "^ *$(ssh-keygen -lf "$tmp/stranger.pub" | cut -d' ' -f2) $tmp/stranger.pub: NOT in the file" "$tmp/doc.out"
check "... and listing the file's keys by fingerprint" bash -c "grep -qF '$(ssh-keygen -lf "$HOME/.ssh/id_ed25519.pub" | cut -d' ' -f2)' '$tmp/doc.out' || { cat '$tmp/doc.out'; exit 1; }"
check "doctor: a file that is not in the repository -> file" doc_first file "sandbox create nobody" nobody
check "doctor: an unreachable repository url -> git" env SANDBOX_REPO="ssh://$(id -un)@127.0.0.1:1/nope.git" \
	SANDBOX_CLONE="$tmp/clone-doctor" bash -c 'doc_first git "check the url"'
ssh-keygen -q -t ed25519 -N '' -C other -f "$tmp/other-git-key"
check "doctor: a git key the server refuses -> git" env SANDBOX_GIT_SSH_KEY="$tmp/other-git-key" \
	bash -c "doc_first git \"the key in 'git-ssh-key' is refused\""
: > "$tmp/empty_known_hosts"
check "doctor: the git server's host key unknown -> git" env SANDBOX_GIT_KNOWN_HOSTS="$tmp/empty_known_hosts" \
	bash -c "doc_first git \"make the server's host key known\""
git -C "$SANDBOX_CLONE" -c user.name=Dev -c user.email=dev@example.com commit -q --allow-empty -m "not pushed"
check "doctor: an unpushed commit in the clone -> clone" doc_first clone "git -C '$SANDBOX_CLONE' push origin HEAD:main"
git -C "$SANDBOX_CLONE" reset -q --hard HEAD~1
check "doctor: someone the owner's RoleBinding does not name -> access" \
	env KUBECONFIG="$SBX_ALICE_KUBECONFIG" bash -c "doc_first access 'rolebinding sandbox-owner'"
# a change the controller does not apply: it is stopped, and the commit is
# an hour old by its date
kill "$ctl_pid"; wait "$ctl_pid" 2>/dev/null
git -C "$tmp/seed" pull -q "$tmp/remote.git" main
git -C "$tmp/remote.git" show main:sandboxes/gus.yaml > "$tmp/seed/sandboxes/gus.yaml"
printf '# checked by sandbox doctor\n' >> "$tmp/seed/sandboxes/gus.yaml"
git -C "$tmp/seed" add -A
GIT_COMMITTER_DATE="$(date -d '-1 hour' -R)" git -C "$tmp/seed" -c user.name=Dev -c user.email=dev@example.com commit -qm "gus: env"
git -C "$tmp/seed" push -q "$tmp/remote.git" main
check "doctor: the controller stopped, a change not applied -> controller" doc_first controller "does not keep up"
# the controller back, but with a key the git server refuses: it publishes
# its failure (cli-$id-health) and doctor shows it to the developer
start_ctl "$tmp/other-git-key"
check "the controller publishes its git failure" until_ok 30 bash -c \
	"kubectl -n sandbox-system get configmap cli-$id-health -o jsonpath='{.data.gitError}' | grep -q authenticat"
check "doctor: the controller cannot fetch -> controller, with its git error" \
	doc_first controller "cannot fetch the repository" gus --controller-instance "cli-$id"
check "... saying since when and why" grep -q "the controller's git has failed since 20.*authenticat" "$tmp/doc.out"
kill "$ctl_pid"; wait "$ctl_pid" 2>/dev/null
# a file that does not lint at the remote's head
sed -i 's/^  size: .*/  size: enormous/' "$tmp/seed/sandboxes/gus.yaml"
git -C "$tmp/seed" -c user.name=Dev -c user.email=dev@example.com commit -qam "gus: too big"
git -C "$tmp/seed" push -q "$tmp/remote.git" main
check "doctor: the file does not lint -> file, naming file:line" doc_first file "edit sandboxes/gus.yaml:"
git -C "$tmp/seed" -c user.name=Dev -c user.email=dev@example.com revert --no-edit HEAD HEAD~1 >/dev/null
git -C "$tmp/seed" push -q "$tmp/remote.git" main
start_ctl
check "doctor: with the controller back and the file fixed, all links hold again" \
	until_ok 60 bash -c "'$bin' doctor gus >/dev/null 2>&1"
# an image the node cannot pull (the test cluster's KWOK stage for it)
printf '  image: registry.example.com/devbox:unpullable\n' >> "$tmp/seed/sandboxes/gus.yaml"
git -C "$tmp/seed" -c user.name=Dev -c user.email=dev@example.com commit -qam "gus: an image that is not there"
git -C "$tmp/seed" push -q "$tmp/remote.git" main
check "doctor: an image the node cannot pull -> namespace, naming the image" \
	until_ok 60 doc_first namespace "spec.image"
check "... and the image" grep -q "image registry.example.com/devbox:unpullable cannot be pulled (ImagePullBackOff)" "$tmp/doc.out"
check "doctor --all lists gus with its first broken link and exits 1" bash -c \
	"'$bin' doctor --all --controller-instance cli-$id --metrics-url http://127.0.0.1:$ctl_port/metrics >'$tmp/all.out' 2>&1; [ \$? = 1 ] && grep -A1 '^  gus ' '$tmp/all.out' | grep -q 'namespace: image registry.example.com/devbox:unpullable' || { cat '$tmp/all.out'; exit 1; }"
check "... its fix naming gus's namespace and pod" grep -q "^    Fix: .*kubectl -n ${prefix}gus describe pod sandbox-" "$tmp/all.out"
check "... the controller's git fine again (cli-$id-health)" grep -q "^  ok    git " "$tmp/all.out"
check "... its fetching, queue and API errors from its /metrics" bash -c "grep -q '^  ok    fetching    last successful fetch [0-9]* s ago, [0-9]* failures' '$tmp/all.out' && grep -q '^  ok    queue ' '$tmp/all.out' && grep -q '^  [a-z]*  *api  *[0-9]* answers 429' '$tmp/all.out' || { cat '$tmp/all.out'; exit 1; }"
check "... and says how to read them when the Service cannot be reached" bash -c "'$bin' doctor --all | grep -q '^  warn  metrics     cannot read them.*--metrics-url'"
check "... with the controller's revision in force against the remote's head" \
	grep -q "^  ok    revision    cli-$id-state: the remote's head .* is in force" "$tmp/all.out"
git -C "$tmp/seed" -c user.name=Dev -c user.email=dev@example.com revert --no-edit HEAD >/dev/null
git -C "$tmp/seed" push -q "$tmp/remote.git" main
check "... and with the image back, all links hold again" until_ok 60 bash -c "'$bin' doctor gus >/dev/null 2>&1"
check "doctor --all no longer lists gus" bash -c "! '$bin' doctor --all | grep -q '^  gus '"
# a container that keeps exiting (the test cluster's KWOK stage for the
# image), the log of its previous run served by KWOK (in the CRI log format)
printf '%s stderr F sshd: fatal: cannot bind any address\n' "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)" \
	> "$tmp/crash-previous.log"
: > "$tmp/crash.log"
kubectl apply -f - >/dev/null <<YAML
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata: {name: cli-$id}
spec:
  selector: {matchNamespaces: [${prefix}gus]}
  logs:
  - containers: [sandbox]
    logsFile: $tmp/crash.log
    previousLogsFile: $tmp/crash-previous.log
YAML
printf '  image: registry.example.com/devbox:crashloop\n' >> "$tmp/seed/sandboxes/gus.yaml"
git -C "$tmp/seed" -c user.name=Dev -c user.email=dev@example.com commit -qam "gus: an image that exits"
git -C "$tmp/seed" push -q "$tmp/remote.git" main
check "doctor: a crash loop -> namespace, with the command to read its log" \
	until_ok 60 doc_first namespace "logs"
check "... and the last lines of its previous run" grep -q "| sshd: fatal: cannot bind any address" "$tmp/doc.out"
git -C "$tmp/seed" -c user.name=Dev -c user.email=dev@example.com revert --no-edit HEAD >/dev/null
git -C "$tmp/seed" push -q "$tmp/remote.git" main
kubectl delete clusterlogs "cli-$id" --wait=false >/dev/null 2>&1
check "... and with the image back, all links hold again" until_ok 60 bash -c "'$bin' doctor gus >/dev/null 2>&1"

# interactive, driven through tmux: a prompt, a command, a window change,
# exit; then '~.' on a hung session; the terminal is restored each time
cat > "$tmp/interactive.sh" <<SH
#!/bin/bash
stty -a | grep -v rows > "$tmp/stty.before"
"$bin" ssh gus -l "$me"
rc=\$?
# the terminal's state first: the checks read it once rc is there
stty -a | grep -v rows > "$tmp/stty.after"
echo "rc=\$rc" > "$tmp/rc"
sleep 60
SH
chmod +x "$tmp/interactive.sh"
# each session gets a tmux server of its own: a new session on a server
# that kill-server is still taking down dies with it
session=0
tm() { tmux -L "sbx-$id-$session" "$@"; }
new_session() { session=$((session + 1)); tm new-session -d -s t -x 120 -y 40 "$@"; }
pane() { tm capture-pane -p -t t; }
# tmux starts commands in a fresh environment: this test's settings, quoted
tmux_env="env $(env | grep -E '^(HOME|KUBECONFIG|SANDBOX_[A-Z_]+|LSAN_OPTIONS|ASAN_OPTIONS|UBSAN_OPTIONS)=' | sed 's/^/"/; s/$/"/' | tr '\n' ' ') TERM=xterm"
export -f pane tm; export id session
new_session "$tmux_env $tmp/interactive.sh"
check "interactive: a prompt" until_ok 20 bash -c "pane | grep -q '[#$] *\$'"
tm send-keys -t t "echo marker-\$((6*7))" Enter
check "interactive: a command runs" until_ok 10 bash -c "pane | grep -q '^marker-42$'"
tm resize-window -t t -x 100 -y 30
tm send-keys -t t "stty size" Enter
check "interactive: the window change reaches the remote" until_ok 10 bash -c "pane | grep -q '^30 100$'"
tm send-keys -t t "exit 3" Enter
check "interactive: exit status 3 comes back" until_ok 10 bash -c "grep -qx rc=3 '$tmp/rc'"
check "interactive: the terminal is restored" diff "$tmp/stty.before" "$tmp/stty.after"
tm kill-server
rm -f "$tmp/rc" "$tmp/stty.after"
new_session "$tmux_env $tmp/interactive.sh"
until_ok 20 bash -c "pane | grep -q '[#$] *\$'"
tm send-keys -t t "sleep 600" Enter
sleep 0.5
tm send-keys -t t Enter '~.'
check "'~.' drops a hung session with 255" until_ok 10 bash -c "grep -qx rc=255 '$tmp/rc'"
check "... and restores the terminal" bash -c "sleep 0.5; diff '$tmp/stty.before' '$tmp/stty.after'"
tm kill-server

# SIGTERM in the middle of a session: the terminal is restored all the same
rm -f "$tmp/rc" "$tmp/stty.after"
new_session "$tmux_env $tmp/interactive.sh"
until_ok 20 bash -c "pane | grep -q '[#$] *\$'"
pkill -TERM -f "$bin ssh gus -l $me\$"
check "SIGTERM ends the session and restores the terminal" until_ok 10 bash -c "grep -qx rc=143 '$tmp/rc' && sleep 0.3 && diff '$tmp/stty.before' '$tmp/stty.after'"
tm kill-server

# a passphrase is asked for on a terminal; ssh-agent is tried first
ssh-keygen -q -t ed25519 -N "pw-$id" -C locked -f "$tmp/locked"
cat "$tmp/locked.pub" >> "$devbox_dir/volumes/authorized-keys/authorized_keys"
new_session "$tmux_env $bin ssh gus -l $me -i $tmp/locked -- echo unlocked-$id; sleep 30"
check "a passphrase prompt on a terminal" until_ok 20 bash -c "pane | grep -qi passphrase"
tm send-keys -t t "pw-$id" Enter
check "... and the key it unlocks logs in" until_ok 20 bash -c "pane | grep -q '^unlocked-$id'"
tm kill-server
eval "$(ssh-agent -s)" >/dev/null
ssh-add -q "$HOME/.ssh/id_ed25519"
mv "$HOME/.ssh/id_ed25519" "$tmp/id.moved"
check "ssh-agent's key logs in with no key file" status_is 0 "$bin" ssh gus -l "$me" -- echo agent-ok
check "... exactly" has "agent-ok" "$tmp/out"
ssh-add -q -D; ssh-add -q "$tmp/stranger"
check "doctor: only a stranger's key in ssh-agent -> ssh" doc_first ssh "spec.sshKeys in sandboxes/gus.yaml"
check "... naming ssh-agent's key by fingerprint as not in the file" \
	grep -q "$(ssh-keygen -lf "$tmp/stranger.pub" | cut -d' ' -f2) ssh-agent (stranger): NOT in the file" "$tmp/doc.out"
mv "$tmp/id.moved" "$HOME/.ssh/id_ed25519"
ssh-agent -k >/dev/null; unset SSH_AUTH_SOCK SSH_AGENT_PID

# a host key other than the published one: the port-forward now reaches
# another sshd (the git server's, another key)
kubectl patch clusterportforward "cli-$id" --type merge -p "{\"spec\":{\"forwards\":[{\"ports\":[2222],\"target\":{\"address\":\"127.0.0.1\",\"port\":$sshd_port}}]}}" >/dev/null
check "sandbox ssh refuses a host key other than the published one" until_ok 20 bash -c "'$bin' ssh gus -l '$me' -- true 2>'$tmp/hk2.err'; [ \$? = 255 ] && grep -q 'but the controller published' '$tmp/hk2.err'"
check "... and so does plain ssh with the pinned key" bash -c "! ssh_gus echo ok 2>'$tmp/hk.err' && grep -q 'REMOTE HOST IDENTIFICATION HAS CHANGED' '$tmp/hk.err'"
check "doctor: a host key other than the published one -> ssh" doc_first ssh "do not log in"
check "tunnel to a sandbox without a running pod exits 255" status_is 255 "$bin" tunnel nobody

# the second transport: the policy's ssh gateway, plain TCP (here straight
# to the sandbox's sshd, while the port-forward still points elsewhere)
git -C "$tmp/seed" pull -q "$tmp/remote.git" main
sed -i "s/^    endpoint: .*/    endpoint: \"$devbox_addr:2222\"/" "$tmp/seed/templates/policy.yaml"
git -C "$tmp/seed" -c user.name=sre -c user.email=sre@example.com commit -qam "policy: ssh gateway"
git -C "$tmp/seed" push -q "$tmp/remote.git" main
check "the status names the gateway" until_ok 30 bash -c "[ \"\$(field gus ssh.endpoint)\" = $devbox_addr:2222 ]"
check "sandbox ssh goes through the gateway" status_is 0 "$bin" ssh gus -l "$me" -- echo via-gateway
check "... and reaches the sandbox" has "via-gateway" "$tmp/out"
devbox_stop
check "doctor: sshd not there -> ssh" doc_first ssh "2222"
kubectl delete clusterportforward "cli-$id" --wait=false >/dev/null 2>&1

# two developers race: a slow pre-receive hook holds both pushes, one loses
# the ref update and redoes its change on the new head
printf '#!/bin/sh\ncat >/dev/null\nsleep 2\n' > "$tmp/remote.git/hooks/pre-receive"
chmod +x "$tmp/remote.git/hooks/pre-receive"
SANDBOX_CLONE=$tmp/clone-b "$bin" create ivy --owner ivy@example.com >"$tmp/ivy.out" 2>&1 &
a=$!
SANDBOX_CLONE=$tmp/clone-c "$bin" create jon --owner jon@example.com >"$tmp/jon.out" 2>&1 &
b=$!
wait "$a"; ra=$?
wait "$b"; rb=$?
rm "$tmp/remote.git/hooks/pre-receive"
check "two racing creates both exit 0" bash -c "[ $ra = 0 ] && [ $rb = 0 ] || { cat '$tmp/ivy.out' '$tmp/jon.out'; exit 1; }"
check "... one of them redid its change on the new head" bash -c "cat '$tmp/ivy.out' '$tmp/jon.out' | grep -q 'redoing the change on its new head'"
check "... both files are on the remote" bash -c "git -C '$tmp/remote.git' cat-file -e main:sandboxes/ivy.yaml && git -C '$tmp/remote.git' cat-file -e main:sandboxes/jon.yaml"
check "... and both become Healthy" until_ok 90 bash -c "[ \"\$(field ivy health)/\$(field jon health)\" = Healthy/Healthy ]"

# quota set: the namespace's ResourceQuota changes
check "quota set over file:// exits 0" status_is 0 env SANDBOX_REPO="file://$tmp/remote.git" SANDBOX_CLONE="$tmp/clone-d" "$bin" quota set ivy --cpu 6 --memory 12Gi
check "... the ResourceQuota follows" until_ok 60 bash -c "[ \"\$(jp ivy resourcequota/sandbox '{.spec.hard.limits\.cpu}/{.spec.hard.limits\.memory}')\" = 6/12Gi ]"

# delete: PendingDelete, namespace and volume kept
check "delete exits 0" status_is 0 "$bin" delete jon --yes
check "... the Sandbox goes PendingDelete" until_ok 60 bash -c "[ \"\$(field jon sync)\" = PendingDelete ]"
check "... its namespace and volume are kept" bash -c "kubectl get ns ${prefix}jon >/dev/null && kubectl -n ${prefix}jon get pvc home >/dev/null"
check "... status says the data is kept" bash -c "'$bin' status jon | grep -q '^Deleting:   file removed; data kept since'"

# failures say what to do
printf '#!/bin/sh\necho "permission denied: dev may not push to main" >&2\nexit 1\n' > "$tmp/remote.git/hooks/pre-receive"
chmod +x "$tmp/remote.git/hooks/pre-receive"
check "a push the server refuses fails clearly" status_is 1 "$bin" resize gus --cpu 1 --yes
check "... saying it was refused and what to check" has "refused the push to branch 'main'" "$tmp/err"
check "... with the server's reason and the advice" has "(remote: permission denied: dev may not push to main); check that you may push there" "$tmp/err"
rm "$tmp/remote.git/hooks/pre-receive"
check "a key the server does not accept fails clearly" status_is 1 env SANDBOX_GIT_SSH_KEY="$HOME/.ssh/id_ed25519" SANDBOX_CLONE="$tmp/clone-e" "$bin" resize gus --cpu 1 --yes
check "... naming authentication" has "authentication to" "$tmp/err"
: > "$tmp/empty_known_hosts"
check "an unknown host key fails clearly" status_is 1 env SANDBOX_GIT_KNOWN_HOSTS="$tmp/empty_known_hosts" SANDBOX_CLONE="$tmp/clone-f" "$bin" resize gus --cpu 1 --yes
check "... naming known_hosts" has "known_hosts" "$tmp/err"
check "an unreachable server fails clearly" status_is 1 env SANDBOX_REPO="ssh://dev@127.0.0.1:1/x.git" SANDBOX_CLONE="$tmp/clone-g" "$bin" resize gus --cpu 1 --yes
check "... saying what to check" has "check the repository url" "$tmp/err"
check "the controller stayed up" kill -0 "$ctl_pid"

checks_done
