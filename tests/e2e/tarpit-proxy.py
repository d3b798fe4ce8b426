#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# FAULT INJECTOR, not a server: a TCP proxy on 127.0.0.1 in front of a real
# server (the test's sshd) that turns into a tarpit on demand. While the
# mode file says "tarpit", a new connection is accepted and then never
# answered (what a stuck git server does, which a real sshd will not do on
# demand); otherwise bytes are passed both ways.
# Usage: tarpit-proxy.py PORTFILE TARGET_PORT MODEFILE   (writes the chosen port)
import os
import selectors
import socket
import sys
import threading


def pump(a, b):
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ, b)
    sel.register(b, selectors.EVENT_READ, a)
    try:
        while True:
            for key, _ in sel.select():
                data = key.fileobj.recv(65536)
                if not data:
                    return
                key.data.sendall(data)
    except OSError:
        pass
    finally:
        a.close()
        b.close()


def tarpit(conn):
    try:
        while conn.recv(65536):
            pass  # read and say nothing, until the client gives up
    except OSError:
        pass
    conn.close()


def main():
    portfile, target, modefile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    while True:
        conn, _ = srv.accept()
        try:
            with open(modefile) as f:
                mode = f.read().strip()
        except OSError:
            mode = "forward"
        if mode == "tarpit":
            threading.Thread(target=tarpit, args=(conn,), daemon=True).start()
            continue
        try:
            up = socket.create_connection(("127.0.0.1", target))
        except OSError:
            conn.close()
            continue
        threading.Thread(target=pump, args=(conn, up), daemon=True).start()


if __name__ == "__main__":
    main()
