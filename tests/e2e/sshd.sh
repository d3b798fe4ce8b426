# SPDX-License-Identifier: Apache-2.0
# Sourced by the e2e scripts: start a real OpenSSH sshd on 127.0.0.1 for
# this user. start_sshd DIR makes DIR/host (host key), DIR/client (the one
# authorized key) and DIR/known_hosts, and sets sshd_pid and sshd_port;
# start_sshd DIR HOST_KEY AUTHORIZED_KEYS uses those files instead (a
# sandbox's own, say). stop_sshd stops it. Needs root for sshd's privilege
# separation folder, as CI runs.
#
# Sessions get DIR/home as HOME: Debian's bash reads ~/.bashrc for a
# command sent over ssh, and the account's own start-up files (anything a
# machine's root has: version managers, say) would run for every git
# fetch the controller makes, a second of CPU each on a busy machine.

start_sshd() {
	local dir=$1 attempt i
	mkdir -p /run/sshd "$dir"
	if [ $# -ge 3 ]; then
		install -m 600 "$2" "$dir/host" && ssh-keygen -y -f "$dir/host" > "$dir/host.pub" &&
			cp "$3" "$dir/authorized_keys" || return 1
	else
		for k in host client; do ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$dir/$k" || return 1; done
		cp "$dir/client.pub" "$dir/authorized_keys"
	fi
	mkdir -p "$dir/home"
	sshd_pid=
	for attempt in 1 2 3 4 5 6 7 8; do
		sshd_port=$(listen_port $((RANDOM * 7 + attempt)))
		printf 'Port %s\nListenAddress 127.0.0.1\nHostKey %s/host\nPidFile %s/pid\nAuthorizedKeysFile %s/authorized_keys\nStrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nSetEnv HOME=%s/home\n' \
			"$sshd_port" "$dir" "$dir" "$dir" "$dir" > "$dir/config"
		/usr/sbin/sshd -D -e -f "$dir/config" 2>>"$dir/log" &
		sshd_pid=$!
		for i in $(seq 50); do
			(exec 3<>"/dev/tcp/127.0.0.1/$sshd_port") 2>/dev/null && break 2
			kill -0 "$sshd_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$sshd_pid" 2>/dev/null; wait "$sshd_pid" 2>/dev/null; sshd_pid=
	done
	[ -n "$sshd_pid" ] || { echo "cannot start sshd:"; cat "$dir/log"; return 1; }
	printf '[127.0.0.1]:%s %s\n' "$sshd_port" "$(cut -d' ' -f1,2 "$dir/host.pub")" > "$dir/known_hosts"
}

stop_sshd() {
	[ -n "${sshd_pid:-}" ] && kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null
	sshd_pid=
}
