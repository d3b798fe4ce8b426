#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes an OCI runtime bundle (config.json and volume folders) that runs
the first container of a live Deployment the way its pod would run, so the
devbox root filesystem can be tested under runc without a kubelet or an
image registry.

    pod-bundle.py BUNDLE ROOTFS NETNS_PATH|host < pod-input.json

stdin: {"deployment": <Deployment>, "secrets": {NAME: <Secret>, ...}}, and
optionally "configmaps": {NAME: <ConfigMap>} (for envFrom and
configMapKeyRef), "pod": {"name", "namespace"} (for fieldRef),
"entrypoint": [...] (the image's, when the container gives no command),
"serviceaccount": {"token", "ca.crt", "namespace"} (mounted where the
kubelet mounts it unless automountServiceAccountToken is false), "env":
{NAME: VALUE} (what the kubelet adds, such as KUBERNETES_SERVICE_HOST) and
"extra_args": [...]. NETNS_PATH "host" keeps the host's network.
From the Deployment it takes the container's command and args, env,
resources, user and group (runAsUser, runAsGroup, fsGroup as a
supplementary group), allowPrivilegeEscalation, capabilities,
readOnlyRootFilesystem and the volume mounts. Secret volumes are written as the kubelet writes them:
owned by root with group fsGroup, mode defaultMode plus group read when
fsGroup is set; a persistentVolumeClaim becomes an empty folder owned
root:fsGroup, mode 2775, and so does an emptyDir. seccomp RuntimeDefault is approximated by a
profile that refuses what container runtimes' default profiles refuse.
"""
import base64
import json
import os
import sys

# what the usual RuntimeDefault profiles (containerd, CRI-O) deny; EPERM
DENIED = ["acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
          "delete_module", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick",
          "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
          "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount",
          "move_mount", "move_pages", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
          "open_tree", "perf_event_open", "personality", "pivot_root", "process_vm_readv",
          "process_vm_writev", "query_module", "quotactl", "reboot", "request_key",
          "set_mempolicy", "setns", "settimeofday", "stime", "swapoff", "swapon", "sysfs",
          "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old"]

CAPS_ALL = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
            "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def quantity_bytes(q):
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40,
             "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    for u, m in units.items():
        if q.endswith(u):
            return int(float(q[:-len(u)]) * m)
    return int(q)


def cpu_millis(q):
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)


def main():
    bundle, rootfs, netns = sys.argv[1:4]
    given = json.load(sys.stdin)
    pod = given["deployment"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    uid = csc.get("runAsUser", psc.get("runAsUser", 0))
    gid = csc.get("runAsGroup", psc.get("runAsGroup", 0))
    fs_group = psc.get("fsGroup")
    if (csc.get("runAsNonRoot", psc.get("runAsNonRoot")) and uid == 0):
        sys.exit("runAsNonRoot with uid 0: the kubelet would refuse to start it")
    caps = [x for x in CAPS_ALL if x[4:] not in csc.get("capabilities", {}).get("drop", [])
            and "ALL" not in csc.get("capabilities", {}).get("drop", [])]
    caps += ["CAP_" + x for x in csc.get("capabilities", {}).get("add", [])]

    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
    ]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for vm in c.get("volumeMounts", []):
        v = volumes[vm["name"]]
        host = os.path.join(bundle, "volumes", vm["name"])
        os.makedirs(host, exist_ok=True)
        if "secret" in v:
            secret = given["secrets"][v["secret"]["secretName"]]
            mode = v["secret"].get("defaultMode", 0o644)
            if fs_group is not None:
                mode |= 0o440
            for key, val in secret.get("data", {}).items():
                path = os.path.join(host, key)
                with open(path, "wb") as f:
                    f.write(base64.b64decode(val))
                os.chown(path, 0, fs_group if fs_group is not None else 0)
                os.chmod(path, mode)
            os.chown(host, 0, fs_group if fs_group is not None else 0)
            os.chmod(host, 0o2750 if fs_group is not None else 0o755)
        elif "persistentVolumeClaim" in v or "emptyDir" in v:
            # an emptyDir starts empty, a fresh volume too
            os.chown(host, 0, fs_group if fs_group is not None else 0)
            os.chmod(host, 0o2775 if fs_group is not None else 0o777)
        else:
            sys.exit("volume %s: only secret, persistentVolumeClaim and emptyDir are emulated" % vm["name"])
        opts = ["rbind", "nosuid", "nodev"] + (["ro"] if vm.get("readOnly") else ["rw"])
        mounts.append({"destination": vm["mountPath"], "type": "bind", "source": host, "options": opts})

    sa = given.get("serviceaccount")
    if sa and pod.get("automountServiceAccountToken", True):
        host = os.path.join(bundle, "volumes", "serviceaccount")
        os.makedirs(host, exist_ok=True)
        for key in ("token", "ca.crt", "namespace"):
            with open(os.path.join(host, key), "w") as f:
                f.write(sa[key])
            os.chmod(os.path.join(host, key), 0o644)
        mounts.append({"destination": "/var/run/secrets/kubernetes.io/serviceaccount", "type": "bind",
                       "source": host, "options": ["rbind", "nosuid", "nodev", "ro"]})

    meta = given.get("pod", {"name": "sandbox", "namespace": "default"})
    fields = {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"]}
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOSTNAME": meta["name"]}
    env.update(given.get("env", {}))
    for ef in c.get("envFrom", []):
        env.update(given["configmaps"][ef["configMapRef"]["name"]].get("data", {}))
    for e in c.get("env", []):
        src = e.get("valueFrom", {})
        if "fieldRef" in src:
            env[e["name"]] = fields[src["fieldRef"]["fieldPath"]]
        elif "configMapKeyRef" in src:
            env[e["name"]] = given["configmaps"][src["configMapKeyRef"]["name"]]["data"][src["configMapKeyRef"]["key"]]
        elif src:
            sys.exit("env %s: only value, fieldRef and configMapKeyRef are emulated" % e["name"])
        else:
            env[e["name"]] = e.get("value", "")
    limits = c.get("resources", {}).get("limits", {})
    resources = {}
    if "memory" in limits:
        resources["memory"] = {"limit": quantity_bytes(limits["memory"])}
    if "cpu" in limits:
        resources["cpu"] = {"period": 100000, "quota": cpu_millis(limits["cpu"]) * 100}

    config = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": uid, "gid": gid,
                     "additionalGids": [fs_group] if fs_group is not None else []},
            "args": (c.get("command") or given.get("entrypoint", [])) + c.get("args", [])
                    + given.get("extra_args", []),
            "env": ["%s=%s" % kv for kv in env.items()],
            "cwd": c.get("workingDir", "/"),
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            "noNewPrivileges": not csc.get("allowPrivilegeEscalation", True),
        },
        "root": {"path": rootfs, "readonly": bool(csc.get("readOnlyRootFilesystem"))},
        "hostname": meta["name"],
        "mounts": mounts,
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
                          + ([] if netns == "host" else [{"type": "network", "path": netns}]),
            "resources": resources,
            "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                        "syscalls": [{"names": DENIED, "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
            if (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault"
            else None,
            "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                            "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq",
                              "/proc/sys", "/proc/sysrq-trigger"],
        },
    }
    if config["linux"]["seccomp"] is None:
        del config["linux"]["seccomp"]
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f, indent=1)


if __name__ == "__main__":
    main()
