"""Where the time of one message goes, stage by stage, from the client's request to the other node's event.

Two real `meshcare daemon` processes on loopback (ann and bob, one link), in one circle. The client sends
one message at a time (a `call.create`, or with `--mode topic` a `topic.publish` on a plain topic) and
waits for bob's control socket to report it, as the TUI would. Both daemons run with `MESHCARE_TRACE`
(meshcare/transport/trace.py), which notes the monotonic time at fixed points of the shell; with one
message in flight, every mark between a request and its delivery belongs to that message. The table gives
each stage's median and p90 in microseconds; the stages add up to the end-to-end latency.

Usage: python benchmarks/trace_stages.py [--messages N] [--mode call|topic] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon_procs import Proc  # noqa: E402  (benchmarks/ is on the path when run as a script)

from meshcare.client import ControlClient  # noqa: E402

SECRET = "5a" * 16
WARMUP = 20

#: (stage name, where it starts, where it ends); a point is (process, mark) or ("client", send|event).
STAGES: tuple[tuple[str, tuple[str, str], tuple[str, str]], ...] = (
    ("client -> ann: request read", ("client", "send"), ("ann", "request.read")),
    ("ann: op (validate, seal, sign)", ("ann", "request.read"), ("ann", "op.done")),
    ("ann: effects (store write + fsync)", ("ann", "op.done"), ("ann", "op.applied")),
    ("ann: to the link writer (Noise seal)", ("ann", "op.applied"), ("ann", "link.sending")),
    ("send, wire, read: ann -> bob", ("ann", "link.sending"), ("bob", "link.read")),
    ("bob: take in (verify, judge, store)", ("bob", "link.read"), ("bob", "data.handled")),
    ("bob: to the event writer", ("bob", "data.handled"), ("bob", "event.sending")),
    ("bob -> client: event sent and read", ("bob", "event.sending"), ("client", "event")),
)


def align(marks: dict[str, list[tuple[str, int]]], client: list[tuple[int, int]]) -> list[dict[str, int]]:
    """Per message, the first time each point was reached inside its window, in stage order: a point is
    looked for after the previous one, so marks of other work (receipts, pings) before it are skipped."""
    out = []
    for send, event in client:
        points: dict[tuple[str, str], int] = {("client", "send"): send, ("client", "event"): event}
        after = send
        for _, start, end in STAGES:
            for point in (start, end):
                if point in points:
                    after = max(after, points[point]) if point != ("client", "event") else after
                    continue
                process, name = point
                found = next((t for stage, t in marks[process] if stage == name and after <= t <= event), None)
                if found is None:
                    break
                points[point] = after = found
        if all(s in points and e in points for _, s, e in STAGES):
            out.append({name: points[e] - points[s] for name, s, e in STAGES})
    return out


def longest_timers(marks: list[tuple[str, int]], count: int = 5) -> list[int]:
    """The ``count`` longest rounds of due timers (``timers.start`` to ``timers.done``), in us: the
    daemon serves nothing else meanwhile, so these are its stalls."""
    spans, start = [], None
    for name, t in marks:
        if name == "timers.start":
            start = t
        elif name == "timers.done" and start is not None:
            spans.append(t - start)
            start = None
    return [round(span / 1000) for span in sorted(spans, reverse=True)[:count]]


def summarize(rows: list[dict[str, int]]) -> list[dict[str, Any]]:
    table = []
    for name, _, _ in STAGES:
        values = sorted(row[name] / 1000 for row in rows)
        table.append({"stage": name, "p50_us": round(statistics.median(values), 1),
                      "p90_us": round(values[int(0.9 * (len(values) - 1))], 1)})
    totals = sorted(sum(row.values()) / 1000 for row in rows)
    table.append({"stage": "end to end", "p50_us": round(statistics.median(totals), 1),
                  "p90_us": round(totals[int(0.9 * (len(totals) - 1))], 1)})
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=300, help="messages, one in flight (default %(default)s)")
    ap.add_argument("--mode", choices=("call", "topic"), default="call",
                    help="call: call.create in a circle (the real path); topic: topic.publish on a plain topic")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.messages <= WARMUP:
        ap.error(f"--messages must be more than the {WARMUP} warm-up messages")
    with tempfile.TemporaryDirectory(prefix="mctrace") as tmp:
        root = Path(tmp)
        traces = {"ann": root / "trace-ann", "bob": root / "trace-bob"}
        for path in traces.values():
            path.mkdir()
        ann = Proc(root, "ann", secret=None, env={"MESHCARE_TRACE": str(traces["ann"])})
        bob = Proc(root, "bob", (ann.port,), secret=None, env={"MESHCARE_TRACE": str(traces["bob"])})
        try:
            client_times = run(ann, bob, args)
        finally:
            for daemon in (ann, bob):
                daemon.stop()
        marks = {}
        for name, path in traces.items():
            files = list(path.glob("trace-*.json"))
            if not files:
                raise SystemExit(f"{name}'s daemon wrote no trace (did it stop cleanly?)")
            marks[name] = [(stage, t) for stage, t in json.loads(files[0].read_text())]
    rows = align(marks, client_times[WARMUP:])
    stalls = {name: longest_timers(points) for name, points in marks.items()}
    table = summarize(rows)
    if args.json:
        print(json.dumps({"mode": args.mode, "messages": len(rows), "stages": table, "longest_timers_us": stalls}))
        return
    print(f"{args.mode}: {len(rows)} messages, one in flight (after {WARMUP} warm-up), microseconds")
    for row in table:
        print(f"  {row['stage']:40s} p50 {row['p50_us']:>9.1f}   p90 {row['p90_us']:>9.1f}")
    for name, longest in stalls.items():
        print(f"  {name}'s longest timer rounds (node.handle_deadline and its effects), us: {longest}")


def wait(probe: Any, what: str, timeout: float = 30.0) -> None:
    """Poll ``probe`` until it returns something true (an exception counts as not yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if probe():
                return
        except Exception:  # noqa: BLE001 (not there yet)
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def run(ann: Proc, bob: Proc, args: argparse.Namespace) -> list[tuple[int, int]]:
    """The messages, one at a time: (sent, reported by bob) in perf_counter_ns, per message."""
    if args.mode == "call":
        ann.request("circle.create", name="Elm St")
        token = ann.request("circle.invite", circle="Elm St")["token"]
        bob.request("circle.join", token=token)
        wait(lambda: len(bob.request("circle.members", circle="Elm St")["members"]) >= 2, "bob to join")
    else:
        for daemon in (ann, bob):
            daemon.request("topic.join", secret=SECRET)
    wait(lambda: ann.request("status")["links"], "the link")
    time.sleep(1.0)
    seen: dict[str, int] = {}
    cond = threading.Condition()
    events = ControlClient.connect(bob.home / "control.sock", timeout=60)
    events.subscribe()

    def listen() -> None:
        try:
            for event in events.events():
                if event.name == "envelope":
                    with cond:
                        seen[event.data["id"]] = time.perf_counter_ns()
                        cond.notify_all()
        except OSError:
            return          # the run is over and its connection closed
    threading.Thread(target=listen, daemon=True).start()
    sender = ControlClient.connect(ann.home / "control.sock", timeout=60)
    out = []
    for i in range(args.messages):
        text = f"{i:08d} " + "x" * 183
        sent = time.perf_counter_ns()
        if args.mode == "call":
            key = sender.request("call.create", circle="Elm St", text=text)["call"]["id"]
        else:
            key = sender.request("topic.publish", secret=SECRET, text=text)["id"]
        with cond:
            if not cond.wait_for(lambda: key in seen, 30):
                raise SystemExit(f"message {i} was not delivered within 30 s")
            out.append((sent, seen[key]))
    sender.close()
    events.close()
    return out


if __name__ == "__main__":
    main()
