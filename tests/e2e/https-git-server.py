#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""git's own smart-HTTP server (git http-backend) behind TLS on 127.0.0.1,
with a bearer-style token checked as the Basic-auth password, for the
https:// tests. Not a fake: every git byte comes from git http-backend.

usage: https-git-server.py ROOT CERT KEY TOKEN_FILE PORT_FILE
Serves ROOT/*.git at https://127.0.0.1:PORT/NAME.git; writes PORT to
PORT_FILE once listening; /redirect/NAME.git answers 302 to another host.
"""
import base64
import http.server
import os
import ssl
import subprocess
import sys

root, cert, key, token_file, port_file = sys.argv[1:6]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("https-git-server: " + (fmt % args) + "\n")

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def reply(self, code, headers, data):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def authorized(self):
        with open(token_file) as f:
            token = f.read().strip()
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
        return password == token

    def handle_git(self):
        data = self.body()
        path, _, query = self.path.partition("?")
        if path.startswith("/redirect/"):
            self.reply(302, [("Location", "https://elsewhere.invalid/" + path[10:])], b"")
            return
        if not self.authorized():
            # closed after the challenge: libgit2 1.5 reuses the connection
            # without reading this body otherwise
            self.close_connection = True
            self.reply(401, [("WWW-Authenticate", 'Basic realm="git"'), ("Connection", "close")],
                       b"token required\n")
            return
        env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL="1",
                   REQUEST_METHOD=self.command, PATH_INFO=path, QUERY_STRING=query,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   CONTENT_LENGTH=str(len(data)), REMOTE_USER="dev", REMOTE_ADDR="127.0.0.1",
                   GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.receivepack",
                   GIT_CONFIG_VALUE_0="true")
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(["git", "http-backend"], input=data, env=env,
                             capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        code, headers = 200, []
        for line in head.split(b"\r\n"):
            name, _, value = line.decode().partition(":")
            if name.lower() == "status":
                code = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.reply(code, headers, payload)

    do_GET = handle_git
    do_POST = handle_git


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
