#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The two images, without a registry or an image builder.
# devbox: its root filesystem built by mmdebstrap from the package list the
# Containerfile reads, run under runc as the rendered pod runs (this
# repository's templates, rendered by `sandbox render`): sshd as uid 1000
# with the template's command line accepts the sandbox file's key and
# nothing else. controller: the runtime file system the Containerfile
# copies (images/controller/runtime-root), with the binary started inside
# it as uid 65532. Then both Containerfiles are built for real with
# buildah, Debian's own tree from mmdebstrap standing in for the
# registry's debian:12. Needs root: mmdebstrap, overlayfs, network
# namespaces, runc, chroot, buildah.
set -uo pipefail
bin=${SBX_SANDBOX_BIN:?set SBX_SANDBOX_BIN}
ctl=${SBX_CONTROLLER_BIN:?set SBX_CONTROLLER_BIN}
src=${SBX_SOURCE_ROOT:?set SBX_SOURCE_ROOT}
. "$src/tests/e2e/checks.sh"
[ "$(id -u)" -eq 0 ] || { echo "run as root: mmdebstrap, overlayfs, network namespaces, runc and chroot need it"; exit 1; }
tmp=$(mktemp -d)
id=$RANDOM
. "$src/tests/e2e/devbox.sh"
store=${SBX_IMAGES_CACHE:-/var/cache/sandbox-images}
B() { buildah --root "$store/storage" --runroot "$tmp/buildah-run" --storage-driver overlay "$@"; }
cleanup() {
	devbox_stop
	B rm --all >/dev/null 2>&1
	B rmi localhost/devbox:test localhost/sandbox-controller:test >/dev/null 2>&1
	mountpoint -q "$tmp/ctlroot/proc" && umount "$tmp/ctlroot/proc"
	rm -rf "$tmp"
}
trap cleanup EXIT
img=$src/images/devbox
packages() { grep -v '^#' "$1" | grep -v '^ *$'; }

# --- devbox
check "devbox Containerfile installs packages.txt and runs setup.sh" bash -c \
	"grep -q '^COPY packages.txt setup.sh ' '$img/Containerfile' && grep -q '/tmp/image/packages.txt' '$img/Containerfile' && grep -q 'sh /tmp/image/setup.sh' '$img/Containerfile'"
rootfs=$("$src/tests/devbox/rootfs") && [ -n "$rootfs" ] || { echo "not ok - the devbox root filesystem did not build"; exit 1; }
check "the root filesystem builds from the same list and setup (mmdebstrap, cached)" test -x "$rootfs/usr/sbin/sshd"
check "every package of the list is installed" bash -c \
	"[ \"\$(chroot '$rootfs' dpkg-query -W -f='\${Status}\n' $(packages "$img/packages.txt" | tr '\n' ' ') | grep -c 'install ok installed')\" = $(packages "$img/packages.txt" | wc -l) ]"
check "user dev: uid 1000, gid 1000, home /home/dev, bash" bash -c "[ \"\$(chroot '$rootfs' getent passwd dev)\" = 'dev:x:1000:1000::/home/dev:/bin/bash' ]"
check "the image brings no host keys of its own" bash -c "! ls '$rootfs'/etc/ssh/ssh_host_* 2>/dev/null"

# the pod the repository's own templates render for alice, with her keys
# replaced by one made here, and a host key like the controller's
ssh-keygen -q -t ed25519 -N '' -C dev@laptop -f "$tmp/user"
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$tmp/stranger"
ssh-keygen -q -t ed25519 -N '' -C host -f "$tmp/host"
"$bin" render --repo "$src" -o json alice > "$tmp/alice.json" || exit 1
mkdir -p "$devbox_dir"
pod_json() { # python expression applied to the Deployment d
	python3 - "$tmp" "$1" > "$devbox_dir/pod.json" <<'PY'
import base64, json, sys
tmp, edit = sys.argv[1], sys.argv[2]
d = [o for o in json.load(open(tmp + "/alice.json"))["items"] if o["kind"] == "Deployment"][0]
exec(edit)
b64 = lambda p: base64.b64encode(open(p, "rb").read()).decode()
print(json.dumps({"deployment": d, "secrets": {
    "authorized-keys": {"data": {"authorized_keys": b64(tmp + "/user.pub")}},
    "ssh-host-key": {"data": {"ssh_host_ed25519_key": b64(tmp + "/host")}}}}))
PY
}
# pinned under an alias: the devbox's address is known once it runs
echo "devbox $(cut -d' ' -f1,2 "$tmp/host.pub")" > "$tmp/known_hosts"
dssh() { ssh -p 2222 -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$tmp/known_hosts" \
	-o HostKeyAlias=devbox -o ConnectTimeout=5 -o IdentitiesOnly=yes "$@"; }
export -f dssh until_ok; export tmp

pod_json ""
check "the rendered pod's command line is sshd's, with UsePAM no" bash -c \
	"python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))[\"deployment\"][\"spec\"][\"template\"][\"spec\"][\"containers\"][0][\"command\"]; assert c[0]==\"/usr/sbin/sshd\" and \"UsePAM no\" in c and \"PasswordAuthentication no\" in c, c' '$devbox_dir/pod.json'"
check "sshd starts under runc as the pod runs (uid 1000, no capabilities, seccomp)" devbox_run
check "the sandbox file's key logs in as dev, the host key pinned" bash -c \
	"[ \"\$(dssh -i '$tmp/user' dev@$devbox_addr 'id -un; id -u')\" = \"\$(printf 'dev\n1000')\" ]"
check "sshd itself runs as uid 1000" bash -c "dssh -i '$tmp/user' dev@$devbox_addr 'ps -o uid= -C sshd' | tr -d ' ' | sort -u | grep -qx 1000"
check "a key not in the file is refused" bash -c "! dssh -i '$tmp/stranger' dev@$devbox_addr true 2>'$tmp/refused' && grep -q 'Permission denied (publickey)' '$tmp/refused'"
check "passwords are not even offered" bash -c \
	"dssh -o PreferredAuthentications=password -o PubkeyAuthentication=no dev@$devbox_addr true 2>&1 | grep -q 'Permission denied (publickey)'"
check "the home volume is dev's to write" bash -c "dssh -i '$tmp/user' dev@$devbox_addr 'echo kept > ~/file' && [ \"\$(cat '$devbox_dir/volumes/home/file')\" = kept ]"
devbox_stop

# why the template says UsePAM no: with Debian's default (PAM on), sshd
# as uid 1000 refuses every login
pod_json "c = d['spec']['template']['spec']['containers'][0]['command']; c[c.index('UsePAM no')] = 'UsePAM yes'"
devbox_dir=$tmp/devbox-pam
mkdir -p "$devbox_dir"; mv "$tmp/devbox/pod.json" "$devbox_dir/pod.json"
check "with UsePAM yes the same pod starts" devbox_run
check "... and refuses the right key (PAM account checks need root)" bash -c \
	"! dssh -i '$tmp/user' dev@$devbox_addr true 2>'$tmp/pam' && grep -qE 'Permission denied|Connection closed' '$tmp/pam' && until_ok 5 grep -q 'by PAM account configuration' '$devbox_dir/log'"
devbox_stop

# --- controller: the runtime file system the Containerfile copies
cf=$src/images/controller/Containerfile
check "controller Containerfile builds with packages.txt (what .ci/deps installs) and copies runtime-root's tree" bash -c \
	"grep -q 'images/controller/packages.txt' '$cf' && grep -q 'runtime-root /build/controller/sandbox-controller /runtime' '$cf' && grep -q '^FROM scratch' '$cf' && grep -q 'USER 65532:65532' '$cf' && grep -q 'images/controller/packages.txt' '$src/.ci/deps'"
check "runtime-root: the binary and the libraries it links" sh "$src/images/controller/runtime-root" "$ctl" "$tmp/ctlroot"
mkdir -p "$tmp/ctlroot/proc" && mount -t proc proc "$tmp/ctlroot/proc"
inside() { chroot --userspec=65532:65532 "$tmp/ctlroot" /usr/local/bin/sandbox-controller "$@"; }
check "... it starts there as uid 65532: --version" bash -c "$(declare -f inside); tmp='$tmp'; inside --version | grep -q '^sandbox-controller '"
check "... and --print-crd is deploy/base/crd.yaml" bash -c "$(declare -f inside); tmp='$tmp'; inside --print-crd | diff -u '$src/deploy/base/crd.yaml' -"
check "... with no shell to run" bash -c "[ ! -e '$tmp/ctlroot/bin/sh' ] && ! chroot '$tmp/ctlroot' /bin/sh -c true 2>/dev/null"
check "... and nothing but libraries besides the binary, the CA bundle and the user files" bash -c \
	"cd '$tmp/ctlroot' && [ -z \"\$(find . -path ./proc -prune -o -type f -print | grep -v -e '^./usr/local/bin/sandbox-controller$' -e '\\.so' -e '^./etc/ssl/certs/ca-certificates.crt$' -e '^./etc/\\(passwd\\|group\\|nsswitch.conf\\)$')\" ]"
# --- the Containerfiles, built: no registry, so docker.io/library/debian:12
# is Debian's minbase tree made here with mmdebstrap (cached in $store)
if ! B inspect docker.io/library/debian:12 >/dev/null 2>&1; then
	echo "# making the debian:12 base image with mmdebstrap (once)"
	mmdebstrap --quiet --variant=minbase bookworm "$tmp/base.tar" http://deb.debian.org/debian &&
	base=$(B from scratch) && mnt=$(B mount "$base") && tar -C "$mnt" -xf "$tmp/base.tar" &&
	B commit -q --rm "$base" docker.io/library/debian:12 >/dev/null
	rm -f "$tmp/base.tar"
fi
bud() { B bud --pull=never --isolation chroot --network host --layers -q "$@" >"$tmp/bud.log" 2>&1 || { tail -20 "$tmp/bud.log"; return 1; }; }
in_image() { # image command...: run it in the image's file system as its user
	local c m user r
	c=$(B from -q "$1") && m=$(B mount "$c") || return 1
	user=$(B inspect --format '{{.OCIv1.Config.User}}' "$1"); shift
	mkdir -p "$m/proc" && mount -t proc proc "$m/proc"
	chroot --userspec="${user:-0:0}" "$m" "$@"; r=$?
	umount "$m/proc"; B rm "$c" >/dev/null
	return $r
}
check "images/devbox/Containerfile builds" bud -t localhost/devbox:test "$src/images/devbox"
check "... user dev, sshd, runs as 1000:1000" bash -c "$(declare -f B in_image); store='$store' tmp='$tmp'; \
	[ \"\$(B inspect --format '{{.OCIv1.Config.User}}' localhost/devbox:test)\" = 1000:1000 ] && \
	[ \"\$(in_image localhost/devbox:test sh -c 'getent passwd dev; test -x /usr/sbin/sshd && echo sshd')\" = \"\$(printf 'dev:x:1000:1000::/home/dev:/bin/bash\nsshd')\" ]"
check "images/controller/Containerfile builds (from the repository's top folder)" \
	bud -f "$src/images/controller/Containerfile" -t localhost/sandbox-controller:test "$src"
check "... runs as 65532 with no shell: --version" bash -c "$(declare -f B in_image); store='$store' tmp='$tmp'; \
	[ \"\$(B inspect --format '{{.OCIv1.Config.User}} {{.OCIv1.Config.Entrypoint}}' localhost/sandbox-controller:test)\" = '65532:65532 [/usr/local/bin/sandbox-controller]' ] && \
	in_image localhost/sandbox-controller:test /usr/local/bin/sandbox-controller --version | grep -q '^sandbox-controller ' && \
	! in_image localhost/sandbox-controller:test /bin/sh -c true 2>/dev/null"
checks_done
