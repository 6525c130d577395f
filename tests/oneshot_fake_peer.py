"""A stand-in for benchmarks/peers/lxmf_worker.py in tests: its command line and its lines, over plain TCP.

bench_oneshot's LXMF side cannot run here (rns and lxmf live in their own venv, made by `make
bench-peers`), so tests give the driver this script instead: each node listens on ``--listen-port``
and dials every ``--connect-port``; a sender writes the message number to its link, a relay passes
every line on to its other links, a receiver says ``delivered`` and sends ``ack N`` back, which the
sender reports as ``acked`` (as LXMF's delivery proof would be). It also writes one line that is not
the protocol, as a library logging to stdout would. Stdlib only, 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time


class Node:
    def __init__(self, role: str, listen_port: int, connect_ports: list[int]) -> None:
        self.role = role
        self.lock = threading.Lock()
        self.links: list[socket.socket] = []
        self.wire_in = 0
        self.wire_out = 0
        self.server = socket.create_server(("127.0.0.1", listen_port))
        threading.Thread(target=self._accept, daemon=True).start()
        for port in connect_ports:
            self._add(socket.create_connection(("127.0.0.1", port), timeout=10))

    def say(self, message: dict[str, object]) -> None:
        with self.lock:
            sys.stdout.write(json.dumps(message) + "\n")
            sys.stdout.flush()

    def _accept(self) -> None:
        while True:
            conn, _ = self.server.accept()
            self._add(conn)

    def _add(self, conn: socket.socket) -> None:
        conn.settimeout(None)
        with self.lock:
            self.links.append(conn)
        threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _write(self, conn: socket.socket, line: str) -> None:
        data = line.encode()
        with self.lock:
            self.wire_out += len(data)
        conn.sendall(data)

    def _read(self, conn: socket.socket) -> None:
        for raw in conn.makefile("rb"):
            with self.lock:
                self.wire_in += len(raw)
                others = [c for c in self.links if c is not conn]
            line = raw.decode().strip()
            now = time.clock_gettime(time.CLOCK_MONOTONIC)
            if self.role == "relay":
                for other in others:
                    self._write(other, line + "\n")
            elif self.role == "receiver" and line.isdigit():
                self.say({"delivered": int(line), "t": now})
                self._write(conn, f"ack {line}\n")
            elif self.role == "sender" and line.startswith("ack "):
                self.say({"acked": int(line[4:]), "t": now})

    def send(self, n: int) -> None:
        self._write(self.links[0], f"{n}\n")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=("sender", "receiver", "relay"), required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--connect-port", type=int, action="append", default=[])
    ap.add_argument("--to", default=None)        # the sender's receiver, as the real worker takes it
    args = ap.parse_args()
    print("[Notice] fake peer starting (a log line on stdout, which a library may write)", flush=True)
    if (args.role == "sender") != (args.to is not None) or (args.to is not None and not args.to.startswith("fake-")):
        ap.error("--to names the receiver's address, and only a sender takes it")
    node = Node(args.role, args.listen_port, args.connect_port)
    node.say({"ready": True, "address": f"fake-{args.listen_port}" if args.role == "receiver" else ""})
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        if command["cmd"] == "stats":
            node.say({"stats": {"cpu_s": time.process_time(), "rss_kib": 1, "wire_in": node.wire_in,
                                "wire_out": node.wire_out}})
        elif command["cmd"] == "send":
            if not command["to"].startswith("fake-"):
                node.say({"error": f"no address to send to: {command['to']!r}"})
                continue
            node.send(command["n"])
            node.say({"sent": command["n"], "t": time.clock_gettime(time.CLOCK_MONOTONIC)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
