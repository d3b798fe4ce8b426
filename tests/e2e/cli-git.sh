#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CLI's writing commands against a real git remote over file:// (no
# cluster): settings and their sources, create / resize / delete / quota as
# commits on the remote, the resize plan, format-keeping edits (golden
# files), and the refusals: an existing name, an invalid change, shrinking
# storage, no terminal without --yes, a clone with local changes.
# SBX_UPDATE_GOLDEN=1 rewrites the golden files (review the diff).
set -uo pipefail
bin=${SBX_SANDBOX_BIN:?set SBX_SANDBOX_BIN to the built sandbox binary}
src=${SBX_SOURCE_ROOT:?set SBX_SOURCE_ROOT to the source tree}
. "$src/tests/e2e/checks.sh"
golden=$src/tests/data/golden
tmp=$(mktemp -d)
trap '[ -n "${SSH_AGENT_PID:-}" ] && kill "$SSH_AGENT_PID"; rm -rf "$tmp"' EXIT

status_is() { # expected status, command...
	local want=$1; shift
	"$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	local got=$?
	[ "$got" -eq "$want" ] || { echo "  exit $got, want $want: $*"; cat "$tmp/out" "$tmp/err" | head -20; return 1; }
}
has() { grep -qF -- "$1" "$2" || { echo "  missing: $1"; echo "  in:"; sed 's/^/    /' "$2"; return 1; }; }
remote_file() { git -C "$tmp/remote.git" show "main:$1"; }
same_as_golden() { # golden file, repository path
	remote_file "$2" >"$tmp/golden.out" || return 1
	if [ -n "${SBX_UPDATE_GOLDEN:-}" ]; then cp "$tmp/golden.out" "$golden/$1"; fi
	diff -u "$golden/$1" "$tmp/golden.out"
}
subject() { git -C "$tmp/remote.git" log -1 --format=%s main; }
head_is() { [ "$(git -C "$tmp/remote.git" rev-parse main)" = "$1" ]; }

# The remote: this repository's example, pushed to a bare repository.
git init -q -b main "$tmp/seed"
cp -r "$src/sandboxes" "$src/templates" "$tmp/seed/"
git -C "$tmp/seed" add -A
git -C "$tmp/seed" -c user.name=seed -c user.email=seed@example.com commit -qm "example"
git clone -q --bare "$tmp/seed" "$tmp/remote.git"

# A developer's machine: a home with a key and a git identity, no config file.
export HOME=$tmp/home
mkdir -p "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N '' -C dev@laptop -f "$HOME/.ssh/id_ed25519"
printf '[user]\n\tname = Dev\n\temail = dev@example.com\n' > "$HOME/.gitconfig"
unset SANDBOX_REPO SANDBOX_CLONE SANDBOX_NAME SANDBOX_CONFIG SSH_AUTH_SOCK XDG_CONFIG_HOME XDG_DATA_HOME
export USER=dev

check "config without a repository says how to set one" status_is 0 "$bin" config
check "config names the default clone folder" has "clone          $HOME/.local/share/sandbox/repo" "$tmp/out"
check "a writing command without a repository exits 2" status_is 2 "$bin" create --owner dev@example.com
check "... and says where to set it" has "no GitOps repository is configured" "$tmp/err"

mkdir -p "$HOME/.config/sandbox"
printf 'repo: file://%s\nname: dev\nclone: %s\n' "$tmp/remote.git" "$tmp/clone" > "$HOME/.config/sandbox/config.yaml"
check "config reads the file" status_is 0 "$bin" config
check "config says a value came from the file" has "file $HOME/.config/sandbox/config.yaml" "$tmp/out"
check "an environment variable wins over the file" bash -c "SANDBOX_NAME=eve '$bin' config | grep -q '^name  *eve  *env SANDBOX_NAME'"
check "a flag wins over the environment" bash -c "SANDBOX_CLONE=/x '$bin' config --clone /y | grep -q '^clone  *\/y  *flag --clone'"
printf 'repo: file:///x\nrepos: y\n' > "$tmp/bad-config.yaml"
check "an unknown setting in the file is located and exits 1" status_is 1 "$bin" config --config "$tmp/bad-config.yaml"
check "... with its line" has "bad-config.yaml:2:1: error: unknown setting 'repos'" "$tmp/err"

# create
check "create exits 0" status_is 0 "$bin" create --owner dev@example.com --size medium
check "create: the commit says what it did" bash -c "[ \"\$(git -C '$tmp/remote.git' log -1 --format=%s main)\" = 'sandbox: create dev (size medium)' ]"
check "create: the name defaults to the configured name" bash -c "git -C '$tmp/remote.git' show main:sandboxes/dev.yaml | grep -q '^  name: dev$'"
check "create: the key defaults to ~/.ssh/id_ed25519.pub" bash -c "git -C '$tmp/remote.git' show main:sandboxes/dev.yaml | grep -qF \"\$(cut -d' ' -f2 '$HOME/.ssh/id_ed25519.pub')\""
check "create: the clone is checked out at the pushed commit" bash -c "[ -f '$tmp/clone/sandboxes/dev.yaml' ] && [ \"\$(git -C '$tmp/clone' rev-parse HEAD)\" = \"\$(git -C '$tmp/remote.git' rev-parse main)\" ]"
check "create: the file passes lint" status_is 0 "$bin" lint --repo "$tmp/clone"
head=$(git -C "$tmp/remote.git" rev-parse main)
check "create of an existing name exits 1" status_is 1 "$bin" create dev --owner dev@example.com
check "... and says so" has "sandbox 'dev' already exists" "$tmp/err"
check "create with an unknown size exits 1" status_is 1 "$bin" create fred --owner fred@example.com --size huge
check "... with lint's located error" has "sandboxes/fred.yaml:" "$tmp/err"
check "... and nothing pushed" head_is "$head"
check "create with --cpu beyond the cap exits 1 naming the numbers" status_is 1 "$bin" create fred --owner fred@example.com --cpu 64
check "... nothing pushed" head_is "$head"
check "create with --size and --cpu is a usage error" status_is 2 "$bin" create fred --size small --cpu 2
printf 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 short@key\n' > "$tmp/weak.pub"
check "create with a bad key exits 1" status_is 1 "$bin" create fred --owner fred@example.com --key "$tmp/weak.pub"
# no key file: the keys ssh-agent holds
mv "$HOME/.ssh/id_ed25519.pub" "$tmp/id.pub"
eval "$(ssh-agent -s)" >/dev/null
ssh-keygen -q -t ed25519 -N '' -C agent@laptop -f "$tmp/agent_key" && ssh-add -q "$tmp/agent_key"
check "create without a key file takes ssh-agent's keys" status_is 0 "$bin" create hub --owner hub@example.com
check "... the agent's key is in the file" bash -c "git -C '$tmp/remote.git' show main:sandboxes/hub.yaml | grep -qF \"\$(cut -d' ' -f1,2 '$tmp/agent_key.pub') agent@laptop\""
ssh-agent -k >/dev/null; unset SSH_AUTH_SOCK SSH_AGENT_PID
check "no key anywhere is a usage error that says how to make one" status_is 2 "$bin" create ida --owner ida@example.com
check "... saying how" has "ssh-keygen -t ed25519" "$tmp/err"
mv "$tmp/id.pub" "$HOME/.ssh/id_ed25519.pub"
check "create --key FILE uses that key" status_is 0 "$bin" create gil --owner gil@example.com --key "$src/tests/data/sshkey/rsa3072.pub"

# resize: the plan, format-keeping edits
check "resize without --yes and no terminal exits 2" status_is 2 "$bin" resize carol --memory 40Gi
check "... after printing the plan" has "memory    48Gi -> 40Gi" "$tmp/out"
check "resize carol keeps comments and layout (golden)" status_is 0 "$bin" resize carol --memory 40Gi --cpu 10 --yes
check "... file" same_as_golden resize-carol.yaml sandboxes/carol.yaml
check "... commit message" bash -c "[ \"\$(git -C '$tmp/remote.git' log -1 --format=%s main)\" = 'sandbox: resize carol (cpu 12 -> 10, memory 48Gi -> 40Gi)' ]"
check "resize alice adds resources after the last field (golden)" status_is 0 "$bin" resize alice --memory 4Gi --storage 30Gi --yes
check "... file" same_as_golden resize-alice.yaml sandboxes/alice.yaml
check "... plan says the pod restarts and the volume grows" bash -c "grep -q '^  pod       restarts' '$tmp/out' && grep -q '^  volume    grows' '$tmp/out'"
check "... and the fleet against the budget" has "  budget    fits: cpu 23 of 400, memory 82Gi of 1600Gi (the fleet after this change)" "$tmp/out"
head=$(git -C "$tmp/remote.git" rev-parse main)
check "shrinking storage is refused" status_is 1 "$bin" resize alice --storage 20Gi --yes
check "... with the reason" has "storage cannot shrink from 30Gi to 20Gi" "$tmp/err"
check "... nothing pushed" head_is "$head"
check "--size keeps a storage value larger than the new size's" status_is 0 "$bin" resize alice --size small --yes
check "... plan" bash -c "grep -q '^  memory    4Gi -> 2Gi' '$tmp/out' && grep -q '^  storage   30Gi (unchanged)' '$tmp/out'"
check "resize to the same values exits 1 with nothing to change" status_is 1 "$bin" resize alice --size small --yes
check "... and says so" has "nothing to change" "$tmp/err"
check "--size drops per-field cpu and memory" status_is 0 "$bin" resize alice --size large --yes
check "... file" bash -c "remote_file() { git -C '$tmp/remote.git' show main:\$1; }; f=\$(remote_file sandboxes/alice.yaml); grep -q '^  size: large' <<<\"\$f\" && ! grep -q 'memory:' <<<\"\$f\" && ! grep -q 'storage:' <<<\"\$f\""
check "resize of a missing sandbox exits 1" status_is 1 "$bin" resize nobody --cpu 2 --yes

# quota (SRE): the policy edited in place
check "quota set on a flow-style override (golden)" status_is 0 "$bin" quota set carol --storage 300Gi
check "quota set adds a new override" status_is 0 "$bin" quota set bob --cpu 6 --memory 12Gi
check "... policy file" same_as_golden quota-policy.yaml templates/policy.yaml
check "... commit message" bash -c "[ \"\$(git -C '$tmp/remote.git' log -1 --format=%s main)\" = 'sandbox: quota bob (cpu 6, memory 12Gi)' ]"
check "quota get shows the override" status_is 0 "$bin" quota get bob
check "... values" bash -c "grep -q '^cpu  *6  *8$' '$tmp/out' && grep -q '^memory  *12Gi  *32Gi$' '$tmp/out'"
check "quota set with a bad quantity exits 1" status_is 1 "$bin" quota set bob --cpu lots
check "quota --clear removes the override" status_is 0 "$bin" quota set bob --clear
check "... gone from the policy" bash -c "! git -C '$tmp/remote.git' show main:templates/policy.yaml | grep -q '^    bob:'"
check "quota without a verb is a usage error" status_is 2 "$bin" quota bob

# delete
check "delete without NAME is a usage error" status_is 2 "$bin" delete --yes
check "delete without --yes and no terminal exits 2" status_is 2 "$bin" delete gil
check "delete exits 0" status_is 0 "$bin" delete gil --yes
check "... says what happens to the data" has "keeps namespace 'sbx-gil' with its home volume for 72h00m" "$tmp/out"
check "... and how to restore it" has "revert --no-edit" "$tmp/out"
check "... the file is gone from the remote" bash -c "! git -C '$tmp/remote.git' cat-file -e main:sandboxes/gil.yaml 2>/dev/null"
check "... the commit message" bash -c "[ \"\$(git -C '$tmp/remote.git' log -1 --format=%s main)\" = 'sandbox: delete gil' ]"

# the clone: fetched before each edit, refused when it has local changes
git -C "$tmp/seed" pull -q "$tmp/remote.git" main
printf '# a colleague was here\n' >> "$tmp/seed/sandboxes/bob.yaml"
git -C "$tmp/seed" -c user.name=seed -c user.email=seed@example.com commit -qam "bob: a comment"
git -C "$tmp/seed" push -q "$tmp/remote.git" main
check "an edit starts from the remote's newest commit" status_is 0 "$bin" resize bob --cpu 3 --yes
check "... keeping the colleague's change" bash -c "git -C '$tmp/remote.git' show main:sandboxes/bob.yaml | grep -q 'a colleague was here'"
touch "$tmp/clone/notes.txt"
printf 'x' >> "$tmp/clone/sandboxes/bob.yaml"
head=$(git -C "$tmp/remote.git" rev-parse main)
check "a clone with local changes is refused" status_is 1 "$bin" resize bob --cpu 4 --yes
check "... naming the files" bash -c "grep -q 'modified: *sandboxes/bob.yaml' '$tmp/err' && grep -q 'untracked: *notes.txt' '$tmp/err'"
check "... nothing pushed" head_is "$head"
git -C "$tmp/clone" checkout -q -- sandboxes/bob.yaml
rm "$tmp/clone/notes.txt"
git -C "$tmp/clone" -c user.name=x -c user.email=x@x commit -q --allow-empty -m "local only"
check "a clone with unpushed commits is refused" status_is 1 "$bin" resize bob --cpu 4 --yes
check "... saying so" has "1 local commit on 'main' not on the remote" "$tmp/err"
git -C "$tmp/clone" reset -q --hard origin/main
check "a clone folder of another repository is refused" status_is 1 "$bin" resize bob --cpu 4 --yes --repo-url "file://$tmp/elsewhere.git"
check "... naming both urls" has "fetches from 'file://$tmp/remote.git', not 'file://$tmp/elsewhere.git'" "$tmp/err"
check "an unreachable remote fails clearly" status_is 1 "$bin" resize bob --cpu 4 --yes --repo-url "file://$tmp/missing.git" --clone "$tmp/clone2"
check "... and says what to check" has "check the repository url" "$tmp/err"
check "help of every writing command exits 0" bash -c "for c in create resize delete quota list status config; do '$bin' \$c --help >/dev/null || exit 1; done"

checks_done
