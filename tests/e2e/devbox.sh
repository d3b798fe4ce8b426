# Sourced by e2e scripts (with src, tmp and id set): the devbox image's
# root filesystem (tests/devbox/rootfs, mmdebstrap from
# images/devbox/packages.txt) run under runc as a sandbox's pod would run
# (tests/e2e/pod-bundle.py reads the live Deployment and Secrets), in a
# network namespace of its own joined to the host by a veth pair: the
# KWOK port-forward then reaches its sshd at devbox_addr:2222.
# Needs root (overlayfs, network namespaces, runc).
#
# Its slot n (1..250) names the veth pair sbxhN/sbxcN, the network namespace
# and container sbx-devbox-N, and the subnet 10.231.N.0/30 (devbox_addr is
# .2). devbox_run claims the first free slot from id's by creating the host
# end of the veth pair, which only one run can do: e2e runs at the same time
# (one per Kubernetes minor) get a slot each.
devbox_dir=$tmp/devbox
devbox_n= devbox_netns= devbox_addr= devbox_cid=

devbox_start() { # NAMESPACE: the sandbox namespace whose Deployment to run
	mkdir -p "$devbox_dir"
	{
		printf '{"deployment":'; kubectl -n "$1" get deploy sandbox -o json
		printf ',"secrets":{"authorized-keys":'; kubectl -n "$1" get secret authorized-keys -o json
		printf ',"ssh-host-key":'; kubectl -n "$1" get secret ssh-host-key -o json
		printf '}}'
	} > "$devbox_dir/pod.json" || return 1
	devbox_run
}

# devbox_run: runs what $devbox_dir/pod.json describes ({"deployment": ...,
# "secrets": {NAME: Secret}}, the input of pod-bundle.py)
devbox_run() {
	local rootfs
	rootfs=$("$src/tests/devbox/rootfs") || return 1
	mkdir -p "$devbox_dir/upper" "$devbox_dir/work" "$devbox_dir/rootfs"
	# the cached tree stays untouched: the container writes to an overlay
	mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$devbox_dir/upper,workdir=$devbox_dir/work" \
		"$devbox_dir/rootfs" || return 1
	devbox_claim || return 1
	ip netns add "$devbox_netns" &&
	ip link set "sbxc$devbox_n" netns "$devbox_netns" &&
	ip addr add "10.231.$devbox_n.1/30" dev "sbxh$devbox_n" && ip link set "sbxh$devbox_n" up &&
	ip -n "$devbox_netns" addr add "$devbox_addr/30" dev "sbxc$devbox_n" &&
	ip -n "$devbox_netns" link set "sbxc$devbox_n" up && ip -n "$devbox_netns" link set lo up || return 1
	python3 "$src/tests/e2e/pod-bundle.py" "$devbox_dir" "$devbox_dir/rootfs" "/var/run/netns/$devbox_netns" \
		< "$devbox_dir/pod.json" || return 1
	runc run -d --bundle "$devbox_dir" "$devbox_cid" </dev/null >"$devbox_dir/log" 2>&1 ||
		{ cat "$devbox_dir/log"; return 1; }
	until_ok 20 bash -c "exec 3<>/dev/tcp/$devbox_addr/2222" || { echo "  sshd did not listen:"; cat "$devbox_dir/log"; return 1; }
}

# devbox_claim: the first slot whose host veth end this run could create
devbox_claim() {
	local i n
	for i in $(seq 0 249); do
		n=$(((id + i) % 250 + 1))
		ip link add "sbxh$n" type veth peer name "sbxc$n" 2>/dev/null || continue
		devbox_n=$n devbox_netns=sbx-devbox-$n devbox_addr=10.231.$n.2 devbox_cid=sbx-devbox-$n
		# a namespace or container of this slot without its veth is left
		# from a killed run
		ip netns del "$devbox_netns" 2>/dev/null
		runc delete -f "$devbox_cid" >/dev/null 2>&1
		return 0
	done
	echo "  no free devbox slot: 250 sbxhN veth ends exist"
	return 1
}

devbox_stop() {
	[ -z "$devbox_n" ] || runc delete -f "$devbox_cid" >/dev/null 2>&1
	# lazily when busy: the caller removes the folder next
	if mountpoint -q "$devbox_dir/rootfs"; then umount "$devbox_dir/rootfs" || umount -l "$devbox_dir/rootfs"; fi
	if [ -n "$devbox_n" ]; then
		ip link del "sbxh$devbox_n" 2>/dev/null
		ip netns del "$devbox_netns" 2>/dev/null
		devbox_n=
	fi
	return 0
}
