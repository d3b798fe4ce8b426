# SPDX-License-Identifier: Apache-2.0
# Sourced by the e2e scripts: named checks counted as they go, a bounded
# retry, and the closing line. A script may define on_failure() to print
# what helps after a failed check (the controller's log, say).
passed=0 failed=0

# check NAME COMMAND...: run the command; "ok - NAME" or "not ok - NAME"
check() {
	local name=$1; shift
	if "$@"; then
		passed=$((passed + 1)); echo "ok - $name"
	else
		failed=$((failed + 1)); echo "not ok - $name"
		if declare -F on_failure >/dev/null; then on_failure; fi
	fi
}

# listen_port SEED: a loopback port to listen on, 20000 to 31999: below the
# kernel's ephemeral range (32768 and up), where the local end of any
# client's connection could take a port between two starts of a server
listen_port() { echo $((20000 + $1 % 12000)); }

# until_ok SECONDS COMMAND...: retry every 0.5 s until it succeeds or time is up
until_ok() { local end=$((SECONDS + $1)); shift; while ! "$@" >/dev/null 2>&1; do ((SECONDS < end)) || return 1; sleep 0.5; done; }

# checks_done: the closing line; the exit status says whether all passed
checks_done() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }
