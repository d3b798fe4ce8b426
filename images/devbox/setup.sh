#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Turns a Debian root filesystem with packages.txt installed into the devbox
# image: run inside it as root, by the Containerfile and by the test that
# builds the same tree with mmdebstrap. sshd runs as uid 1000 (the pod's
# securityContext), so everything it reads at start must be readable by dev.
set -eu
# user dev, uid and gid 1000, home on the volume; '*' is "no password" but
# not a locked account (sshd without PAM refuses '!' accounts)
groupadd --gid 1000 dev
useradd --uid 1000 --gid 1000 --home-dir /home/dev --shell /bin/bash --no-create-home dev
usermod -p '*' dev
mkdir -p /home/dev && chown 1000:1000 /home/dev && chmod 0755 /home/dev
# mount points of the authorized-keys and host-key Secrets
mkdir -p /etc/sandbox/authorized-keys /etc/sandbox/host-key
# UTF-8 by default
sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
locale-gen >/dev/null
echo 'LANG=en_US.UTF-8' > /etc/default/locale
# no host keys of the image's own: the pod mounts the controller's
rm -f /etc/ssh/ssh_host_*
# sshd as uid 1000 cannot use PAM (its account checks need root); the
# template passes -o UsePAM=no too, this keeps a plain `sshd` consistent
printf 'UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n' \
	> /etc/ssh/sshd_config.d/sandbox.conf
# the privilege separation directory sshd checks for at start
mkdir -p /run/sshd && chmod 0755 /run/sshd
apt-get clean
rm -rf /var/lib/apt/lists/*
