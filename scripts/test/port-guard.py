#!/usr/bin/env python3
"""Listens on the platform's default ports while the test suite runs and records every connection.

No test may depend on a default port or on a process it did not start (a developer's `make run` stack listens on
exactly these ports). scripts/run-tests.sh starts this guard before the suite and stops it after; any connection it
recorded fails the run, with the port and the first bytes the client sent, which usually name the culprit (an HTTP
path, a Redis command, a PostgreSQL startup packet).

A port that is already taken cannot be watched; the guard says so at start and watches the others.

usage: port-guard.py LOGFILE [PORT ...]    (default ports: 8080 8081 8090 6379 5432)
Stops on SIGTERM or SIGINT.
"""
import selectors
import signal
import socket
import sys
import time

DEFAULT_PORTS = [8080, 8081, 8090, 6379, 5432]


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    log_path = sys.argv[1]
    ports = [int(p) for p in sys.argv[2:]] or DEFAULT_PORTS
    selector = selectors.DefaultSelector()
    watched, taken = [], []
    for port in ports:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("127.0.0.1", port))
        except OSError:
            listener.close()
            taken.append(port)
            continue
        listener.listen(64)
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ, ("listener", port))
        watched.append(port)
    print(f"port-guard: watching {' '.join(map(str, watched)) or 'nothing'}"
          + (f"; already in use, not watched: {' '.join(map(str, taken))}" if taken else ""), flush=True)

    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with open(log_path, "a", buffering=1) as log:
        while running:
            for key, _ in selector.select(timeout=0.5):
                kind, port = key.data[0], key.data[1]
                if kind == "listener":
                    try:
                        conn, peer = key.fileobj.accept()
                    except OSError:
                        continue
                    conn.setblocking(False)
                    selector.register(conn, selectors.EVENT_READ, ("conn", port))
                    log.write(f"{time.strftime('%H:%M:%S')} connection to 127.0.0.1:{port} from port {peer[1]}\n")
                else:
                    try:
                        data = key.fileobj.recv(200)
                    except OSError:
                        data = b""
                    if data:
                        log.write(f"{time.strftime('%H:%M:%S')}   first bytes to {port}: {data[:120]!r}\n")
                    selector.unregister(key.fileobj)
                    key.fileobj.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
