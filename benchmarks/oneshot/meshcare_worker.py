"""The application side of one meshcare node for bench_oneshot (the worker protocol of WORKERS.md).

It is what the TUI is to a daemon: one control connection kept open for requests, and a second one
subscribed to the event stream, each read by its own thread. The daemon is a separate `meshcare
daemon` process that the driver started (and whose CPU the driver counts separately).

Paths (``--path``):
- ``topic``: ``topic.publish`` of one message on a plain topic (the daemon needs ``--bench-ops``);
  delivered = the receiver's ``envelope`` event for it. That event carries no body, so the receiver
  writes ``"delivered": null`` with the envelope's ``id`` and the driver matches it with the id in
  the sender's ``sent`` line.
- ``call``: ``call.create`` in a circle (a call for support, the real message of meshcare);
  delivered = the receiver's ``call.changed`` event with change ``new`` for someone else's call, whose
  view holds the text (so the number is read from it). That is when a screen learns of the call.
- ``call-circle``: the same calls, delivered = the receiver's ``circle`` event for the call's envelope
  (sent once per envelope taken in, before the circle's changes are summarized into ``call.changed``,
  which happens at most every 0.25 s per circle: ``circles/changes.py``). The event names the envelope,
  whose id is the call's id, so the driver matches it like the topic path's.

Usage: meshcare_worker.py --role sender|receiver|relay --dir MESHCARE_HOME --path topic|call|call-circle
                          [--secret HEX] [--circle NAME]

Reads commands on stdin and writes lines on stdout (``worker_protocol``); exits 0 after ``quit`` or
at the end of stdin, non-zero with a message on stderr when it cannot start.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))   # meshcare
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # benchmarks/ (oneshot.*)

from meshcare.client import ControlClient  # noqa: E402
from meshcare.errors import MeshcareError  # noqa: E402
from oneshot import worker_protocol as wp  # noqa: E402

ROLES = ("sender", "receiver", "relay")
PATHS = ("topic", "call", "call-circle")
#: Seconds a control request may take before the worker gives up on it.
TIMEOUT = 60.0


class Output:
    """stdout shared by the two threads: one whole line at a time, flushed."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._stream.write(wp.encode(message))
            self._stream.flush()


def delivered_line(event_name: str, data: dict[str, Any], *, path: str, me: str, topic: str | None,
                   t: float) -> dict[str, Any] | None:
    """The ``delivered`` line an event makes on a receiver, or None when it is not a delivery: not the
    path's event, this node's own message, another topic, a roster operation, a call that is not new,
    a text without a number. (An envelope of the circle that is not a call may still make a line: its
    id matches no ``sent`` line, and the driver ignores it.)"""
    if path == "topic":
        if event_name != "envelope" or data.get("author") == me or (topic is not None and data.get("topic") != topic):
            return None
        return {"delivered": None, "id": data.get("id"), "t": t}
    if path == "call-circle":
        if event_name != "circle" or data.get("author") == me or data.get("roster"):
            return None
        return {"delivered": None, "id": data.get("id"), "t": t}
    if event_name != "call.changed" or data.get("change") != "new":
        return None
    view = data.get("view")
    if not isinstance(view, dict) or view.get("caller") == me or not isinstance(view.get("text"), str):
        return None
    n = wp.number_of(view["text"])
    if n is None:
        return None
    return {"delivered": n, "id": data.get("call"), "t": t}


class Worker:
    """One node's application side: the request connection, the event thread, the command loop."""

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.role: str = args.role
        self.path: str = args.path
        self.secret: str | None = args.secret
        self.circle: str | None = args.circle
        self.out = out
        sock = Path(args.dir) / "control.sock"
        self.requests = ControlClient.connect(sock, timeout=TIMEOUT)
        self.events = ControlClient.connect(sock, timeout=TIMEOUT)
        self.events.subscribe()
        status = self.requests.request("status")
        self.me: str = status["node_id"]
        self.topic: str | None = None
        if self.path == "topic" and self.secret is not None:
            self.topic = self.requests.request("topic.join", secret=self.secret)["topic"]
        threading.Thread(target=self._follow, name="events", daemon=True).start()

    def _follow(self) -> None:
        """Read every event (a client that stops reading is dropped by the daemon); report deliveries."""
        try:
            for event in self.events.events():
                if self.role != "receiver":
                    continue
                line = delivered_line(event.name, dict(event.data), path=self.path, me=self.me, topic=self.topic,
                                      t=wp.now())
                if line is not None:
                    self.out.write(line)
        except MeshcareError as exc:
            self.out.write({"error": f"event stream ended: {exc}"})

    def send(self, command: wp.Command) -> dict[str, Any]:
        text = wp.body(command.n, command.size)
        if self.path == "topic":
            ident = self.requests.request("topic.publish", secret=self.secret, text=text)["id"]
        else:
            ident = self.requests.request("call.create", circle=self.circle, text=text)["call"]["id"]
        return {"sent": command.n, "t": wp.now(), "id": ident}

    def stats(self) -> dict[str, Any]:
        status = self.requests.request("status")
        return {"stats": {"cpu_s": _own_cpu(), "rss_kib": _own_rss_kib(),
                          "wire_in": status.get("wire_bytes_in"), "wire_out": status.get("wire_bytes_out")}}

    def serve(self, commands: TextIO) -> None:
        self.out.write({"ready": True, "address": self.me})
        for line in commands:
            if not line.strip():
                continue
            try:
                command = wp.parse_command(line)
                if command.cmd == "quit":
                    break
                if command.cmd == "stats":
                    self.out.write(self.stats())
                elif self.role != "sender":
                    self.out.write({"error": f"a {self.role} does not send"})
                else:
                    self.out.write(self.send(command))
            except (wp.ProtocolError, MeshcareError) as exc:
                self.out.write({"error": str(exc)})
        self.requests.close()
        self.events.close()


def _own_cpu() -> float:
    import resource  # noqa: PLC0415 (Unix only; this worker runs on Linux)

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _own_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 epilog="Started by benchmarks/bench_oneshot.py (docs/benchmarks.md, section 10).")
    ap.add_argument("--role", choices=ROLES, required=True)
    ap.add_argument("--dir", required=True, help="the node's MESHCARE_HOME (its daemon must be running)")
    ap.add_argument("--path", choices=PATHS, default="topic",
                    help="topic.publish, or call.create delivered at call.changed or at the circle event "
                         "(default: topic)")
    ap.add_argument("--secret", help="topic path: the plain topic's secret (hex)")
    ap.add_argument("--circle", help="call path, sender: the circle to call in (its name)")
    args = ap.parse_args(argv)
    if args.path == "topic" and not args.secret:
        ap.error("--path topic needs --secret")
    if args.path != "topic" and args.role == "sender" and not args.circle:
        ap.error(f"--path {args.path} needs --circle for the sender")
    out = Output(sys.stdout)
    try:
        worker = Worker(args, out)
    except MeshcareError as exc:
        print(f"meshcare_worker: cannot start: {exc}", file=sys.stderr)
        return 1
    worker.serve(sys.stdin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
