"""Tiny UDP sender/receiver run inside mesh namespaces to measure reachability and loss.

``recv``: bind, print ``{"ready": true}``, count datagrams carrying ``--tag`` per source until ``--idle``
seconds pass after the last one (or ``--timeout`` with none), print ``{"received": {source: count}}``.
``send``: send ``--count`` numbered datagrams tagged ``--tag`` to each ``--to`` address, ``--interval`` apart.

The tag matters: datagrams sent while a host was unreachable wait in the kernel's ARP queue and arrive
when it comes back; a later round must not count them.
"""

from __future__ import annotations

import argparse
import json
import socket
import time


def receive(bind: str, port: int, idle: float, timeout: float, tag: bytes) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((bind, port))
    print(json.dumps({"ready": True}), flush=True)
    counts: dict[str, int] = {}
    deadline = time.monotonic() + timeout
    while True:
        wait = idle if counts else deadline - time.monotonic()
        if wait <= 0:
            break
        sock.settimeout(wait)
        try:
            data, (source, _) = sock.recvfrom(2048)
        except TimeoutError:
            break
        if data.startswith(tag):
            counts[source] = counts.get(source, 0) + 1
    print(json.dumps({"received": counts}), flush=True)


def send(targets: list[str], port: int, count: int, interval: float, tag: bytes) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for seq in range(count):
        for target in targets:
            try:
                sock.sendto(tag + seq.to_bytes(4, "big"), (target, port))
            except OSError:
                pass  # no route / carrier down: that datagram is simply lost, which is what we measure
        time.sleep(interval)
    print(json.dumps({"sent": count, "to": targets}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--bind", default="0.0.0.0")
    r.add_argument("--port", type=int, default=9999)
    r.add_argument("--idle", type=float, default=0.5)
    r.add_argument("--timeout", type=float, default=3.0)
    r.add_argument("--tag", default="-")
    s = sub.add_parser("send")
    s.add_argument("--to", required=True, help="comma-separated addresses")
    s.add_argument("--port", type=int, default=9999)
    s.add_argument("--count", type=int, default=20)
    s.add_argument("--interval", type=float, default=0.005)
    s.add_argument("--tag", default="-")
    args = parser.parse_args()
    if args.mode == "recv":
        receive(args.bind, args.port, args.idle, args.timeout, args.tag.encode() + b":")
    else:
        send(args.to.split(","), args.port, args.count, args.interval, args.tag.encode() + b":")


if __name__ == "__main__":
    main()
