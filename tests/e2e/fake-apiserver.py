#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# FAKE API server for fault injection only: it answers with the failures a
# real kube-apiserver will not produce on demand (429 storms with
# Retry-After, 503s, 500s, truncated watch streams, watch streams that end
# at once: with an ERROR event, a line that is not JSON, or nothing).
# HTTPS on 127.0.0.1.
# Usage: fake-apiserver.py CERT KEY PORTFILE   (writes the chosen port)
import json
import os
import urllib.parse
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {}
lock = threading.Lock()


def hit(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        return counts[key]


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure",
            "code": code, "reason": reason, "message": message}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, code, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_raw(self, code, data):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def watch_fault(self, query):
        # /api/v1/configmaps with labelSelector=fault=KIND: an empty list,
        # then every watch stream ends at once in the way KIND says
        q = urllib.parse.parse_qs(query)
        fault = q.get("labelSelector", ["fault=none"])[0].split("=", 1)[-1]
        if "watch" not in q:
            hit("/list/" + fault)
            self.send_json(200, {"kind": "ConfigMapList", "apiVersion": "v1",
                                 "metadata": {"resourceVersion": "1"}, "items": []})
            return
        hit("/watch/" + fault)
        if fault == "error":
            event = {"type": "ERROR", "object": status(410, "Expired", "too old resource version")}
            self.send_raw(200, json.dumps(event).encode() + b"\n")
        elif fault == "garbage":
            self.send_raw(200, b"this is not json\n")
        else:
            self.send_raw(200, b"")

    def do_GET(self):
        path, _, query = self.path.partition("?")
        parts = path.strip("/").split("/")
        if path == "/api/v1/configmaps":
            self.watch_fault(query)
            return
        n = hit(path)
        if parts[0] == "count":            # /count/KEY: how often KEY was hit
            self.send_json(200, {"count": counts.get("/" + "/".join(parts[1:]), 0)})
        elif parts[0] == "storm":          # /storm/N/ID: N x 429 (Retry-After: 1), then 200
            if n <= int(parts[1]):
                self.send_json(429, status(429, "TooManyRequests", "slow down"),
                               [("Retry-After", "1")])
            else:
                self.send_json(200, {"kind": "Namespace", "metadata": {"name": "ok"}})
        elif parts[0] == "unavailable":    # always 503 without Retry-After
            self.send_json(503, status(503, "ServiceUnavailable", "try later"))
        elif parts[0] == "internal":       # always 500: not retried
            self.send_json(500, status(500, "InternalError", "boom"))
        elif parts[0] == "invalid":        # 422 with field causes
            body = status(422, "Invalid", "Deployment.apps \"x\" is invalid")
            body["details"] = {"causes": [{"field": "spec.replicas", "message": "must be >= 0"}]}
            self.send_json(422, body)
        elif parts[0] == "redirect":       # must not be followed
            self.send_response(302)
            self.send_header("Location", "https://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts[0] == "huge":           # a body over the client's limit
            data = b"{\"x\":\"" + b"a" * (4 << 20) + b"\"}"
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_json(404, status(404, "NotFound", "no such fault"))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients hang up on purpose (oversized bodies)


def main():
    cert, key, portfile = sys.argv[1:4]
    server = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
