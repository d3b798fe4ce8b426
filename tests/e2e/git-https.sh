#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# git over https:// with a token file: the CLI fetches and pushes through
# git's own http-backend behind TLS on 127.0.0.1 (https-git-server.py),
# trusting the test's CA through the gitCaFile setting. A wrong or missing
# token, an untrusted certificate and a redirect to another host fail
# clearly, and the token shows in no output.
set -uo pipefail
bin=${SBX_SANDBOX_BIN:?set SBX_SANDBOX_BIN to the built sandbox binary}
src=${SBX_SOURCE_ROOT:?set SBX_SOURCE_ROOT to the source tree}
. "$src/tests/e2e/checks.sh"
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

status_is() {
	local want=$1; shift
	"$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	local got=$?
	[ "$got" -eq "$want" ] || { echo "  exit $got, want $want: $*"; cat "$tmp/out" "$tmp/err" | head -20; return 1; }
}
has() { grep -qF -- "$1" "$2" || { echo "  missing: $1"; echo "  in:"; sed 's/^/    /' "$2"; return 1; }; }

# a CA and a certificate for localhost signed by it (P-256 and a DNS name:
# libgit2's mbedTLS has neither ed25519 nor IP-address names)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days 2 \
	-subj "/CN=sandbox test CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tmp/server.key" -out "$tmp/server.csr" \
	-subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost\n' > "$tmp/san.ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
	-out "$tmp/server.pem" -days 2 -extfile "$tmp/san.ext" 2>/dev/null
# another CA, that signed nothing here
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tmp/other.key" -out "$tmp/other.pem" -days 2 \
	-subj "/CN=another CA" 2>/dev/null

# the remote, and the server
mkdir -p "$tmp/srv"
git init -q -b main "$tmp/seed"
cp -r "$src/sandboxes" "$src/templates" "$tmp/seed/"
git -C "$tmp/seed" add -A
git -C "$tmp/seed" -c user.name=seed -c user.email=seed@example.com commit -qm "example"
git clone -q --bare "$tmp/seed" "$tmp/srv/remote.git"
token="tok-$RANDOM$RANDOM-do-not-print"
printf '%s\n' "$token" > "$tmp/token"
python3 "$src/tests/e2e/https-git-server.py" "$tmp/srv" "$tmp/server.pem" "$tmp/server.key" \
	"$tmp/token" "$tmp/port" 2>"$tmp/server.log" &
server=$!
for i in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "the https server did not start:"; cat "$tmp/server.log"; exit 1; }
port=$(cat "$tmp/port")

export HOME=$tmp/home USER=dev
mkdir -p "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N '' -C dev@laptop -f "$HOME/.ssh/id_ed25519"
printf '[user]\n\tname = Dev\n\temail = dev@example.com\n' > "$HOME/.gitconfig"
unset SSH_AUTH_SOCK SANDBOX_CONFIG XDG_CONFIG_HOME XDG_DATA_HOME
export SANDBOX_REPO="https://localhost:$port/remote.git" SANDBOX_GIT_TOKEN_FILE=$tmp/token
export SANDBOX_GIT_CA_FILE=$tmp/ca.pem SANDBOX_CLONE=$tmp/clone

check "create over https:// with a token exits 0" status_is 0 "$bin" create dev --owner dev@example.com
check "... the commit is on the server" bash -c "[ \"\$(git -C '$tmp/srv/remote.git' log -1 --format=%s main)\" = 'sandbox: create dev (size small)' ]"
check "resize over https:// (fetch, then push)" status_is 0 "$bin" resize dev --cpu 2 --yes
check "... on the server too" bash -c "git -C '$tmp/srv/remote.git' show main:sandboxes/dev.yaml | grep -q 'cpu: \"2\"'"
printf 'wrong-token\n' > "$tmp/wrong"
check "a wrong token fails" status_is 1 env SANDBOX_GIT_TOKEN_FILE="$tmp/wrong" SANDBOX_CLONE="$tmp/c2" "$bin" resize dev --cpu 3 --yes
check "... saying to check the token" has "check that the token is authorized" "$tmp/err"
check "no token fails" status_is 1 env -u SANDBOX_GIT_TOKEN_FILE SANDBOX_CLONE="$tmp/c3" "$bin" resize dev --cpu 3 --yes
check "... saying to give one" has "asks for credentials; give a token file" "$tmp/err"
check "a certificate from another CA is refused" status_is 1 env SANDBOX_GIT_CA_FILE="$tmp/other.pem" SANDBOX_CLONE="$tmp/c4" "$bin" resize dev --cpu 3 --yes
check "... as not trusted" has "is not trusted" "$tmp/err"
check "a redirect to another server is not followed" status_is 1 env SANDBOX_REPO="https://localhost:$port/redirect/remote.git" SANDBOX_CLONE="$tmp/c5" "$bin" resize dev --cpu 3 --yes
check "... and says so" has "cannot redirect from 'localhost' to 'elsewhere.invalid'" "$tmp/err"
check "the token appears in no output" bash -c "! grep -sqF '$token' '$tmp/out' '$tmp/err' '$tmp/clone/.git/config'"
check "a token in the url is never shown" status_is 1 env SANDBOX_REPO="https://dev:$token@127.0.0.1:1/remote.git" SANDBOX_CLONE="$tmp/c6" "$bin" resize dev --cpu 3 --yes
check "... neither in the error" bash -c "! grep -qF '$token' '$tmp/err' '$tmp/out'"

checks_done
