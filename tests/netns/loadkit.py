"""Measuring daemons under load in a namespaced mesh: RSS over time, latency arrivals, the figures.

Shared by the flood and soak tests (``test_flood.py``, ``test_soak.py``) and their benchmarks
(``benchmarks/bench_flood.py``, ``benchmarks/bench_soak.py``). The arithmetic (percentiles, ratios, RSS
series, the nft drop counter) is pure and unit-tested in ``tests/test_loadkit.py``; the two threads here
(``RssSampler``, ``Arrivals``) only read /proc and a control socket's event stream.
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from meshcare.client import ControlClient
from meshcare.errors import MeshcareError

MIB = 1024


# --- pure figures ----------------------------------------------------------------------------------


def positive(text: str) -> float:
    """An argparse type for the benchmarks' durations and intervals: a number above zero."""
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100) of a non-empty sequence (the definition bench_netns uses)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile p must be 0..100, not {p}")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def latency_summary(seconds: Sequence[float]) -> dict[str, float | None]:
    """p50/p90/p99/max of latencies given in seconds, in milliseconds (None when there are none)."""
    if not seconds:
        return {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(percentile(ms, 50), 2), "p90_ms": round(percentile(ms, 90), 2),
            "p99_ms": round(percentile(ms, 99), 2), "max_ms": round(max(ms), 2)}


def ratio(flooded: float | None, quiet: float | None) -> float | None:
    """flooded / quiet, rounded; None when either is missing or the quiet figure is 0."""
    if flooded is None or quiet is None or quiet <= 0:
        return None
    return round(flooded / quiet, 2)


@dataclass(frozen=True, slots=True)
class RssSeries:
    """One process's resident memory over its life: (seconds since the run began, KiB) samples."""

    host: int
    pid: int
    samples: tuple[tuple[float, int], ...]

    def figures(self, warmup_s: float = 0.0) -> dict[str, float]:
        """start/max/end in MiB and growth = end - start, where "start" is the first sample at least
        ``warmup_s`` after the process's first sample (start-up allocations are not growth)."""
        if not self.samples:
            raise ValueError(f"no RSS samples for h{self.host} pid {self.pid}")
        t0 = self.samples[0][0]
        settled = [s for s in self.samples if s[0] >= t0 + warmup_s] or [self.samples[-1]]
        start, end = settled[0][1], self.samples[-1][1]
        peak = max(k for _, k in self.samples)
        return {"start_mib": round(start / MIB, 1), "max_mib": round(peak / MIB, 1), "end_mib": round(end / MIB, 1),
                "growth_mib": round((end - start) / MIB, 1), "lived_s": round(self.samples[-1][0] - t0, 1)}


_COUNTER = re.compile(r"counter packets (\d+) bytes (\d+)")


def nft_drops(ruleset: str, marker: str = "numgen") -> tuple[int, int]:
    """(packets, bytes) dropped by the rule whose line holds ``marker`` in ``nft list ruleset`` text;
    (0, 0) when there is no such rule (e.g. the loss was already cleared)."""
    for line in ruleset.splitlines():
        if marker in line:
            found = _COUNTER.search(line)
            if found:
                return int(found.group(1)), int(found.group(2))
    return 0, 0


# --- /proc and event-stream threads ------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` in KiB; 0 when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    """Samples the RSS of the processes ``pids()`` names (host -> pid) every ``interval`` s until stopped.

    A host whose daemon is restarted gets a new series (keyed by pid), so a restart's fresh heap is not
    mistaken for a leak healing itself.
    """

    def __init__(self, pids: Callable[[], dict[int, int]], interval: float = 1.0) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self._pids = pids
        self.interval = interval
        self.t0 = time.monotonic()
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._series: dict[int, tuple[int, list[tuple[float, int]]]] = {}  # pid -> (host, samples)

    def sample(self) -> None:
        now = time.monotonic() - self.t0
        for host, pid in self._pids().items():
            kib = rss_kib(pid)
            if kib:
                with self._lock:
                    self._series.setdefault(pid, (host, []))[1].append((now, kib))

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def series(self) -> list[RssSeries]:
        with self._lock:
            return [RssSeries(host, pid, tuple(samples)) for pid, (host, samples) in self._series.items()]

    def latest_kib(self) -> dict[int, int]:
        """Each host's most recent sample (its current process)."""
        with self._lock:
            out: dict[int, tuple[float, int]] = {}
            for host, samples in self._series.values():
                if samples and (host not in out or samples[-1][0] > out[host][0]):
                    out[host] = samples[-1]
            return {host: kib for host, (_, kib) in out.items()}


@dataclass
class Arrivals:
    """When each envelope id was first reported delivered at each watched host (``time.monotonic``)."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    seen: dict[str, dict[int, float]] = field(default_factory=dict)
    dropped_streams: int = 0

    def delivered(self, host: int, envelope_id: str, t: float) -> None:
        with self.cond:
            self.seen.setdefault(envelope_id, {}).setdefault(host, t)
            self.cond.notify_all()

    def wait(self, envelope_id: str, hosts: set[int], timeout: float) -> dict[int, float]:
        """Wait until every host of ``hosts`` has ``envelope_id`` (or ``timeout``); return who has it, when."""
        with self.cond:
            self.cond.wait_for(lambda: hosts <= set(self.seen.get(envelope_id, {})), timeout)
            return dict(self.seen.get(envelope_id, {}))


class Watcher(threading.Thread):
    """Follows one daemon's ``envelope`` events into ``arrivals``; subscribes again if the stream ends
    (the daemon drops a subscriber that falls behind, which a flood can cause, or it restarts).

    The stream is read without a timeout (an idle stream is not an error, and resubscribing would open a
    gap); ``stop`` only says not to subscribe again: the thread ends when its daemon stops (a daemon
    thread, so it never holds up the interpreter).
    """

    def __init__(self, host: int, path: Path, arrivals: Arrivals) -> None:
        super().__init__(name=f"watch-h{host}", daemon=True)
        self.host, self.path, self.arrivals = host, path, arrivals
        self._halt = threading.Event()
        self.subscribed = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                with ControlClient.connect(self.path, timeout=10) as client:
                    client.subscribe()
                    self.subscribed.set()
                    for event in client.events():
                        if event.name == "envelope":
                            self.arrivals.delivered(self.host, event.data["id"], time.monotonic())
            except MeshcareError:
                pass  # fell behind, or the daemon is restarting: subscribe again
            if not self._halt.is_set():
                with self.arrivals.cond:
                    self.arrivals.dropped_streams += 1
                self._halt.wait(0.05)

    def stop(self) -> None:
        self._halt.set()
