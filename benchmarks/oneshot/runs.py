"""The workloads of bench_oneshot, identical for every system: closed loop and open loop, warm-up first.

- closed loop: one message in flight; ``send`` N+1 is written only once N was delivered.
- open loop: the sender does not wait for deliveries: ``send`` N+1 is written as soon as the sender
  said ``sent`` N (its API call returned), so one request is outstanding at the sender at a time,
  and any number of messages are on their way.

Latency runs from the moment the driver wrote ``send`` N to the worker to the receiver's ``delivered``
N (both on CLOCK_MONOTONIC). Throughput is delivered messages over the time from the first ``send``
written to the last delivery. CPU is every process's (``/proc/PID/stat``) over the same window, wire
bytes the end nodes' counters (``stats``) over it; both are taken after the warm-up. A message not
delivered within ``timeout`` seconds of the last progress is lost, and the run says so. A sender that
reports ``acked`` (LXMF's delivery proofs) is given a few seconds after the window for the last proofs,
which follow the deliveries; they are counted (``acked``, ``acked_ms``) but not waited for in the loops.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from daemon_procs import cpu_seconds, rss_kib

from . import worker_protocol as wp
from .deployment import Deployment
from .figures import pct
from .workers import Exited, Received, WorkerDied, ask_stats

MODES = ("closed", "open")


@dataclass
class Tracker:
    """What happened to each message number: written (driver), sent (sender), delivered (receiver).

    A delivery may name its message by number, or only by id (the meshcare worker's topic path): an
    id is matched with the ``sent`` line that carried it, whichever of the two came first. Only the
    first delivery of a number counts; deliveries of ids no ``sent`` line names are ignored."""

    written: dict[int, float] = field(default_factory=dict)
    sent: dict[int, float] = field(default_factory=dict)
    delivered: dict[int, float] = field(default_factory=dict)
    acked: dict[int, float] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    _by_id: dict[str, int] = field(default_factory=dict)
    _early: dict[str, float] = field(default_factory=dict)     # delivered by id before its sent line

    def write(self, n: int, t: float) -> None:
        self.written[n] = t

    def take(self, line: wp.WorkerLine) -> list[int]:
        """Account one line; answer the numbers it made delivered (none, or one)."""
        if line.kind == "sent" and line.n is not None and line.t is not None:
            self.sent.setdefault(line.n, line.t)
            if line.id is not None:
                self._by_id[line.id] = line.n
                early = self._early.pop(line.id, None)
                if early is not None:
                    return self._deliver(line.n, early)
        elif line.kind == "delivered" and line.t is not None:
            n = line.n
            if n is None and line.id is not None:
                n = self._by_id.get(line.id)
                if n is None:
                    self._early.setdefault(line.id, line.t)
                    return []
            if n is not None:
                return self._deliver(n, line.t)
        elif line.kind == "acked" and line.n is not None and line.t is not None:
            self.acked.setdefault(line.n, line.t)
        elif line.kind == "error":
            self.errors.append(line.error or "")
        return []

    def _deliver(self, n: int, t: float) -> list[int]:
        if n in self.delivered or n not in self.written:
            return []
        self.delivered[n] = t
        return [n]

    def latencies_ms(self, numbers: range) -> list[float]:
        return [(self.delivered[n] - self.written[n]) * 1000 for n in numbers if n in self.delivered]

    def api_ms(self, numbers: range) -> list[float]:
        return [(self.sent[n] - self.written[n]) * 1000 for n in numbers if n in self.sent and n in self.written]


@dataclass
class Spec:
    """One run's workload."""

    mode: str
    messages: int
    warmup: int
    size: int = 200
    timeout: float = 30.0


class Loop:
    """Drives one deployment's sender and watches its receiver for one run."""

    def __init__(self, dep: Deployment, spec: Spec) -> None:
        self.dep = dep
        self.spec = spec
        self.tracker = Tracker()
        self.to = dep.receiver.address

    def _send(self, n: int) -> None:
        self.tracker.write(n, self.dep.sender.write(wp.send_command(n, self.spec.size, self.to)))

    def _handle(self, got: Received) -> tuple[str, list[int]]:
        """Account one thing said; answer (what the sender said: "sent", "error" or "", delivered numbers)."""
        if isinstance(got.item, Exited):
            raise WorkerDied(f"worker {got.worker} exited with {got.item.code} during the run:\n{got.item.stderr_tail}")
        line = got.item
        if line.kind == "error":
            self.tracker.errors.append(f"{got.worker}: {line.error}")
            return ("error" if got.worker == self.dep.sender.name else "", [])
        delivered = self.tracker.take(line) if got.worker in (self.dep.sender.name, self.dep.receiver.name) else []
        said = line.kind if got.worker == self.dep.sender.name and line.kind == "sent" else ""
        return said, delivered

    def closed(self, numbers: range) -> None:
        """One in flight: write ``send`` n, wait for its delivery (or ``timeout``), then the next."""
        for n in numbers:
            self._send(n)
            deadline = time.monotonic() + self.spec.timeout
            while n not in self.tracker.delivered and n not in self.tracker.failed:
                got = self.dep.inbox.get(deadline - time.monotonic())
                if got is None:
                    self.tracker.failed[n] = f"not delivered within {self.spec.timeout:g} s"
                    break
                said, _ = self._handle(got)
                if said == "error" and n not in self.tracker.sent:
                    self.tracker.failed[n] = self.tracker.errors[-1]

    def open(self, numbers: range) -> None:
        """The sender does not wait: ``send`` n+1 goes as soon as ``sent`` n (or an error) came back;
        then wait for every delivery, until nothing moved for ``timeout`` seconds."""
        pending = iter(numbers)
        outstanding = next(pending, None)
        if outstanding is not None:
            self._send(outstanding)
        waiting = set(numbers)
        deadline = time.monotonic() + self.spec.timeout
        while waiting - self.tracker.failed.keys():
            got = self.dep.inbox.get(deadline - time.monotonic())
            if got is None:
                for n in sorted(waiting - self.tracker.failed.keys()):
                    self.tracker.failed[n] = f"not delivered within {self.spec.timeout:g} s of the last progress"
                if outstanding is not None:     # the sender itself stopped answering
                    for n in [outstanding, *pending]:
                        self.tracker.failed.setdefault(n, "never sent: the sender stopped answering")
                break
            said, delivered = self._handle(got)
            waiting.difference_update(delivered)
            if said or delivered:
                deadline = time.monotonic() + self.spec.timeout
            if said and outstanding is not None:
                if said == "error" and outstanding not in self.tracker.sent:
                    self.tracker.failed[outstanding] = self.tracker.errors[-1]
                outstanding = next(pending, None)
                if outstanding is not None:
                    self._send(outstanding)

    def await_acks(self, numbers: range, grace: float) -> None:
        """For LXMF, whose sender reports ``acked`` (its delivery proofs), wait up to ``grace`` seconds for
        the proofs of every delivered message still missing one; they follow the delivery. Decided by the
        row, not by whether a proof came yet: on a loaded machine none may have when the loop ends."""
        if self.dep.row != "lxmf":
            return
        tracker = self.tracker
        deadline = time.monotonic() + grace
        while any(n in tracker.delivered and n not in tracker.acked for n in numbers):
            got = self.dep.inbox.get(deadline - time.monotonic())
            if got is None:
                return
            self._handle(got)

    def account(self, received: list[Received]) -> None:
        for got in received:
            self._handle(got)


def _cpu(processes: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in processes.items()}


def _wire(stats: dict[str, dict[str, float | int | None]], node: str) -> int | None:
    node_stats = stats.get(node, {})
    wire_in, wire_out = node_stats.get("wire_in"), node_stats.get("wire_out")
    if wire_in is None or wire_out is None:
        return None
    return int(wire_in) + int(wire_out)


def run(dep: Deployment, spec: Spec) -> dict[str, Any]:
    """One run of ``spec`` on ``dep`` (already started and ready); answers its figures (see the module
    docstring), with ``delivered``/``lost`` counts and the errors the workers reported."""
    if spec.mode not in MODES:
        raise ValueError(f"unknown mode {spec.mode!r}; known: {', '.join(MODES)}")
    loop = Loop(dep, spec)
    warm = range(1, spec.warmup + 1)
    measured = range(spec.warmup + 1, spec.warmup + spec.messages + 1)
    loop.closed(warm)
    workers = list(dep.workers.values())
    ends = sorted({node for _, node in dep.hops})
    before_stats, late = ask_stats(dep.inbox, [dep.workers[n] for n in ends])
    loop.account(late)
    before_cpu = _cpu(dep.processes)
    (loop.closed if spec.mode == "closed" else loop.open)(measured)
    after_cpu = _cpu(dep.processes)
    after_stats, late = ask_stats(dep.inbox, workers)
    loop.account(late)
    loop.await_acks(measured, grace=min(spec.timeout, 5.0))
    dep.check()
    tracker = loop.tracker
    done = [n for n in measured if n in tracker.delivered]
    lat = tracker.latencies_ms(measured)
    api = tracker.api_ms(measured)
    out: dict[str, Any] = {
        "row": dep.row, "topology": dep.topology, "mode": spec.mode, "messages": spec.messages,
        "warmup": spec.warmup, "delivered": len(done), "lost": spec.messages - len(done),
        "warmup_lost": sum(1 for n in warm if n not in tracker.delivered),
    }
    if done:
        span = max(tracker.delivered[n] for n in done) - min(tracker.written[n] for n in measured)
        cpu = {name: after_cpu[name] - before_cpu[name] for name in dep.processes}
        out["latency_ms"] = {"p50": round(pct(lat, 0.5), 3), "p99": round(pct(lat, 0.99), 3)}
        out["api_ms_p50"] = round(pct(api, 0.5), 3) if api else None
        out["per_s"] = round(len(done) / span, 1) if span > 0 else None
        out["cpu_ms_per_message"] = round(sum(cpu.values()) * 1000 / len(done), 4)
        out["cpu_ms_per_message_by_process"] = {name: round(v * 1000 / len(done), 4) for name, v in cpu.items()}
        hops: dict[str, float | None] = {}
        for hop, node in dep.hops:
            b0, b1 = _wire(before_stats, node), _wire(after_stats, node)
            hops[hop] = None if b0 is None or b1 is None else round((b1 - b0) / len(done), 1)
        out["wire_bytes_per_message"] = hops
    if tracker.acked:
        acked = [(tracker.acked[n] - tracker.written[n]) * 1000 for n in measured if n in tracker.acked]
        out["acked"] = len(acked)
        out["acked_ms"] = {"p50": round(pct(acked, 0.5), 3), "p99": round(pct(acked, 0.99), 3)} if acked else None
    rss = {name: round(rss_kib(pid) / 1024, 1) for name, pid in dep.processes.items()}
    out["rss_mib"] = rss
    nodes: dict[str, float] = {}
    for name, value in rss.items():
        node = name.split()[0]
        nodes[node] = round(nodes.get(node, 0.0) + value, 1)
    out["rss_node_mib"] = nodes
    failures = [f"message {n}: {why}" for n, why in sorted(tracker.failed.items())
                if n in measured and n not in tracker.delivered]
    noise = [f"{w.name} wrote a line that is not the protocol: {line}" for w in workers for line in w.noise[:3]]
    out["errors"] = (tracker.errors + failures + noise)[:20]
    out["notes"] = dep.notes
    return out
