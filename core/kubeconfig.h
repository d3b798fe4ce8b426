/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the Kubernetes API is and how to authenticate to it: kubeconfig
 * files read the way kubectl reads them (KUBECONFIG lists merged, first
 * wins; current or named context; files or inline data; relative paths
 * against the kubeconfig's folder), or the in-cluster service account.
 */
#ifndef SBX_KUBECONFIG_H
#define SBX_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct sbx_kube_config {
	char *server;          /* "https://host:port", no trailing slash */
	char *tls_server_name; /* NULL: the server's host */
	char *ca;              /* PEM bundle; NULL: the system's CAs */
	size_t ca_len;
	char *cert, *key;      /* client certificate and key (PEM), or NULL */
	size_t cert_len, key_len;
	char *token;           /* bearer token, or NULL; re-read from token_file */
	char *token_file;      /* NULL, or a file re-read when it changes */
	time_t token_mtime;
	char *namespace;       /* the context's namespace ("default" if unset) */
	char *context;         /* the context used ("in-cluster" for the service account) */
	char *source;          /* the file(s) read, for messages */
	bool insecure;         /* skip TLS verification: only when the caller allowed it */
	char **exec_argv;      /* exec credential plugin: command and arguments, or NULL */
	char **exec_env;       /* "NAME=value" additions for the plugin, NULL-terminated */
	time_t token_expiry;   /* when the plugin's token expires (0: never said) */
} sbx_kube_config;

typedef struct sbx_kubeconfig_options {
	const char *paths;     /* ':'-separated kubeconfig files; NULL: $KUBECONFIG, else ~/.kube/config */
	const char *context;   /* NULL: the current-context */
	bool allow_insecure;   /* permit insecure-skip-tls-verify (refused otherwise) */
	bool allow_exec;       /* permit exec credential plugins (refused otherwise) */
} sbx_kubeconfig_options;

#define SBX_KUBECONFIG_OPTIONS_INIT { NULL, NULL, false, false }

/* Load the configuration for one context. Returns 0 and *out (caller must
 * sbx_kube_config_free), or SBX_EINVAL / SBX_EIO / SBX_ENOTFOUND with a
 * message for people in sbx_error_last() that never holds a secret. */
int sbx_kubeconfig_load(sbx_kube_config **out, const sbx_kubeconfig_options *opts);

/* The in-cluster configuration: the service account files under `root`
 * (NULL: /var/run/secrets/kubernetes.io/serviceaccount) and
 * KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT. The token is re-read
 * when its file changes. Caller must sbx_kube_config_free. */
int sbx_kubeconfig_in_cluster(sbx_kube_config **out, const char *root);

/* Re-read token_file if it changed since it was last read, or run the exec
 * plugin again when its token expired (or `force`: the server refused it).
 * Returns 0, or SBX_EIO when it can no longer be read (the old token is
 * kept). */
int sbx_kube_config_refresh(sbx_kube_config *c, bool force);

/* sbx_kube_config_refresh(c, false). */
int sbx_kube_config_refresh_token(sbx_kube_config *c);

/* Free a configuration, wiping secrets first. NULL-safe. */
void sbx_kube_config_free(sbx_kube_config *c);

#endif
