#!/bin/sh
# A stand-in exec credential plugin for the kubeconfig tests: prints an
# ExecCredential whose token is built from its argument and environment.
[ -n "$KUBERNETES_EXEC_INFO" ] || { echo "KUBERNETES_EXEC_INFO not set" >&2; exit 3; }
[ "$1" = fail ] && { echo "plugin failure on purpose" >&2; exit 1; }
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-%s-%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}\n' "$1" "$SBX_EXEC_SUFFIX"
