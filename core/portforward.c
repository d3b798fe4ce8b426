// SPDX-License-Identifier: Apache-2.0
/*
 * pods/portforward over WebSocket. curl opens the TLS connection to the
 * API server (CONNECT_ONLY, the kubeconfig's certificates) and this file
 * speaks the rest: the HTTP/1.1 upgrade, RFC 6455 framing (client frames
 * masked, pings answered), and the channel protocol on top: every binary
 * message starts with a channel byte (0: data of the first port, 1: its
 * errors), and each channel's first two bytes are the port number.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "buf.h"
#include "error.h"
#include "kube.h"
#include "portforward-private.h"
#include "portforward.h"
#include "sbx_version.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define PROTOCOL "v4.channel.k8s.io"
#define HEADERS_MAX (16 * 1024)
#define FRAME_MAX ((size_t)4 << 20)
#define CHUNK (32 * 1024)
#define IO_TIMEOUT_MS 20000
#define OFFLINE_KEY "dGhlIHNhbXBsZSBub25jZQ=="   /* RFC 6455's example key */

struct sbx_portforward {
	CURL *easy;
	curl_socket_t sock;
	sbx_buf in;              /* received, not yet parsed */
	int port_left[2];        /* port bytes still to skip at the start of each channel */
	int channel;             /* of the message being received (continuations) */
	bool closed;             /* the server ended the connection */
	sbx_buf error;           /* what the error channel said */
	bool upgraded;           /* the WebSocket is open: close it with a frame */
	char *where;             /* "pod NS/NAME port P", for messages */
	bool offline;            /* no connection (tests): what is sent goes to `sent` */
	sbx_buf sent;
};

static int wait_sock(sbx_portforward *pf, short events, int timeout_ms)
{
	struct pollfd p = { pf->sock, events, 0 };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Send all of data, waiting while the socket is full. */
static int send_all(sbx_portforward *pf, const void *data, size_t len)
{
	const char *p = data;

	if (pf->offline)
		return sbx_buf_put(&pf->sent, data, len) < 0 ?
		       sbx_error_set(SBX_ENOMEM, "out of memory") : 0;
	while (len) {
		size_t n = 0;
		CURLcode c = curl_easy_send(pf->easy, p, len, &n);

		if (c == CURLE_AGAIN) {
			if (wait_sock(pf, POLLOUT, IO_TIMEOUT_MS) <= 0)
				return sbx_error_set(SBX_ETRANSPORT, "sending to %s stalled", pf->where);
			continue;
		}
		if (c != CURLE_OK)
			return sbx_error_set(SBX_ETRANSPORT, "sending to %s failed: %s", pf->where,
					     curl_easy_strerror(c));
		p += n;
		len -= n;
	}
	return 0;
}

/* Append what the server sent to pf->in: 0, or an SBX_E* (a frame and
 * headers are bounded; out of memory is said as such). */
static int keep(sbx_portforward *pf, const void *data, size_t n)
{
	if (n > pf->in.max - pf->in.len)
		return sbx_error_set(SBX_ETRANSPORT, "%s sent more than a frame can hold", pf->where);
	if (sbx_buf_put(&pf->in, data, n) < 0)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	return 0;
}

/* Read one chunk into pf->in (at most CHUNK bytes, so the buffer stays
 * bounded by one frame and a chunk). Returns the bytes read (0: nothing
 * now, or the server closed: pf->closed), or a negative SBX_E*. */
static int recv_some(sbx_portforward *pf)
{
	char buf[CHUNK];
	size_t n = 0;
	int r;
	CURLcode c = curl_easy_recv(pf->easy, buf, sizeof(buf), &n);

	if (c == CURLE_AGAIN)
		return 0;
	if (c != CURLE_OK)
		return sbx_error_set(SBX_ETRANSPORT, "reading from %s failed: %s", pf->where,
				     curl_easy_strerror(c));
	if (n == 0) {
		pf->closed = true;
		return 0;
	}
	r = keep(pf, buf, n);
	return r < 0 ? r : (int)n;
}

/* One masked client frame. */
static int send_frame(sbx_portforward *pf, int opcode, const void *prefix, size_t plen,
		      const void *data, size_t len)
{
	unsigned char hdr[14], mask[4];
	size_t h = 0, total = plen + len;
	sbx_buf frame = SBX_BUF_INIT;
	int r;

	hdr[h++] = (unsigned char)(0x80 | opcode);
	if (total < 126) {
		hdr[h++] = (unsigned char)(0x80 | total);
	} else if (total < 65536) {
		hdr[h++] = 0x80 | 126;
		hdr[h++] = (unsigned char)(total >> 8);
		hdr[h++] = (unsigned char)total;
	} else {
		hdr[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			hdr[h++] = (unsigned char)((uint64_t)total >> (8 * i));
	}
	if (RAND_bytes(mask, sizeof(mask)) != 1)
		return sbx_error_set(SBX_EIO, "no random bytes for the WebSocket mask");
	memcpy(hdr + h, mask, 4);
	h += 4;
	sbx_buf_put(&frame, hdr, h);
	sbx_buf_put(&frame, prefix, plen);
	sbx_buf_put(&frame, data, len);
	if (frame.failed) {
		sbx_buf_dispose(&frame);
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < total; i++)
		frame.ptr[h + i] ^= (char)mask[i % 4];
	r = send_all(pf, frame.ptr, frame.len);
	sbx_buf_dispose(&frame);
	return r;
}

/* A refused upgrade: its code, and the message of the Status in its body. */
static int fail_status(sbx_portforward *pf, const char *head)
{
	const char *body = strstr(head, "\r\n\r\n");
	cJSON *status = body ? cJSON_Parse(body + 4) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(status, "message");
	const char *msg = cJSON_IsString(m) && m->valuestring[0] ? m->valuestring : NULL;
	int code = 0, r;

	if (sscanf(head, "HTTP/1.%*d %d", &code) != 1)
		r = sbx_error_set(SBX_ETRANSPORT, "%s: not an HTTP answer", pf->where);
	else
		r = sbx_error_set(code == 403 ? SBX_EFORBIDDEN : code == 404 ? SBX_ENOTFOUND :
				  code == 401 ? SBX_EUNAUTHORIZED : SBX_ETRANSPORT,
				  "port-forward to %s refused (HTTP %d)%s%.400s", pf->where, code,
				  msg ? ": " : "", msg ? msg : "");
	cJSON_Delete(status);
	return r;
}

static bool header_is(const char *head, const char *name, const char *value)
{
	size_t nlen = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l && l[2] && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2 + nlen;

		if (strncasecmp(l + 2, name, nlen) != 0 || *v != ':')
			continue;
		v++;
		while (*v == ' ')
			v++;
		return strncmp(v, value, strlen(value)) == 0 && (v[strlen(value)] == '\r');
	}
	return false;
}

/* pf->in holds the answer to the upgrade up to `end` (its "\r\n\r\n"):
 * a 101 whose Sec-WebSocket-Accept matches `key` and whose protocol is
 * ours, or the failure it says. What follows the headers (the first
 * frames) is kept in pf->in. */
static int check_answer(sbx_portforward *pf, const char *key, char *end)
{
	unsigned char digest[SHA_DIGEST_LENGTH];
	char accept[32];
	sbx_buf both = SBX_BUF_INIT;

	if (strncmp(pf->in.ptr, "HTTP/1.1 101", 12) != 0)
		return fail_status(pf, sbx_buf_cstr(&pf->in));
	sbx_buf_printf(&both, "%s" WS_GUID, key);
	if (both.failed) {
		sbx_buf_dispose(&both);
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	SHA1((const unsigned char *)both.ptr, both.len, digest);
	sbx_buf_dispose(&both);
	EVP_EncodeBlock((unsigned char *)accept, digest, sizeof(digest));
	end[2] = '\0';   /* the headers, each line ending in CRLF */
	if (!header_is(pf->in.ptr, "Sec-WebSocket-Accept", accept))
		return sbx_error_set(SBX_ETRANSPORT, "%s: the WebSocket answer does not match the "
				     "key", pf->where);
	if (!header_is(pf->in.ptr, "Sec-WebSocket-Protocol", PROTOCOL))
		return sbx_error_set(SBX_ETRANSPORT, "%s: the server does not speak " PROTOCOL,
				     pf->where);
	/* keep what came after the headers: the first frames */
	{
		size_t used = (size_t)(end + 4 - pf->in.ptr), rest = pf->in.len - used;

		end[2] = '\r';

		memmove(pf->in.ptr, pf->in.ptr + used, rest);
		pf->in.len = rest;
		pf->in.ptr[rest] = '\0';
	}
	return 0;
}

/* The end of the answer's headers in pf->in (its "\r\n\r\n"), or NULL
 * while they are incomplete; *r is then 0, or SBX_ETRANSPORT once they are
 * too long to be headers. */
static char *headers_end(sbx_portforward *pf, int *r)
{
	char *end = pf->in.ptr ? strstr(pf->in.ptr, "\r\n\r\n") : NULL;

	*r = !end && pf->in.len > HEADERS_MAX ?
	     sbx_error_set(SBX_ETRANSPORT, "%s: answer headers too long", pf->where) : 0;
	return end;
}

/* The server closed before the answer was complete: what it said, if anything. */
static int closed_early(sbx_portforward *pf)
{
	return pf->in.len ? fail_status(pf, sbx_buf_cstr(&pf->in)) :
	       sbx_error_set(SBX_ETRANSPORT, "%s closed the connection", pf->where);
}

static int upgrade(sbx_portforward *pf, sbx_kube_config *cfg, const char *path)
{
	unsigned char nonce[16];
	char key[32], hostport[512];
	sbx_buf req = SBX_BUF_INIT;
	const char *host = cfg->server + strlen("https://");
	char *end;
	int r = 0;

	/* "https://host:port[/prefix]": Host is host:port, the request path keeps the prefix */
	snprintf(hostport, sizeof(hostport), "%.*s", (int)strcspn(host, "/"), host);
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return sbx_error_set(SBX_EIO, "no random bytes for the WebSocket key");
	EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
	sbx_buf_printf(&req, "GET %s%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
		       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
		       "Sec-WebSocket-Protocol: " PROTOCOL "\r\nUser-Agent: sandbox/" SBX_VERSION "\r\n",
		       host + strlen(hostport), path, hostport, key);   /* the server has no trailing '/' */
	if (cfg->token)
		sbx_buf_printf(&req, "Authorization: Bearer %s\r\n", cfg->token);
	sbx_buf_puts(&req, "\r\n");
	r = req.failed ? sbx_error_set(SBX_ENOMEM, "out of memory") : send_all(pf, req.ptr, req.len);
	if (req.ptr)
		explicit_bzero(req.ptr, req.len);
	sbx_buf_dispose(&req);
	if (r < 0)
		return r;
	while (!(end = headers_end(pf, &r))) {
		if (r < 0)
			return r;
		if (wait_sock(pf, POLLIN, IO_TIMEOUT_MS) <= 0)
			return sbx_error_set(SBX_ETIMEOUT, "%s: no answer to the upgrade", pf->where);
		while ((r = recv_some(pf)) > 0)
			;
		if (r == SBX_ENOMEM)
			return r;
		if (r < 0 && !pf->in.len)
			return r;
		if (r < 0 || pf->closed)
			return closed_early(pf);
	}
	if (strncmp(pf->in.ptr, "HTTP/1.1 101", 12) != 0 && wait_sock(pf, POLLIN, 500) > 0) {
		/* give the error body a moment to arrive, for its message */
		while (recv_some(pf) > 0)
			;
		end = strstr(pf->in.ptr, "\r\n\r\n");
	}
	return check_answer(pf, key, end);
}

int sbx_portforward_open(sbx_portforward **out, sbx_kube_config *cfg, const char *ns,
			 const char *pod, int port)
{
	sbx_portforward *pf = calloc(1, sizeof(*pf));
	sbx_buf url = SBX_BUF_INIT, path = SBX_BUF_INIT, where = SBX_BUF_INIT;
	CURLcode c;
	int r = 0;

	sbx_error_clear();
	if (!pf)
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	pf->sock = CURL_SOCKET_BAD;
	pf->port_left[0] = pf->port_left[1] = 2;
	sbx_buf_init(&pf->in, FRAME_MAX + HEADERS_MAX);
	sbx_buf_init(&pf->error, 4096);
	sbx_buf_printf(&where, "pod '%s/%s' port %d", ns, pod, port);
	pf->where = sbx_buf_take(&where, NULL);
	sbx_buf_printf(&path, "/api/v1/namespaces/%s/pods/%s/portforward?ports=%d", ns, pod, port);
	sbx_buf_printf(&url, "%s%s", cfg->server, sbx_buf_cstr(&path));
	pf->easy = curl_easy_init();
	if (!pf->where || !pf->easy || url.failed || path.failed) {
		r = sbx_error_set(SBX_ENOMEM, "out of memory");
		goto done;
	}
	if (strncmp(cfg->server, "https://", 8) != 0) {
		r = sbx_error_set(SBX_EINVAL, "the API server '%s' is not https://", cfg->server);
		goto done;
	}
	/* a rotated token file or an expired exec-plugin token is renewed first */
	if (sbx_kube_config_refresh(cfg, false) < 0) {
		r = sbx_error_set(SBX_EUNAUTHORIZED, "cannot renew the kubeconfig's credentials: %s",
				  sbx_error_last());
		goto done;
	}
	sbx_kube_tls_setup(pf->easy, cfg);
	curl_easy_setopt(pf->easy, CURLOPT_URL, sbx_buf_cstr(&url));
	curl_easy_setopt(pf->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(pf->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(pf->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(pf->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	c = curl_easy_perform(pf->easy);
	if (c != CURLE_OK) {
		r = sbx_error_set(SBX_ETRANSPORT, "cannot reach the API server '%s': %s", cfg->server,
				  curl_easy_strerror(c));
		goto done;
	}
	if (curl_easy_getinfo(pf->easy, CURLINFO_ACTIVESOCKET, &pf->sock) != CURLE_OK ||
	    pf->sock == CURL_SOCKET_BAD) {
		r = sbx_error_set(SBX_ETRANSPORT, "no connection to the API server");
		goto done;
	}
	r = upgrade(pf, cfg, sbx_buf_cstr(&path));
	pf->upgraded = r == 0;
done:
	sbx_buf_dispose(&url);
	sbx_buf_dispose(&path);
	if (r < 0)
		sbx_portforward_free(pf);
	else
		*out = pf;
	return r;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sbx_error_set(SBX_EIO, "cannot write to the local side: %s",
					     strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Parse the frames in pf->in: data to out_fd, errors kept, pings answered.
 * Returns 1 when the server closed, 0 to go on, or a negative SBX_E*. */
static int take_frames(sbx_portforward *pf, int out_fd)
{
	for (;;) {
		const unsigned char *p = (const unsigned char *)pf->in.ptr;
		size_t have = pf->in.len, h = 2;
		uint64_t len;
		int opcode, r = 0;

		if (have < 2)
			return 0;
		opcode = p[0] & 0x0f;
		len = p[1] & 0x7f;
		if (p[1] & 0x80)
			return sbx_error_set(SBX_ETRANSPORT, "%s: the server sent a masked frame",
					     pf->where);
		if (len == 126) {
			if (have < 4)
				return 0;
			len = (uint64_t)p[2] << 8 | p[3];
			h = 4;
		} else if (len == 127) {
			if (have < 10)
				return 0;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | p[2 + i];
			h = 10;
		}
		if (len > FRAME_MAX)
			return sbx_error_set(SBX_ETRANSPORT, "%s: a frame of %llu bytes is too large",
					     pf->where, (unsigned long long)len);
		if (opcode >= 0x8 && (len > 125 || !(p[0] & 0x80)))
			return sbx_error_set(SBX_ETRANSPORT, "%s: a malformed control frame", pf->where);
		if (have < h + len)
			return 0;
		p += h;
		if (opcode == 0x8)
			return 1;
		if (opcode == 0x9) {
			r = send_frame(pf, 0xA, NULL, 0, p, (size_t)len);
		} else if (opcode == 0x2 || opcode == 0x0) {
			const char *d = (const char *)p;
			size_t n = (size_t)len;

			/* a new message names its channel in its first byte; a
			 * continuation goes on with the channel before it */
			if (opcode == 0x2 && n > 0) {
				pf->channel = (unsigned char)d[0];
				d++;
				n--;
			}
			if (pf->channel <= 1 && pf->port_left[pf->channel] > 0) {
				/* the first two bytes of each channel are the port */
				size_t skip = n < (size_t)pf->port_left[pf->channel] ? n :
					      (size_t)pf->port_left[pf->channel];

				d += skip;
				n -= skip;
				pf->port_left[pf->channel] -= (int)skip;
			}
			if (pf->channel == 0)
				r = write_all(out_fd, d, n);
			else if (pf->channel == 1)
				sbx_buf_put(&pf->error, d, n);
		}
		if (r < 0)
			return r;
		memmove(pf->in.ptr, pf->in.ptr + h + len, have - h - len);
		pf->in.len = have - h - (size_t)len;
		if (pf->error.len)
			return sbx_error_set(SBX_ETRANSPORT, "%s: %s", pf->where, sbx_buf_cstr(&pf->error));
	}
}

int sbx_portforward_pump(sbx_portforward *pf, int in_fd, int out_fd)
{
	static const unsigned char data_channel = 0;
	char buf[CHUNK];
	int r = 0;

	sbx_error_clear();
	/* frames that came with the upgrade answer */
	if ((r = take_frames(pf, out_fd)) != 0)
		goto done;
	for (;;) {
		struct pollfd p[2] = { { in_fd, POLLIN, 0 }, { pf->sock, POLLIN, 0 } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = sbx_error_set(SBX_EIO, "poll failed: %s", strerror(errno));
			goto done;
		}
		if (p[1].revents) {
			/* drain what TLS holds, a chunk and its frames at a time */
			while ((r = recv_some(pf)) > 0)
				if ((r = take_frames(pf, out_fd)) != 0)
					goto done;
			if (r < 0)
				goto done;
			if (pf->closed) {
				/* the far end went away (the kubelet closes when the pod's
				 * port does): an end, unless the error channel said why */
				r = pf->error.len ? sbx_error_set(SBX_ETRANSPORT, "%s: %s", pf->where,
								  sbx_buf_cstr(&pf->error)) : 0;
				goto done;
			}
		}
		if (p[0].revents) {
			ssize_t n = read(in_fd, buf, sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = sbx_error_set(SBX_EIO, "cannot read the local side: %s", strerror(errno));
				goto done;
			}
			if (n == 0) {
				r = 0;   /* the local side is done: a clean end */
				goto done;
			}
			if ((r = send_frame(pf, 0x2, &data_channel, 1, buf, (size_t)n)) < 0)
				goto done;
		}
	}
done:
	return r < 0 ? r : 0;
}

void sbx_portforward_free(sbx_portforward *pf)
{
	if (!pf)
		return;
	if (pf->upgraded) {
		unsigned char code[2] = { 0x03, 0xe8 };   /* 1000: normal closure */

		send_frame(pf, 0x8, NULL, 0, code, sizeof(code));
	}
	curl_easy_cleanup(pf->easy);
	sbx_buf_dispose(&pf->in);
	sbx_buf_dispose(&pf->error);
	sbx_buf_dispose(&pf->sent);
	free(pf->where);
	free(pf);
}

/* --- without a connection (core/portforward-private.h) -------------------- */

int sbx_portforward_offline(sbx_portforward **out)
{
	sbx_portforward *pf = calloc(1, sizeof(*pf));

	if (!pf || !(pf->where = strdup("pod 'offline/test' port 2222"))) {
		free(pf);
		return sbx_error_set(SBX_ENOMEM, "out of memory");
	}
	pf->offline = true;
	pf->sock = CURL_SOCKET_BAD;
	pf->port_left[0] = pf->port_left[1] = 2;
	sbx_buf_init(&pf->in, FRAME_MAX + HEADERS_MAX);
	sbx_buf_init(&pf->error, 4096);
	sbx_buf_init(&pf->sent, FRAME_MAX);
	*out = pf;
	return 0;
}

int sbx_portforward_feed(sbx_portforward *pf, const void *data, size_t len, int out_fd)
{
	char *end;
	int r;

	sbx_error_clear();
	if (!data)   /* the server closed: as the pump and the upgrade read that */
		return pf->upgraded ? 1 : closed_early(pf);
	if ((r = keep(pf, data, len)) < 0)
		return r;
	if (!pf->upgraded) {
		if (!(end = headers_end(pf, &r)))
			return r;
		if (strncmp(pf->in.ptr, "HTTP/1.1 101", 12) != 0)
			return 0;   /* a refusal: its body may follow, read at the close */
		if ((r = check_answer(pf, OFFLINE_KEY, end)) < 0)
			return r;
		pf->upgraded = true;
	}
	return take_frames(pf, out_fd);
}

const char *sbx_portforward_sent(const sbx_portforward *pf, size_t *len)
{
	*len = pf->sent.len;
	return sbx_buf_cstr(&pf->sent);
}
