"""A bare discovery node for the namespace tests: runs ``Discovery`` and prints what it sees as JSON lines.

Lines (all carry ``t``, wall-clock seconds, comparable across namespaces of one machine)::

    {"event": "started", "name": <our instance>, "node_id": <hex>, "pid": ...}
    {"event": "found", "name", "addresses", "port", "version", "incarnation"}
    {"event": "gone", "name"}
    {"event": "signal", "signal": 15}
    {"event": "stopped", "stats": {...}}            # after the goodbye went out
    {"event": "unavailable", "error": "..."}        # DiscoveryUnavailable; exit code 3

Runs for ``--seconds`` or until SIGTERM/SIGINT, then leaves cleanly (exit code 0).

``--inspect`` is a different tool: a plain zeroconf browser (not ours) that prints every meshcare record
exactly as it is on the wire (instance name, host name, TXT keys and values), so tests can check what an
eavesdropper on the LAN learns.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import threading
import time
from typing import Any

import trio
from zeroconf import IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

from meshcare.errors import DiscoveryUnavailable
from meshcare.transport.discovery import SERVICE_TYPE, Discovery, Found


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, "t": time.time(), **fields}), flush=True)


async def stop_on_signal(signals: Any, scope: trio.CancelScope) -> None:
    async for signum in signals:
        emit("signal", signal=int(signum))
        scope.cancel()
        return


async def report(discovery: Discovery) -> None:
    async for event in discovery.events:
        if isinstance(event, Found):
            emit("found", **dataclasses.asdict(event))
        else:
            emit("gone", name=event.name)


async def run_node(args: argparse.Namespace) -> int:
    node_id = os.urandom(32)
    interfaces = [a for a in args.interfaces.split(",") if a]
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        try:
            discovery = Discovery(node_id, args.port, interfaces=interfaces, rescan_interval=args.rescan,
                                  instance_label=args.label or None)
            async with discovery:
                emit("started", name=discovery.instance_name, node_id=node_id.hex(), pid=os.getpid())
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(stop_on_signal, signals, nursery.cancel_scope)
                    nursery.start_soon(report, discovery)
                    await trio.sleep(args.seconds)
                    nursery.cancel_scope.cancel()
        except DiscoveryUnavailable as exc:
            emit("unavailable", error=str(exc))
            return 3
    emit("stopped", stats=dataclasses.asdict(discovery.statistics()))
    return 0


def inspect(seconds: float) -> int:
    """Browse with plain zeroconf and dump every meshcare record as raw as zeroconf gives it."""
    names: set[str] = set()
    lock = threading.Lock()

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is not ServiceStateChange.Removed:
            with lock:
                names.add(name)

    zc = Zeroconf(ip_version=IPVersion.V4Only, use_asyncio=False)
    try:
        browser = ServiceBrowser(zc, SERVICE_TYPE, handlers=[on_change])
        time.sleep(seconds)
        browser.cancel()
        with lock:
            seen = sorted(names)
        for name in seen:
            info = zc.get_service_info(SERVICE_TYPE, name, timeout=2000)
            if info is None:
                emit("record", name=name, resolved=False)
                continue
            properties = {k.decode("latin-1"): None if v is None else v.decode("latin-1")
                          for k, v in info.properties.items()}
            emit("record", name=name, resolved=True, server=info.server, port=info.port,
                 addresses=info.parsed_addresses(), properties=properties, text=info.text.hex())
    finally:
        zc.close()
    emit("done")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=7000)
    parser.add_argument("--seconds", type=float, default=30.0, help="stop after this long (default 30)")
    parser.add_argument("--label", default="", help="reuse this instance label (8+ hex digits)")
    parser.add_argument("--rescan", type=float, default=30.0, help="interface rescan interval")
    parser.add_argument("--interfaces", default="", help="comma-separated IPv4 addresses")
    parser.add_argument("--inspect", action="store_true", help="dump raw records instead of running a node")
    args = parser.parse_args()
    if args.inspect:
        return inspect(args.seconds)
    return trio.run(run_node, args)


if __name__ == "__main__":
    sys.exit(main())
