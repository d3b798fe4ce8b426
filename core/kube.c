// SPDX-License-Identifier: Apache-2.0
/*
 * Kubernetes API client on curl multi: request queue with token bucket and
 * retry scheduling, typed errors from Status objects, a blocking layer,
 * and the list+watch state machine. docs/internals/kube.md has the model.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "kube.h"
#include "kube-private.h"
#include "render.h"
#include "sbx_version.h"

#define WATCH_TIMEOUT_S 290
#define WATCH_QUICK_MS 5000      /* a stream shorter than this that delivered nothing is idle */
#define MAX_COUNTERS 64
#define MAX_IN_FLIGHT 90

struct counter {
	char method[8];
	long status;
	unsigned long count;
};

typedef struct req req;
struct req {
	req *next;
	sbx_kube *k;
	CURL *easy;
	struct curl_slist *headers;
	char *method, *path, *body, *content_type;
	sbx_buf resp;
	long long not_before;     /* ms, monotonic */
	int attempts;
	int too_big;
	bool refresh;             /* the server refused the credentials: renew them */
	sbx_kube_done_fn done;
	void *payload;
	sbx_kube_watch *watch;    /* set for a watch stream */
	bool drop_managed;        /* a watch's list page: sbx_kube_drop_managed_fields */
};

struct sbx_kube {
	CURLM *multi;
	sbx_kube_config *cfg;
	sbx_kube_options o;
	char *user_agent;
	double tokens;
	long long refilled;       /* ms */
	req *pending;             /* waiting for their time or a token */
	req *active;              /* in the multi handle */
	int nactive;
	sbx_kube_watch *watches;
	struct counter counters[MAX_COUNTERS];
	size_t ncounters;
	unsigned long connections;  /* new connections opened */
	unsigned long http2;        /* responses that came over HTTP/2 */
	int warm;                   /* a request finished: the connection is known */
	unsigned long delivered;    /* callbacks run: sbx_kube_run returns after one */
	unsigned seed;
};

enum wstate { W_LIST, W_WATCH, W_WAIT_LIST, W_WAIT_WATCH };

struct sbx_kube_watch {
	sbx_kube_watch *next;
	sbx_kube *k;
	const sbx_kind *kind;
	char *ns, *selector;
	sbx_kube_watch_handlers h;
	void *payload;
	enum wstate state;
	char *rv;                 /* last resourceVersion seen */
	char *cont;               /* list continue token */
	bool listing;             /* between list_begin and list_done */
	bool synced;
	unsigned relists;
	int failures;             /* consecutive failed attempts, for backoff */
	long long wake;           /* ms: when a W_WAIT_* state ends */
	req *stream;              /* the watch request in flight, if any */
	req *list_req;            /* the list request in flight, if any */
	sbx_buf line;             /* partial watch line */
	cJSON *events;            /* complete events waiting to be dispatched */
	int restart;              /* stream asked for: 1 resume, 2 relist */
	long long stream_started; /* ms: when the current stream was started */
	unsigned stream_events;   /* objects it delivered */
	int idle_restarts;        /* streams in a row that ended soon with nothing */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void count(sbx_kube *k, const char *method, long status)
{
	for (size_t i = 0; i < k->ncounters; i++) {
		if (k->counters[i].status == status && strcmp(k->counters[i].method, method) == 0) {
			k->counters[i].count++;
			return;
		}
	}
	if (k->ncounters < MAX_COUNTERS) {
		struct counter *c = &k->counters[k->ncounters++];

		snprintf(c->method, sizeof(c->method), "%s", method);
		c->status = status;
		c->count = 1;
	}
}

unsigned long sbx_kube_request_count(const sbx_kube *k, const char *method, long status)
{
	unsigned long n = 0;

	for (size_t i = 0; i < k->ncounters; i++)
		if ((!method || strcmp(k->counters[i].method, method) == 0) &&
		    (status < 0 || k->counters[i].status == status))
			n += k->counters[i].count;
	return n;
}

bool sbx_kube_request_counter(const sbx_kube *k, size_t i, const char **method, long *status,
			      unsigned long *count)
{
	if (i >= k->ncounters)
		return false;
	*method = k->counters[i].method;
	*status = k->counters[i].status;
	*count = k->counters[i].count;
	return true;
}

void sbx_kube_transport_stats(const sbx_kube *k, unsigned long *connections, unsigned long *http2)
{
	*connections = k->connections;
	*http2 = k->http2;
}

int sbx_kube_new(sbx_kube **out, sbx_kube_config *cfg, const sbx_kube_options *opts)
{
	sbx_kube_options defaults = SBX_KUBE_OPTIONS_INIT;
	sbx_kube *k;
	sbx_buf ua = SBX_BUF_INIT;

	if (!cfg || !cfg->server)
		return sbx_error_set(SBX_EINVAL, "no API server configured");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	k = calloc(1, sizeof(*k));
	if (!k)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	k->o = opts ? *opts : defaults;
	if (k->o.qps <= 0)
		k->o.qps = defaults.qps;
	if (k->o.burst <= 0)
		k->o.burst = defaults.burst;
	k->cfg = cfg;
	k->tokens = k->o.burst;
	k->refilled = now_ms();
	k->seed = (unsigned)time(NULL) ^ (unsigned)(size_t)k;
	sbx_buf_puts(&ua, k->o.user_agent ? k->o.user_agent : "sandbox/" SBX_VERSION);
	k->user_agent = sbx_buf_take(&ua, NULL);
	k->multi = curl_multi_init();
	if (!k->multi || !k->user_agent) {
		sbx_kube_free(k);
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	curl_multi_setopt(k->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	*out = k;
	return 0;
}

static void req_free(req *r)
{
	if (!r)
		return;
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->method);
	free(r->path);
	free(r->body);
	free(r->content_type);
	sbx_buf_dispose(&r->resp);
	free(r);
}

static int unlink_req(req **list, req *r)
{
	for (req **p = list; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			r->next = NULL;
			return 1;
		}
	}
	return 0;
}

/* Take r off the active list (it has left the multi handle). */
static void deactivate(sbx_kube *k, req *r)
{
	k->nactive -= unlink_req(&k->active, r);
}

/* ---- one HTTP exchange ---------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *user);

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
	req *r = user;

	if (r->watch)
		r->k->warm = 1; /* a stream never completes: its headers will do */
	return size * n;
}

void sbx_kube_tls_setup(void *easy, const sbx_kube_config *c)
{
	CURL *e = easy;

	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
	if (c->ca) {
		struct curl_blob blob = { c->ca, c->ca_len, CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->cert) {
		struct curl_blob cert = { c->cert, c->cert_len, CURL_BLOB_COPY };
		struct curl_blob key = { c->key, c->key_len, CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
}

static int prepare(req *r)
{
	sbx_kube *k = r->k;
	sbx_kube_config *c = k->cfg;
	sbx_buf url = SBX_BUF_INIT, auth = SBX_BUF_INIT, ctype = SBX_BUF_INIT;
	CURL *e;

	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	r->headers = NULL;
	sbx_buf_clear(&r->resp);
	r->too_big = 0;
	e = r->easy = curl_easy_init();
	if (!e)
		return SBX_ENOMEM;
	/* a rotated token file is picked up before each attempt; a failed
	 * re-read keeps the old token */
	if (sbx_kube_config_refresh(c, r->refresh) < 0)
		sbx_error_clear();
	r->refresh = false;
	sbx_buf_printf(&url, "%s%s", c->server, r->path);
	curl_easy_setopt(e, CURLOPT_URL, sbx_buf_cstr(&url));
	sbx_buf_dispose(&url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, k->user_agent);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 r->watch ? (WATCH_TIMEOUT_S + 30) * 1000L : k->o.timeout_ms);
	sbx_kube_tls_setup(e, c);
	r->headers = curl_slist_append(r->headers, "Accept: application/json");
	if (c->token) {
		sbx_buf_printf(&auth, "Authorization: Bearer %s", c->token);
		r->headers = curl_slist_append(r->headers, sbx_buf_cstr(&auth));
		explicit_bzero(auth.ptr, auth.len);
		sbx_buf_dispose(&auth);
	}
	if (r->body) {
		sbx_buf_printf(&ctype, "Content-Type: %s",
			       r->content_type ? r->content_type : "application/json");
		r->headers = curl_slist_append(r->headers, sbx_buf_cstr(&ctype));
		sbx_buf_dispose(&ctype);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	return r->headers ? 0 : SBX_ENOMEM;
}

/* Take a token from the bucket, or say how long until one is there. */
static long long token_wait(sbx_kube *k, long long now)
{
	k->tokens += (double)(now - k->refilled) * k->o.qps / 1000.0;
	if (k->tokens > k->o.burst)
		k->tokens = k->o.burst;
	k->refilled = now;
	if (k->tokens >= 1.0) {
		k->tokens -= 1.0;
		return 0;
	}
	return (long long)((1.0 - k->tokens) * 1000.0 / k->o.qps) + 1;
}

/* Until the first connection is known, one request at a time; then at
 * most as many as one HTTP/2 connection carries: past curl's 100 streams
 * it opens more connections. */
static bool can_start(const sbx_kube *k)
{
	return (k->warm || !k->active) && k->nactive < MAX_IN_FLIGHT;
}

static void start_due(sbx_kube *k)
{
	long long now = now_ms();
	req **p = &k->pending;

	while (*p) {
		req *r = *p;
		long long wait;

		if (!can_start(k))
			return;
		if (r->not_before > now) {
			p = &r->next;
			continue;
		}
		wait = token_wait(k, now);
		if (wait > 0) {
			r->not_before = now + wait;
			p = &r->next;
			continue;
		}
		*p = r->next;
		r->attempts++;
		if (prepare(r) < 0 || curl_multi_add_handle(k->multi, r->easy) != CURLM_OK) {
			/* could not even start: finish as a transport failure */
			r->next = k->pending;
			k->pending = r;
			r->not_before = now + 1000;
			return;
		}
		r->next = k->active;
		k->active = r;
		k->nactive++;
	}
}

static req *new_req(sbx_kube *k, const sbx_kube_req *q)
{
	req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->k = k;
	r->method = strdup(q->method);
	r->path = strdup(q->path);
	r->body = q->body ? strdup(q->body) : NULL;
	r->content_type = q->content_type ? strdup(q->content_type) : NULL;
	sbx_buf_init(&r->resp, k->o.max_body);
	if (!r->method || !r->path || (q->body && !r->body) || (q->content_type && !r->content_type)) {
		req_free(r);
		return NULL;
	}
	return r;
}

int sbx_kube_start(sbx_kube *k, const sbx_kube_req *q, sbx_kube_done_fn done, void *payload)
{
	req *r = new_req(k, q);

	if (!r)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	r->done = done;
	r->payload = payload;
	r->next = k->pending;
	k->pending = r;
	return 0;
}

static size_t on_watch_data(req *r, const char *data, size_t n);

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	req *r = user;

	if (r->watch)
		return on_watch_data(r, data, size * n);
	if (sbx_buf_put(&r->resp, data, size * n) < 0) {
		r->too_big = 1;
		return 0;
	}
	return size * n;
}

static int err_from(const char *reason, long status)
{
	static const struct { const char *reason; int err; } map[] = {
		{ "NotFound", SBX_ENOTFOUND }, { "AlreadyExists", SBX_EEXIST },
		{ "Conflict", SBX_ECONFLICT }, { "Gone", SBX_EGONE }, { "Expired", SBX_EGONE },
		{ "Forbidden", SBX_EFORBIDDEN }, { "Unauthorized", SBX_EUNAUTHORIZED },
		{ "Invalid", SBX_EINVALIDOBJ }, { "BadRequest", SBX_EINVALIDOBJ },
		{ "TooManyRequests", SBX_ETOOMANY }, { "Timeout", SBX_ETIMEOUT },
		{ "ServerTimeout", SBX_ETIMEOUT }, { "InternalError", SBX_ESERVER },
		{ "ServiceUnavailable", SBX_ESERVER }, { "MethodNotAllowed", SBX_EINVALIDOBJ },
		{ "UnsupportedMediaType", SBX_EINVALIDOBJ }, { "NotAcceptable", SBX_EINVALIDOBJ },
		{ "RequestEntityTooLarge", SBX_EINVALIDOBJ },
	};

	for (size_t i = 0; reason && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(reason, map[i].reason) == 0)
			return map[i].err;
	switch (status) {
	case 400: case 422: return SBX_EINVALIDOBJ;
	case 401: return SBX_EUNAUTHORIZED;
	case 403: return SBX_EFORBIDDEN;
	case 404: return SBX_ENOTFOUND;
	case 409: return SBX_ECONFLICT;
	case 410: return SBX_EGONE;
	case 429: return SBX_ETOOMANY;
	case 504: return SBX_ETIMEOUT;
	}
	return status >= 500 ? SBX_ESERVER : SBX_EINVALIDOBJ;
}

/* Fill err, reason and message from a Status body (or the bare code). */
static void status_error(sbx_kube_resp *out, long status)
{
	const cJSON *b = out->body, *reason = cJSON_GetObjectItemCaseSensitive(b, "reason");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(b, "message");
	const cJSON *causes = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(b, "details"), "causes");
	sbx_buf m = SBX_BUF_INIT;
	const cJSON *c;

	if (cJSON_IsString(reason))
		snprintf(out->reason, sizeof(out->reason), "%s", reason->valuestring);
	out->err = err_from(out->reason[0] ? out->reason : NULL, status);
	if (cJSON_IsString(msg) && *msg->valuestring)
		sbx_buf_puts(&m, msg->valuestring);
	else /* no message, or an empty one: say at least what came back */
		sbx_buf_printf(&m, "the API server answered HTTP %ld", status);
	/* field causes, when the message does not already carry them */
	cJSON_ArrayForEach(c, causes) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, "field");
		const cJSON *cm = cJSON_GetObjectItemCaseSensitive(c, "message");

		if (cJSON_IsString(cm) && !strstr(sbx_buf_cstr(&m), cm->valuestring))
			sbx_buf_printf(&m, "; %s: %s", cJSON_IsString(f) ? f->valuestring : "",
				       cm->valuestring);
	}
	snprintf(out->message, sizeof(out->message), "%s", sbx_buf_cstr(&m));
	sbx_buf_dispose(&m);
}

/* ---- managedFields, blanked before a list page or an event is parsed ---- */

/* Server-side apply's field ownership is about half of every object the
 * server sends (every field of the spec once more), and nothing the
 * watches feed reads it: blanking it in the text saves parsing it into a
 * tree, freeing it, and the heap both take. The walk follows the JSON
 * grammar only as far as the path to it; anything else is skipped whole
 * (brackets counted, strings skipped). */

#define BAD SIZE_MAX   /* not JSON: stop, leaving the rest as it is */

enum level { TOP, ITEM, META };   /* a page or event, a listed object, its metadata */

/* Space between tokens as the parser takes it: any control byte too. */
static bool is_space(char c)
{
	return (unsigned char)c <= ' ';
}

static size_t skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && is_space(s[i]))
		i++;
	return i;
}

/* Past the closing quote of the string whose opening quote is at i. */
static size_t skip_string(const char *s, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return BAD;
}

/* Past the value at i. */
static size_t skip_value(const char *s, size_t i, size_t n)
{
	size_t depth = 0;

	if (i >= n)
		return BAD;
	if (s[i] == '"')
		return skip_string(s, i, n);
	if (s[i] != '{' && s[i] != '[') {   /* a number, true, false or null */
		while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_space(s[i]))
			i++;
		return i;
	}
	for (; i < n; i++) {
		if (s[i] == '"') {
			if ((i = skip_string(s, i, n)) == BAD)
				return BAD;
			i--;
		} else if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if ((s[i] == '}' || s[i] == ']') && --depth == 0) {
			return i + 1;
		}
	}
	return BAD;
}

/* Whether the key from k (its opening quote) to end (past its closing
 * one) is `want`, spelled without escapes. */
static bool key_is(const char *s, size_t k, size_t end, const char *want)
{
	size_t len = strlen(want);

	return end - k == len + 2 && !memcmp(s + k + 1, want, len);
}

static size_t walk_object(char *s, size_t i, size_t n, enum level level);

/* Past the array at i ('['), each object in it walked as a listed object. */
static size_t walk_items(char *s, size_t i, size_t n)
{
	i = skip_ws(s, i + 1, n);
	if (i < n && s[i] == ']')
		return i + 1;
	for (;;) {
		i = i < n && s[i] == '{' ? walk_object(s, i, n, ITEM) : skip_value(s, i, n);
		if (i == BAD || (i = skip_ws(s, i, n)) >= n || (s[i] != ',' && s[i] != ']'))
			return BAD;
		if (s[i] == ']')
			return i + 1;
		i = skip_ws(s, i + 1, n);
	}
}

/* Past the object at i ('{'), blanking metadata.managedFields of a listed
 * object (an element of the top level's items, or its object). */
static size_t walk_object(char *s, size_t i, size_t n, enum level level)
{
	size_t comma = BAD;   /* the comma before this member, if any is left */

	i = skip_ws(s, i + 1, n);
	if (i < n && s[i] == '}')
		return i + 1;
	for (;;) {
		size_t k = i, kend, v, end;
		bool drop;

		if (i >= n || s[i] != '"' || (kend = skip_string(s, i, n)) == BAD ||
		    (i = skip_ws(s, kend, n)) >= n || s[i] != ':')
			return BAD;
		v = skip_ws(s, i + 1, n);
		drop = level == META && key_is(s, k, kend, "managedFields");
		if (level == TOP && v < n && s[v] == '[' && key_is(s, k, kend, "items"))
			end = walk_items(s, v, n);
		else if (level == TOP && v < n && s[v] == '{' && key_is(s, k, kend, "object"))
			end = walk_object(s, v, n, ITEM);
		else if (level == ITEM && v < n && s[v] == '{' && key_is(s, k, kend, "metadata"))
			end = walk_object(s, v, n, META);
		else
			end = skip_value(s, v, n);
		if (end == BAD || (i = skip_ws(s, end, n)) >= n || (s[i] != ',' && s[i] != '}'))
			return BAD;
		if (drop) {   /* the member and one comma next to it: still JSON */
			size_t from = s[i] == ',' || comma == BAD ? k : comma, to = s[i] == ',' ? i + 1 : end;

			memset(s + from, ' ', to - from);
		} else if (s[i] == ',') {
			comma = i;
		}
		if (s[i] == '}')
			return i + 1;
		i = skip_ws(s, i + 1, n);
	}
}

void sbx_kube_drop_managed_fields(char *json, size_t len)
{
	size_t i = skip_ws(json, 0, len);

	if (i < len && json[i] == '{')
		walk_object(json, i, len, TOP);
}

#undef BAD

void sbx_kube_read_response(sbx_kube_resp *out, long status, const char *body, size_t len)
{
	out->status = status;
	out->raw = body;
	out->raw_len = len;
	out->body = len ? cJSON_ParseWithLength(body, len) : NULL;
	if (status >= 300)
		status_error(out, status);
}

static long long backoff(sbx_kube *k, int attempt)
{
	long long d = k->o.backoff_base_ms;

	for (int i = 1; i < attempt && d < k->o.backoff_cap_ms; i++)
		d *= 2;
	if (d > k->o.backoff_cap_ms)
		d = k->o.backoff_cap_ms;
	/* jitter: between half and all of the delay */
	return d / 2 + (long long)(rand_r(&k->seed) % (unsigned)(d / 2 + 1));
}

/* After a finished exchange: retry (returns 1, re-queued) or not (0). */
static int maybe_retry(req *r, CURLcode cc, long status, int refreshable)
{
	sbx_kube *k = r->k;
	curl_off_t after = -1;
	long long delay;
	int post = strcmp(r->method, "POST") == 0;

	if (r->attempts > k->o.max_retries)
		return 0;
	if (cc != CURLE_OK) {
		if (r->too_big || cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
		    cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_URL_MALFORMAT ||
		    cc == CURLE_UNSUPPORTED_PROTOCOL)
			return 0;
		if (post && cc != CURLE_COULDNT_CONNECT && cc != CURLE_COULDNT_RESOLVE_HOST)
			return 0; /* it may have been created: let the caller look */
	} else if (status == 401 && refreshable && r->attempts == 1) {
		delay = 0; /* the token may have rotated or expired: renew, try once more */
		r->refresh = true;
		goto requeue;
	} else if (status == 429 || status == 503) {
		curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &after);
	} else if ((status == 502 || status == 504) && !post) {
		; /* a proxy or the apiserver's own timeout: transient */
	} else if (status >= 500) {
		/* other server errors are retried only when the server asks */
		curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &after);
		if (after <= 0 || post)
			return 0;
	} else {
		return 0;
	}
	delay = after > 0 ? (long long)after * 1000 : backoff(k, r->attempts);
	if (delay > k->o.backoff_cap_ms)
		delay = k->o.backoff_cap_ms;
requeue:
	curl_multi_remove_handle(k->multi, r->easy);
	deactivate(k, r);
	r->not_before = now_ms() + delay;
	r->next = k->pending;
	k->pending = r;
	return 1;
}

static void watch_stream_ended(sbx_kube_watch *w, CURLcode cc, long status, sbx_kube_resp *resp);

static void finish(req *r, CURLcode cc)
{
	sbx_kube *k = r->k;
	sbx_kube_resp resp;
	long status = 0;

	long connects = 0, version = 0;

	memset(&resp, 0, sizeof(resp));
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &connects);
	curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &version);
	k->connections += (unsigned long)connects;
	k->warm = 1;
	k->http2 += version == CURL_HTTP_VERSION_2_0;
	count(k, r->method, cc == CURLE_OK ? status : 0);
	if (!r->watch && maybe_retry(r, cc, status, k->cfg->token_file || k->cfg->exec_argv))
		return;
	curl_multi_remove_handle(k->multi, r->easy);
	deactivate(k, r);
	resp.attempts = r->attempts;
	if (r->drop_managed && cc == CURLE_OK && status < 300 && r->resp.len)
		sbx_kube_drop_managed_fields(r->resp.ptr, r->resp.len);
	sbx_kube_read_response(&resp, cc == CURLE_OK ? status : 0,
			       r->resp.len ? sbx_buf_cstr(&r->resp) : "", r->resp.len);
	if (cc != CURLE_OK) {
		resp.err = cc == CURLE_OPERATION_TIMEDOUT ? SBX_ETIMEOUT : SBX_ETRANSPORT;
		snprintf(resp.message, sizeof(resp.message), "%s",
			 r->too_big ? "the response is larger than the client's limit"
				    : curl_easy_strerror(cc));
	}
	if (r->watch)
		watch_stream_ended(r->watch, cc, status, &resp);
	else if (r->done) {
		r->done(&resp, r->payload);
		k->delivered++;
	}
	cJSON_Delete(resp.body);
	req_free(r);
}

static void dispatch_watches(sbx_kube *k);
static void tick_watches(sbx_kube *k, long long now);

int sbx_kube_run(sbx_kube *k, long timeout_ms)
{
	return sbx_kube_run_fds(k, timeout_ms, NULL, 0);
}

int sbx_kube_run_fds(sbx_kube *k, long timeout_ms, struct pollfd *fds, size_t nfds)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	unsigned long delivered = k->delivered;
	struct curl_waitfd wfds[64];

	if (nfds > 64)
		nfds = 64;
	for (size_t i = 0; i < nfds; i++) {
		wfds[i].fd = fds[i].fd;
		wfds[i].events = (short)(((fds[i].events & POLLIN) ? CURL_WAIT_POLLIN : 0) |
					 ((fds[i].events & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
		fds[i].revents = 0;
	}
	for (;;) {
		int running = 0, left;
		long long now, wait;
		CURLMsg *m;

		tick_watches(k, now_ms());
		start_due(k);
		if (curl_multi_perform(k->multi, &running) != CURLM_OK)
			return sbx_error_set(SBX_ETRANSPORT, "curl multi failed");
		while ((m = curl_multi_info_read(k->multi, &left))) {
			req *r = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			finish(r, m->data.result);
		}
		dispatch_watches(k);
		now = now_ms();
		if (!k->active && !k->pending && !k->watches && !nfds)
			return 0;
		if (now >= deadline || k->delivered != delivered)
			break; /* a callback ran: what it changed may need the caller */
		wait = deadline - now;
		/* a queued request is due only when there is room for it; until
		 * then the one that finishes and makes room wakes the poll */
		for (req *r = can_start(k) ? k->pending : NULL; r; r = r->next)
			if (r->not_before - now < wait)
				wait = r->not_before > now ? r->not_before - now : 0;
		for (sbx_kube_watch *w = k->watches; w; w = w->next)
			if ((w->state == W_WAIT_LIST || w->state == W_WAIT_WATCH) && w->wake - now < wait)
				wait = w->wake > now ? w->wake - now : 0;
		if (wait > 0) {
			int ready = 0;

			for (size_t i = 0; i < nfds; i++)
				wfds[i].revents = 0;
			curl_multi_poll(k->multi, nfds ? wfds : NULL, (unsigned)nfds,
					(int)(wait > 1000 ? 1000 : wait), NULL);
			for (size_t i = 0; i < nfds; i++) {
				fds[i].revents = (short)(((wfds[i].revents & CURL_WAIT_POLLIN) ? POLLIN : 0) |
							 ((wfds[i].revents & CURL_WAIT_POLLOUT) ? POLLOUT : 0));
				ready |= fds[i].revents != 0;
			}
			if (ready)
				break; /* the caller's descriptors need it */
		}
	}
	{
		int n = 0;

		for (req *r = k->active; r; r = r->next)
			n++;
		for (req *r = k->pending; r; r = r->next)
			n++;
		for (sbx_kube_watch *w = k->watches; w; w = w->next)
			n++;
		return n;
	}
}

/* ---- paths ----------------------------------------------------------- */

int sbx_kube_path(sbx_buf *out, const sbx_kind *kind, const char *ns, const char *name,
		  const char *subresource)
{
	if (strchr(kind->api_version, '/'))
		sbx_buf_printf(out, "/apis/%s", kind->api_version);
	else
		sbx_buf_printf(out, "/api/%s", kind->api_version);
	if (kind->namespaced && ns && *ns)
		sbx_buf_printf(out, "/namespaces/%s", ns);
	sbx_buf_printf(out, "/%s", kind->resource);
	if (name)
		sbx_buf_printf(out, "/%s", name);
	if (subresource)
		sbx_buf_printf(out, "/%s", subresource);
	return out->failed ? SBX_ENOMEM : 0;
}

static void append_query(sbx_buf *out, const char *key, const char *value)
{
	char *esc = curl_easy_escape(NULL, value, 0);

	sbx_buf_printf(out, "%c%s=%s", strchr(sbx_buf_cstr(out), '?') ? '&' : '?', key,
		       esc ? esc : "");
	curl_free(esc);
}

/* ---- blocking layer -------------------------------------------------- */

struct sync {
	int done;
	sbx_kube_resp resp;
};

static void sync_done(sbx_kube_resp *resp, void *payload)
{
	struct sync *s = payload;

	s->resp = *resp;
	s->resp.raw = NULL;   /* borrowed for the call only */
	s->resp.raw_len = 0;
	resp->body = NULL;
	s->done = 1;
}

/* Run one request to completion. *out gets the body on success. */
static int call(sbx_kube *k, const char *method, const char *path, const char *body,
		const char *ctype, cJSON **out, const char *what)
{
	sbx_kube_req q = { method, path, body, ctype };
	struct sync s;
	int r;

	memset(&s, 0, sizeof(s));
	sbx_error_clear(); /* each blocking call reports its own failure */
	r = sbx_kube_start(k, &q, sync_done, &s);
	while (r == 0 && !s.done)
		r = sbx_kube_run(k, 1000) < 0 ? SBX_ETRANSPORT : 0;
	if (r < 0)
		return r;
	if (s.resp.err) {
		cJSON_Delete(s.resp.body);
		return sbx_error_set(s.resp.err, "%s: %s", what, s.resp.message);
	}
	if (out)
		*out = s.resp.body;
	else
		cJSON_Delete(s.resp.body);
	return 0;
}

static const char *meta_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(obj, "metadata"), key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const sbx_kind *kind_of(const cJSON *obj)
{
	const cJSON *av = cJSON_GetObjectItemCaseSensitive(obj, "apiVersion");
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");

	if (!cJSON_IsString(av) || !cJSON_IsString(kind))
		return NULL;
	return sbx_kind_find(av->valuestring, kind->valuestring);
}

static void describe(sbx_buf *b, const char *verb, const sbx_kind *kind, const char *ns,
		     const char *name)
{
	if (!name)
		sbx_buf_printf(b, "%s %s in %s%s%s", verb, kind->resource, ns ? "'" : "",
			       ns ? ns : "all namespaces", ns ? "'" : "");
	else if (ns && kind->namespaced)
		sbx_buf_printf(b, "%s %s '%s/%s'", verb, kind->kind, ns, name);
	else
		sbx_buf_printf(b, "%s %s '%s'", verb, kind->kind, name);
}

int sbx_kube_get(sbx_kube *k, cJSON **out, const sbx_kind *kind, const char *ns, const char *name)
{
	sbx_buf path = SBX_BUF_INIT, what = SBX_BUF_INIT;
	int r;

	sbx_kube_path(&path, kind, ns, name, NULL);
	describe(&what, "get", kind, ns, name);
	r = path.failed ? sbx_error_set(SBX_ENOMEM, "out of memory") :
	    call(k, "GET", sbx_buf_cstr(&path), NULL, NULL, out, sbx_buf_cstr(&what));
	sbx_buf_dispose(&path);
	sbx_buf_dispose(&what);
	return r;
}

/* A decimal number at the start of s, then nothing or a "+"; -1 otherwise. */
static int version_number(const cJSON *s)
{
	const char *p;
	int v = 0;

	if (!cJSON_IsString(s) || !isdigit((unsigned char)s->valuestring[0]))
		return -1;
	for (p = s->valuestring; isdigit((unsigned char)*p) && v < 100000; p++)
		v = v * 10 + (*p - '0');
	return (*p == '\0' || !strcmp(p, "+")) ? v : -1;
}

bool sbx_kube_version_parse(const cJSON *v, int *major, int *minor, char *git, size_t n)
{
	const cJSON *g = cJSON_GetObjectItem(v, "gitVersion");

	*major = version_number(cJSON_GetObjectItem(v, "major"));
	*minor = version_number(cJSON_GetObjectItem(v, "minor"));
	if (git && n)
		snprintf(git, n, "%s", cJSON_IsString(g) ? g->valuestring : "");
	return *major >= 0 && *minor >= 0;
}

int sbx_kube_server_version(sbx_kube *k, int *major, int *minor, char *git, size_t n)
{
	cJSON *v = NULL;
	int r = call(k, "GET", "/version", NULL, NULL, &v, "get the server version");

	if (r == 0 && !sbx_kube_version_parse(v, major, minor, git, n))
		r = sbx_error_set(SBX_EINVALIDOBJ, "the API server's /version names no major and minor version");
	cJSON_Delete(v);
	return r;
}

/* *dst = a copy of s (NULL: none). False when the copy ran out of memory
 * (*dst is then NULL). */
static bool set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? strdup(s) : NULL;
	return !s || *dst;
}

int sbx_kube_list(sbx_kube *k, cJSON **items_out, char **rv_out, const sbx_kind *kind,
		  const char *ns, const char *selector, int limit)
{
	sbx_buf path = SBX_BUF_INIT, what = SBX_BUF_INIT, lim = SBX_BUF_INIT;
	cJSON *items = cJSON_CreateArray(), *page = NULL;
	char *cont = NULL, *rv = NULL;
	int r = 0, restarts = 0;

	if (!items)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	describe(&what, "list", kind, ns, NULL);
	sbx_buf_printf(&lim, "%d", limit > 0 ? limit : 500);
	for (;;) {
		const cJSON *meta, *list, *c;

		sbx_buf_clear(&path);
		sbx_kube_path(&path, kind, ns, NULL, NULL);
		append_query(&path, "limit", sbx_buf_cstr(&lim));
		if (selector)
			append_query(&path, "labelSelector", selector);
		if (cont)
			append_query(&path, "continue", cont);
		r = path.failed || lim.failed ? sbx_error_set(SBX_ENOMEM, "out of memory") :
		    call(k, "GET", sbx_buf_cstr(&path), NULL, NULL, &page, sbx_buf_cstr(&what));
		if (r == SBX_EGONE && cont && restarts++ < 3) {
			/* the continue token expired: start the list again */
			sbx_error_clear();
			free(cont);
			cont = NULL;
			cJSON_Delete(items);
			if (!(items = cJSON_CreateArray())) {
				r = sbx_error_set(SBX_ENOMEM, "out of memory");
				break;
			}
			continue;
		}
		if (r < 0)
			break;
		list = cJSON_GetObjectItemCaseSensitive(page, "items");
		if (!cJSON_IsArray(list) && !cJSON_IsNull(list)) {
			/* never taken for an empty list (as a watch's list page) */
			r = sbx_error_set(SBX_ETRANSPORT, "%s: the answer is not a list",
					  sbx_buf_cstr(&what));
			break;
		}
		while (cJSON_IsArray(list) && list->child)
			cJSON_AddItemToArray(items, cJSON_DetachItemViaPointer((cJSON *)list, list->child));
		meta = cJSON_GetObjectItemCaseSensitive(page, "metadata");
		c = cJSON_GetObjectItemCaseSensitive(meta, "continue");
		if (!set_str(&rv, cJSON_IsString(cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion")) ?
			     cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion")->valuestring : NULL) ||
		    !set_str(&cont, cJSON_IsString(c) && *c->valuestring ? c->valuestring : NULL)) {
			/* a lost token would end the list after this page */
			r = sbx_error_set(SBX_ENOMEM, "out of memory");
			break;
		}
		cJSON_Delete(page);
		page = NULL;
		if (!cont)
			break;
	}
	cJSON_Delete(page);
	sbx_buf_dispose(&path);
	sbx_buf_dispose(&what);
	sbx_buf_dispose(&lim);
	free(cont);
	if (r == 0) {
		*items_out = items;
		if (rv_out)
			*rv_out = rv;
		else
			free(rv);
	} else {
		cJSON_Delete(items);
		free(rv);
	}
	return r;
}

/* A request built once, then sent blocking or not. */
struct built {
	const char *method;
	const char *ctype;
	sbx_buf path;
	sbx_buf what;
	char *body;
};

static void built_init(struct built *b)
{
	memset(b, 0, sizeof(*b));
	sbx_buf_init(&b->path, SBX_BUF_DEFAULT_MAX);
	sbx_buf_init(&b->what, SBX_BUF_DEFAULT_MAX);
}

static void built_dispose(struct built *b)
{
	sbx_buf_dispose(&b->path);
	sbx_buf_dispose(&b->what);
	free(b->body);
}

static int build_create(struct built *b, const cJSON *obj)
{
	const sbx_kind *kind = kind_of(obj);

	built_init(b);
	if (!kind)
		return sbx_error_set(SBX_EUSAGE, "create: unknown kind");
	b->method = "POST";
	b->body = cJSON_PrintUnformatted(obj);
	sbx_kube_path(&b->path, kind, meta_str(obj, "namespace"), NULL, NULL);
	describe(&b->what, "create", kind, meta_str(obj, "namespace"), meta_str(obj, "name"));
	return b->body && !b->path.failed ? 0 : sbx_error_set(SBX_ENOMEM, "out of memory");
}

static int build_apply(struct built *b, const cJSON *obj, const sbx_kube_apply_options *o)
{
	sbx_kube_apply_options defaults = SBX_KUBE_APPLY_OPTIONS_INIT;
	const sbx_kind *kind = kind_of(obj);
	const char *name = meta_str(obj, "name");

	built_init(b);
	if (!o)
		o = &defaults;
	if (!kind || !name)
		return sbx_error_set(SBX_EUSAGE, "apply: the object needs a known kind and a name");
	b->method = "PATCH";
	b->ctype = "application/apply-patch+yaml";
	b->body = cJSON_PrintUnformatted(obj);
	sbx_kube_path(&b->path, kind, meta_str(obj, "namespace"), name, o->subresource);
	append_query(&b->path, "fieldManager", o->field_manager ? o->field_manager : SBX_MANAGER);
	append_query(&b->path, "fieldValidation", "Strict");
	if (o->force)
		append_query(&b->path, "force", "true");
	if (o->dry_run)
		append_query(&b->path, "dryRun", "All");
	describe(&b->what, "apply", kind, meta_str(obj, "namespace"), name);
	return b->body && !b->path.failed ? 0 : sbx_error_set(SBX_ENOMEM, "out of memory");
}

static int build_delete(struct built *b, const sbx_kind *kind, const char *ns, const char *name,
			const sbx_kube_delete_options *o)
{
	cJSON *opts = cJSON_CreateObject(), *pre;

	built_init(b);
	if (!opts)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	cJSON_AddStringToObject(opts, "apiVersion", "v1");
	cJSON_AddStringToObject(opts, "kind", "DeleteOptions");
	cJSON_AddStringToObject(opts, "propagationPolicy",
				o && o->propagation ? o->propagation : "Background");
	if (o && (o->uid || o->resource_version)) {
		pre = cJSON_AddObjectToObject(opts, "preconditions");
		if (o->uid)
			cJSON_AddStringToObject(pre, "uid", o->uid);
		if (o->resource_version)
			cJSON_AddStringToObject(pre, "resourceVersion", o->resource_version);
	}
	b->method = "DELETE";
	b->body = cJSON_PrintUnformatted(opts);
	cJSON_Delete(opts);
	sbx_kube_path(&b->path, kind, ns, name, NULL);
	describe(&b->what, "delete", kind, ns, name);
	return b->body && !b->path.failed ? 0 : sbx_error_set(SBX_ENOMEM, "out of memory");
}

static int build_patch(struct built *b, const sbx_kind *kind, const char *ns, const char *name,
		       const char *subresource, const char *merge_patch)
{
	built_init(b);
	b->method = "PATCH";
	b->ctype = "application/merge-patch+json";
	b->body = strdup(merge_patch);
	sbx_kube_path(&b->path, kind, ns, name, subresource);
	describe(&b->what, "patch", kind, ns, name);
	return b->body && !b->path.failed ? 0 : sbx_error_set(SBX_ENOMEM, "out of memory");
}

static int run_built(sbx_kube *k, struct built *b, int r, cJSON **out)
{
	if (r == 0)
		r = call(k, b->method, sbx_buf_cstr(&b->path), b->body, b->ctype, out, sbx_buf_cstr(&b->what));
	built_dispose(b);
	return r;
}

static int start_built(sbx_kube *k, struct built *b, int r, sbx_kube_done_fn done, void *payload)
{
	sbx_kube_req q = { b->method, sbx_buf_cstr(&b->path), b->body, b->ctype };

	if (r == 0)
		r = sbx_kube_start(k, &q, done, payload);
	built_dispose(b);
	return r;
}

int sbx_kube_create(sbx_kube *k, cJSON **out, const cJSON *obj)
{
	struct built b;

	return run_built(k, &b, build_create(&b, obj), out);
}

int sbx_kube_apply(sbx_kube *k, cJSON **out, const cJSON *obj, const sbx_kube_apply_options *o)
{
	struct built b;

	return run_built(k, &b, build_apply(&b, obj, o), out);
}

int sbx_kube_delete(sbx_kube *k, const sbx_kind *kind, const char *ns, const char *name,
		    const sbx_kube_delete_options *o)
{
	struct built b;

	return run_built(k, &b, build_delete(&b, kind, ns, name, o), NULL);
}

int sbx_kube_patch(sbx_kube *k, cJSON **out, const sbx_kind *kind, const char *ns, const char *name,
		   const char *subresource, const char *merge_patch)
{
	struct built b;

	return run_built(k, &b, build_patch(&b, kind, ns, name, subresource, merge_patch), out);
}

int sbx_kube_start_create(sbx_kube *k, const cJSON *obj, sbx_kube_done_fn done, void *payload)
{
	struct built b;

	return start_built(k, &b, build_create(&b, obj), done, payload);
}

int sbx_kube_start_apply(sbx_kube *k, const cJSON *obj, const sbx_kube_apply_options *o,
			 sbx_kube_done_fn done, void *payload)
{
	struct built b;

	return start_built(k, &b, build_apply(&b, obj, o), done, payload);
}

int sbx_kube_start_delete(sbx_kube *k, const sbx_kind *kind, const char *ns, const char *name,
			  const sbx_kube_delete_options *o, sbx_kube_done_fn done, void *payload)
{
	struct built b;

	return start_built(k, &b, build_delete(&b, kind, ns, name, o), done, payload);
}

int sbx_kube_start_patch(sbx_kube *k, const sbx_kind *kind, const char *ns, const char *name,
			 const char *subresource, const char *merge_patch, sbx_kube_done_fn done,
			 void *payload)
{
	struct built b;

	return start_built(k, &b, build_patch(&b, kind, ns, name, subresource, merge_patch), done,
			   payload);
}

int sbx_kube_update_status(sbx_kube *k, cJSON **out, const cJSON *obj)
{
	const sbx_kind *kind = kind_of(obj);
	sbx_buf path = SBX_BUF_INIT, what = SBX_BUF_INIT;
	const char *name = meta_str(obj, "name");
	char *body;
	int r;

	if (!kind || !name)
		return sbx_error_set(SBX_EUSAGE, "update status: the object needs a known kind and a name");
	body = cJSON_PrintUnformatted(obj);
	sbx_kube_path(&path, kind, meta_str(obj, "namespace"), name, "status");
	describe(&what, "update status of", kind, meta_str(obj, "namespace"), name);
	r = body && !path.failed ? call(k, "PUT", sbx_buf_cstr(&path), body, NULL, out,
					sbx_buf_cstr(&what)) : sbx_error_set(SBX_ENOMEM, "out of memory");
	free(body);
	sbx_buf_dispose(&path);
	sbx_buf_dispose(&what);
	return r;
}

/* A core/v1 Event about `about`; cluster-scoped objects get theirs in
 * "default". Caller must cJSON_Delete; NULL on out of memory. */
static cJSON *event_object(const cJSON *about, const char *type, const char *reason,
			   const char *message)
{
	const char *ns = meta_str(about, "namespace"), *name = meta_str(about, "name");
	cJSON *ev = cJSON_CreateObject(), *meta, *inv, *src;
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	sbx_buf gen = SBX_BUF_INIT;

	if (!ev)
		return NULL;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sbx_buf_printf(&gen, "%s.", name ? name : "object");
	cJSON_AddStringToObject(ev, "apiVersion", "v1");
	cJSON_AddStringToObject(ev, "kind", "Event");
	meta = cJSON_AddObjectToObject(ev, "metadata");
	cJSON_AddStringToObject(meta, "generateName", sbx_buf_cstr(&gen));
	cJSON_AddStringToObject(meta, "namespace", ns ? ns : "default");
	inv = cJSON_AddObjectToObject(ev, "involvedObject");
	cJSON_AddItemToObject(inv, "apiVersion",
			      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(about, "apiVersion"), 1));
	cJSON_AddItemToObject(inv, "kind", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(about, "kind"), 1));
	cJSON_AddStringToObject(inv, "name", name ? name : "");
	if (ns)
		cJSON_AddStringToObject(inv, "namespace", ns);
	if (meta_str(about, "uid"))
		cJSON_AddStringToObject(inv, "uid", meta_str(about, "uid"));
	cJSON_AddStringToObject(ev, "type", type);
	cJSON_AddStringToObject(ev, "reason", reason);
	cJSON_AddStringToObject(ev, "message", message);
	cJSON_AddStringToObject(ev, "firstTimestamp", stamp);
	cJSON_AddStringToObject(ev, "lastTimestamp", stamp);
	cJSON_AddNumberToObject(ev, "count", 1);
	src = cJSON_AddObjectToObject(ev, "source");
	cJSON_AddStringToObject(src, "component", SBX_MANAGER);
	sbx_buf_dispose(&gen);
	return ev;
}

int sbx_kube_event(sbx_kube *k, const cJSON *about, const char *type, const char *reason,
		   const char *message)
{
	cJSON *ev = event_object(about, type, reason, message);
	int r = ev ? sbx_kube_create(k, NULL, ev) : sbx_error_set(SBX_ENOMEM, "out of memory");

	cJSON_Delete(ev);
	return r;
}

int sbx_kube_start_event(sbx_kube *k, const cJSON *about, const char *type, const char *reason,
			 const char *message, sbx_kube_done_fn done, void *payload)
{
	cJSON *ev = event_object(about, type, reason, message);
	int r = ev ? sbx_kube_start_create(k, ev, done, payload) : sbx_error_set(SBX_ENOMEM, "out of memory");

	cJSON_Delete(ev);
	return r;
}



/* ---- watch ----------------------------------------------------------- */


static void watch_list_page(sbx_kube_resp *resp, void *payload);

static void watch_schedule(sbx_kube_watch *w, enum wstate state)
{
	w->failures++;
	w->state = state;
	w->wake = now_ms() + backoff(w->k, w->failures);
}

static void watch_begin_list(sbx_kube_watch *w)
{
	sbx_buf path = SBX_BUF_INIT;
	sbx_kube_req q = { "GET", NULL, NULL, NULL };

	w->state = W_LIST;
	sbx_kube_path(&path, w->kind, w->ns, NULL, NULL);
	/* a page is read and parsed whole before its objects are handed on:
	 * 100 keeps what a relist of every kind holds at once to a few MB */
	append_query(&path, "limit", "100");
	if (w->selector)
		append_query(&path, "labelSelector", w->selector);
	if (w->cont)
		append_query(&path, "continue", w->cont);
	q.path = sbx_buf_cstr(&path);
	if (path.failed || sbx_kube_start(w->k, &q, watch_list_page, w) < 0) {
		watch_schedule(w, W_WAIT_LIST);   /* a cut path would list the wrong things */
	} else {
		w->list_req = w->k->pending;
		w->list_req->drop_managed = true;
	}
	sbx_buf_dispose(&path);
}

static void watch_begin_stream(sbx_kube_watch *w)
{
	sbx_buf path = SBX_BUF_INIT, t = SBX_BUF_INIT;
	sbx_kube_req q = { "GET", NULL, NULL, NULL };
	req *r;

	w->state = W_WATCH;
	sbx_kube_path(&path, w->kind, w->ns, NULL, NULL);
	append_query(&path, "watch", "1");
	append_query(&path, "resourceVersion", w->rv ? w->rv : "");
	append_query(&path, "allowWatchBookmarks", "true");
	sbx_buf_printf(&t, "%d", WATCH_TIMEOUT_S);
	append_query(&path, "timeoutSeconds", sbx_buf_cstr(&t));
	if (w->selector)
		append_query(&path, "labelSelector", w->selector);
	q.path = sbx_buf_cstr(&path);
	r = path.failed || t.failed ? NULL : new_req(w->k, &q);
	sbx_buf_dispose(&path);
	sbx_buf_dispose(&t);
	if (!r) {
		watch_schedule(w, W_WAIT_WATCH);
		return;
	}
	r->watch = w;
	sbx_buf_clear(&w->line);
	w->restart = 0;
	w->stream_started = now_ms();
	w->stream_events = 0;
	w->stream = r;
	r->next = w->k->pending;
	w->k->pending = r;
}

/* The list failed: ask for it again, from the start, after a backoff. */
static void watch_list_again(sbx_kube_watch *w)
{
	set_str(&w->cont, NULL);
	w->listing = false;
	watch_schedule(w, W_WAIT_LIST);
}

static void watch_list_page(sbx_kube_resp *resp, void *payload)
{
	sbx_kube_watch *w = payload;
	const cJSON *meta, *c, *rv;
	cJSON *items, *item, *next;

	w->list_req = NULL;
	if (resp->err == SBX_EGONE && w->cont) {
		/* the continue token expired: list again from the start */
		set_str(&w->cont, NULL);
		w->listing = false;
		watch_begin_list(w);
		return;
	}
	items = cJSON_GetObjectItemCaseSensitive(resp->body, "items");
	if (resp->err || !(cJSON_IsArray(items) || cJSON_IsNull(items))) {
		/* an error, or a body that is not a list (or did not parse: out
		 * of memory): never taken for an empty list */
		watch_list_again(w);
		return;
	}
	if (!w->listing) {
		w->listing = true;
		if (w->h.list_begin)
			w->h.list_begin(w->payload);
	}
	for (item = cJSON_IsArray(items) ? items->child : NULL; item; item = next) {
		next = item->next;
		cJSON_DetachItemViaPointer(items, item);
		if (!cJSON_IsObject(item)) { /* a broken server's: nothing to keep */
			cJSON_Delete(item);
			continue;
		}
		/* list items carry no apiVersion/kind: add them for the handlers */
		if (!cJSON_GetObjectItemCaseSensitive(item, "kind") &&
		    (!cJSON_AddStringToObject(item, "apiVersion", w->kind->api_version) ||
		     !cJSON_AddStringToObject(item, "kind", w->kind->kind))) {
			cJSON_Delete(item);
			watch_list_again(w);
			return;
		}
		if (w->h.upsert)
			w->h.upsert(item, w->payload);
		else
			cJSON_Delete(item);
	}
	meta = cJSON_GetObjectItemCaseSensitive(resp->body, "metadata");
	c = cJSON_GetObjectItemCaseSensitive(meta, "continue");
	rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	if (cJSON_IsString(c) && *c->valuestring) {
		if (!set_str(&w->cont, c->valuestring))
			watch_list_again(w);   /* out of memory: not the end of the list */
		else
			watch_begin_list(w);
		return;
	}
	set_str(&w->cont, NULL);
	if (!set_str(&w->rv, cJSON_IsString(rv) ? rv->valuestring : NULL)) {
		watch_list_again(w);   /* a watch from no version would miss deletions */
		return;
	}
	w->listing = false;
	w->synced = true;
	w->failures = 0;
	if (w->h.list_done)
		w->h.list_done(w->payload);
	watch_begin_stream(w);
}

/* Split the stream into lines, parse each into w->events. */
static size_t watch_take(sbx_kube_watch *w, const char *data, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(data + i, '\n', n - i);
		size_t take = nl ? (size_t)(nl - (data + i)) : n - i;

		if (sbx_buf_put(&w->line, data + i, take) < 0) {
			w->restart = 2; /* an event over the limit: start again from a list */
			return 0;
		}
		i += take;
		if (!nl)
			break;
		i++;
		if (w->line.len) {
			cJSON *ev;

			sbx_kube_drop_managed_fields(w->line.ptr, w->line.len);
			ev = cJSON_ParseWithLength(w->line.ptr, w->line.len);

			if (ev)
				cJSON_AddItemToArray(w->events, ev);
			else
				w->restart = 2;
			sbx_buf_clear(&w->line);
		}
	}
	return n;
}

static size_t on_watch_data(req *r, const char *data, size_t n)
{
	return watch_take(r->watch, data, n);
}

static void watch_event(sbx_kube_watch *w, cJSON *ev)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
	const char *rv = meta_str(obj, "resourceVersion"), *t;

	if (!cJSON_IsString(type) || !cJSON_IsObject(obj))
		return;
	t = type->valuestring;
	if (strcmp(t, "ERROR") == 0) {
		w->restart = 2; /* 410 Gone and every other error: relist */
		return;
	}
	/* before upsert takes the object; a version lost to out of memory
	 * would resume the watch from none, missing deletions: relist */
	if (rv && !set_str(&w->rv, rv)) {
		w->restart = 2;
		return;
	}
	if (strcmp(t, "ADDED") == 0 || strcmp(t, "MODIFIED") == 0) {
		if (w->h.upsert)
			w->h.upsert(cJSON_DetachItemViaPointer(ev, obj), w->payload);
	} else if (strcmp(t, "DELETED") == 0) {
		if (w->h.remove)
			w->h.remove(obj, w->payload);
	}
	w->k->delivered++;
	w->stream_events++;
	w->failures = 0;
}

/* When to start again after the stream ended: at once after a stream that
 * delivered something or lasted, with a growing delay after streams that
 * end at once with nothing (an ERROR event, a line that does not parse, a
 * server that closes every stream), so a broken server is not hammered. */
static void watch_again(sbx_kube_watch *w, enum wstate state)
{
	long long now = now_ms();

	if (!w->stream_events && now - w->stream_started < WATCH_QUICK_MS)
		w->idle_restarts++;
	else
		w->idle_restarts = 0;
	w->state = state;
	w->wake = now + (w->idle_restarts ? backoff(w->k, w->idle_restarts) : 0);
}

static void drop_req(sbx_kube *k, req *r);

/* Hand w's parsed events to its handlers, up to one that asks for a relist. */
static void deliver_events(sbx_kube_watch *w)
{
	while (w->events && w->events->child && w->restart != 2) {
		cJSON *ev = cJSON_DetachItemViaPointer(w->events, w->events->child);

		watch_event(w, ev);
		cJSON_Delete(ev);
	}
}

int sbx_kube_watch_feed(sbx_kube_watch *w, const char *data, size_t n)
{
	watch_take(w, data, n);
	deliver_events(w);
	return w->restart;
}

void sbx_kube_watch_feed_page(sbx_kube_watch *w, sbx_kube_resp *resp)
{
	drop_req(w->k, w->list_req);
	w->list_req = NULL;
	watch_list_page(resp, w);
}

static void dispatch_watches(sbx_kube *k)
{
	for (sbx_kube_watch *w = k->watches; w; w = w->next) {
		deliver_events(w);
		if (w->restart == 2 && w->stream) {
			/* stop the stream now; watch_stream_ended() relists */
			req *r = w->stream;

			curl_multi_remove_handle(k->multi, r->easy);
			deactivate(k, r);
			unlink_req(&k->pending, r);
			w->stream = NULL;
			req_free(r);
			while (w->events && w->events->child)
				cJSON_Delete(cJSON_DetachItemViaPointer(w->events, w->events->child));
			w->relists++;
			watch_again(w, W_WAIT_LIST);
		}
	}
}

static void watch_stream_ended(sbx_kube_watch *w, CURLcode cc, long status, sbx_kube_resp *resp)
{
	w->stream = NULL;
	deliver_events(w); /* what arrived before the end */
	while (w->events->child)
		cJSON_Delete(cJSON_DetachItemViaPointer(w->events, w->events->child));
	if (w->restart == 2 || status == 410 || resp->err == SBX_EGONE) {
		w->relists++;
		watch_again(w, W_WAIT_LIST);
	} else if (cc == CURLE_OK && status == 200) {
		/* the server closed the stream (timeout): resume where we are */
		watch_again(w, W_WAIT_WATCH);
	} else {
		/* apiserver away or refusing: resume from the same version later */
		watch_schedule(w, W_WAIT_WATCH);
	}
}

static void tick_watches(sbx_kube *k, long long now)
{
	for (sbx_kube_watch *w = k->watches; w; w = w->next) {
		if (w->wake > now)
			continue;
		if (w->state == W_WAIT_LIST)
			watch_begin_list(w);
		else if (w->state == W_WAIT_WATCH)
			watch_begin_stream(w);
	}
}

int sbx_kube_watch_start(sbx_kube_watch **out, sbx_kube *k, const sbx_kind *kind, const char *ns,
			 const char *selector, const sbx_kube_watch_handlers *h, void *payload)
{
	sbx_kube_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	w->k = k;
	w->kind = kind;
	w->ns = ns ? strdup(ns) : NULL;
	w->selector = selector ? strdup(selector) : NULL;
	w->h = *h;
	w->payload = payload;
	w->events = cJSON_CreateArray();
	sbx_buf_init(&w->line, k->o.max_watch_line);
	if ((ns && !w->ns) || (selector && !w->selector) || !w->events) {
		sbx_kube_watch_stop(w);
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	w->next = k->watches;
	k->watches = w;
	watch_begin_list(w);
	*out = w;
	return 0;
}

bool sbx_kube_watch_synced(const sbx_kube_watch *w)
{
	return w->synced;
}

const char *sbx_kube_watch_version(const sbx_kube_watch *w)
{
	return w->rv ? w->rv : "";
}

unsigned sbx_kube_watch_relists(const sbx_kube_watch *w)
{
	return w->relists;
}

static void drop_req(sbx_kube *k, req *r)
{
	if (!r)
		return;
	if (r->easy)
		curl_multi_remove_handle(k->multi, r->easy);
	deactivate(k, r);
	unlink_req(&k->pending, r);
	req_free(r);
}

void sbx_kube_watch_stop(sbx_kube_watch *w)
{
	sbx_kube_watch **p;

	if (!w)
		return;
	for (p = &w->k->watches; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	drop_req(w->k, w->stream);
	drop_req(w->k, w->list_req);
	free(w->ns);
	free(w->selector);
	free(w->rv);
	free(w->cont);
	sbx_buf_dispose(&w->line);
	cJSON_Delete(w->events);
	free(w);
}

void sbx_kube_free(sbx_kube *k)
{
	if (!k)
		return;
	while (k->watches)
		sbx_kube_watch_stop(k->watches);
	while (k->active)
		drop_req(k, k->active);
	while (k->pending)
		drop_req(k, k->pending);
	if (k->multi)
		curl_multi_cleanup(k->multi);
	free(k->user_agent);
	free(k);
}
