"""The flood scenario: one node publishes as fast as its control API lets it, the others keep calling.

Used by ``test_flood.py`` (a small mesh, behaviour only) and ``benchmarks/bench_flood.py`` (the figures).
Every daemon joins two plain topics: ``flood`` (the flooder writes into it, so every other node receives
the flood the way a member's runaway node would reach its circle) and ``calls`` (the sender posts there
one message at a time; the receivers' event streams time each one's arrival, as ``bench_netns.py`` does).
The latency of one message is from sending ``topic.publish`` to the last receiver reporting it.

The same ``measure`` runs with no flood (the quiet baseline), during the flood, and (``local=True``)
during a flood into a topic only the flooder syncs: on a 2-core machine the flooder takes a core
whatever it floods, and that phase tells the machine's share of the slow-down from the flood's effect
on the other nodes. Memory is sampled from /proc for every daemon throughout.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshcare.errors import MeshcareError

from .loadkit import Arrivals, RssSampler, Watcher, latency_summary, ratio

if TYPE_CHECKING:  # importing test_mesh at run time would register its tests' marker outside tests/netns
    from .test_mesh import Cluster

FLOODER, SENDER = 1, 2


class Flooder:
    """``flood_client.py`` in a process of its own: back-to-back ``topic.publish`` of ``batch`` envelopes
    on one connection until ``stop``."""

    def __init__(self, cluster: Cluster, host: int, secret: str, batch: int) -> None:
        self.argv = [sys.executable, "-m", "tests.netns.flood_client", str(cluster.socket(host)), secret, str(batch)]
        self.process: subprocess.Popen[str] | None = None
        self.published = self.requests = 0
        self.seconds = 0.0
        self.error: str | None = None

    def start(self) -> None:
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=env)

    def stop(self) -> None:
        """SIGTERM, then read what it published (``error`` says why, when it stopped on its own)."""
        if self.process is None:
            raise RuntimeError("the flooder was never started")
        self.process.send_signal(signal.SIGTERM)
        try:
            out, err = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        if self.process.returncode != 0 or not out.strip():
            self.error = f"exit {self.process.returncode}: {err.strip()[-2000:]}"
            return
        done = json.loads(out.strip().splitlines()[-1])
        self.published, self.requests, self.seconds = done["published"], done["requests"], done["seconds"]

    def rate(self) -> float:
        """Envelopes published per second while it ran."""
        return self.published / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Calls:
    """Messages posted by ``sender`` on the calls topic and timed at ``receivers``."""

    latencies: list[float] = field(default_factory=list)
    late: list[str] = field(default_factory=list)     # not at every receiver within the timeout
    sent: list[str] = field(default_factory=list)


def measure(cluster: Cluster, arrivals: Arrivals, secret: str, receivers: set[int], messages: int, *,
            interval: float, timeout: float, label: str) -> Calls:
    """Post ``messages`` one at a time from SENDER, waiting for each at every receiver (up to ``timeout``)."""
    calls = Calls()
    for n in range(messages):
        time.sleep(interval)
        start = time.monotonic()
        ident = cluster.publish(SENDER, secret, f"{label} call {n}")[0]
        calls.sent.append(ident)
        seen = arrivals.wait(ident, receivers, timeout)
        if receivers <= set(seen):
            calls.latencies.append(max(seen[i] for i in receivers) - start)
        else:
            calls.late.append(ident)
    return calls


def missing_at(cluster: Cluster, secret: str, ids: list[str], receivers: set[int]) -> dict[int, int]:
    """How many of ``ids`` each receiver's store still lacks (the events may miss one; the store is truth)."""
    wanted = set(ids)
    return {i: len(wanted - cluster.ids(i, secret)) for i in sorted(receivers)}


def run_flood(cluster: Cluster, *, messages: int, warmup: int, interval: float, timeout: float, ramp: float,
              batch: int, rss_interval: float = 1.0, settle: float = 30.0, local: bool = False,
              say: Any = print) -> dict[str, Any]:
    """The whole scenario on a started, connected ``cluster`` (hosts 1..n, n >= 3); returns the figures.

    ``local``: then a third phase, the same flood into a topic nobody else syncs (see the comment there).
    """
    hosts = cluster.hosts
    receivers = {i for i in hosts if i not in (FLOODER, SENDER)}
    flood_secret, calls_secret = secrets.token_hex(16), secrets.token_hex(16)
    cluster.join(flood_secret)
    cluster.join(calls_secret)
    arrivals = Arrivals()
    watchers = [Watcher(i, cluster.socket(i), arrivals) for i in sorted(receivers)]
    sampler = RssSampler(lambda: {i: cluster.procs[i].pid for i in hosts if cluster.running(i)}, rss_interval)
    for w in watchers:
        w.start()
    for w in watchers:
        if not w.subscribed.wait(30):
            raise RuntimeError(f"no event stream from h{w.host}")
    sampler.start()
    result: dict[str, Any] = {"nodes": len(hosts), "flooder": FLOODER, "sender": SENDER,
                              "receivers": sorted(receivers), "messages": messages, "batch": batch}
    try:
        measure(cluster, arrivals, calls_secret, receivers, warmup, interval=interval, timeout=timeout,
                label="warm-up")
        quiet = measure(cluster, arrivals, calls_secret, receivers, messages, interval=interval, timeout=timeout,
                        label="quiet")
        result["quiet"] = {**latency_summary(quiet.latencies), "late": len(quiet.late)}
        say(f"quiet: {messages} calls h{SENDER} -> {sorted(receivers)}: p50 {result['quiet']['p50_ms']} ms, "
            f"p90 {result['quiet']['p90_ms']} ms, late {len(quiet.late)}")
        quiet_rss = sampler.latest_kib()

        flooder = Flooder(cluster, FLOODER, flood_secret, batch)
        flooder.start()
        time.sleep(ramp)
        flooded = measure(cluster, arrivals, calls_secret, receivers, messages, interval=interval, timeout=timeout,
                          label="flooded")
        flooder.stop()
        if flooder.error:
            raise RuntimeError(f"the flooder stopped early: {flooder.error}")
        result["flooded"] = {**latency_summary(flooded.latencies), "late": len(flooded.late)}
        result["flood"] = {"published": flooder.published, "requests": flooder.requests,
                           "seconds": round(flooder.seconds, 1),
                           "per_s": round(flooder.rate(), 1)}
        result["ratio"] = {p: ratio(result["flooded"][f"{p}_ms"], result["quiet"][f"{p}_ms"]) for p in ("p50", "p90")}
        say(f"flooded: h{FLOODER} published {flooder.published} envelopes in {result['flood']['seconds']} s "
            f"({result['flood']['per_s']}/s); calls p50 {result['flooded']['p50_ms']} ms, "
            f"p90 {result['flooded']['p90_ms']} ms, late {len(flooded.late)}; "
            f"ratio p50 {result['ratio']['p50']}x, p90 {result['ratio']['p90']}x (target <= 2x)")

        local_sent: list[str] = []
        if local:
            # the control: the same flood into a topic only the flooder syncs. Whatever this costs the calls
            # is the machine (its cores busy with the flooder), not what the flood does to the other nodes.
            local_secret = secrets.token_hex(16)
            cluster.join(local_secret, [FLOODER])
            time.sleep(2.0)  # the flooder daemon's backlog drains
            lone = Flooder(cluster, FLOODER, local_secret, batch)
            lone.start()
            time.sleep(ramp)
            calm = measure(cluster, arrivals, calls_secret, receivers, messages, interval=interval, timeout=timeout,
                           label="local flood")
            lone.stop()
            if lone.error:
                raise RuntimeError(f"the local flooder stopped early: {lone.error}")
            local_sent = calm.sent
            result["local_flood"] = {**latency_summary(calm.latencies), "late": len(calm.late),
                                     "published": lone.published, "per_s": round(lone.rate(), 1)}
            result["ratio_local"] = {p: ratio(result["local_flood"][f"{p}_ms"], result["quiet"][f"{p}_ms"])
                                     for p in ("p50", "p90")}
            say(f"local flood (a topic nobody else syncs; the machine's share): {lone.published} envelopes "
                f"({result['local_flood']['per_s']}/s); calls p50 {result['local_flood']['p50_ms']} ms, p90 "
                f"{result['local_flood']['p90_ms']} ms; ratio p50 {result['ratio_local']['p50']}x, "
                f"p90 {result['ratio_local']['p90']}x")

        # every call reaches every receiver eventually, flood or not (the stores are the truth)
        everything = quiet.sent + flooded.sent + local_sent
        deadline = time.monotonic() + settle
        while (missing := missing_at(cluster, calls_secret, everything, receivers)) and any(missing.values()) \
                and time.monotonic() < deadline:
            time.sleep(0.5)
        result["calls_missing_after_settle"] = missing
        sampler.sample()
        flood_rss = sampler.latest_kib()
        result["rss_mib"] = {f"h{i}": {"quiet": round(quiet_rss.get(i, 0) / 1024, 1),
                                       "max": round(max((k for s in sampler.series() if s.host == i
                                                         for _, k in s.samples), default=0) / 1024, 1),
                                       "end": round(flood_rss.get(i, 0) / 1024, 1)} for i in hosts}
        stats: dict[str, dict[str, int]] = {}
        for i in hosts:
            status = _patient(cluster, i, "status") or {}
            got = status.get("statistics", {})
            stats[f"h{i}"] = {"envelopes": status.get("envelopes", 0),
                              **{k: got.get(k, 0) for k in ("accepted", "envelopes_received", "dropped_budget",
                                                            "duplicates_received", "links_dropped_misbehaved")}}
        result["nodes_after"] = stats
        result["links_after"] = {f"h{i}": sorted({cluster.host_of.get(p["node_id"], 0) for p in peers["peers"]
                                                  if p["linked"]})
                                 for i in hosts if (peers := _patient(cluster, i, "peers")) is not None}
        result["event_streams_resubscribed"] = arrivals.dropped_streams
    finally:
        sampler.stop()
        for w in watchers:
            w.stop()
    return result


def _patient(cluster: Cluster, i: int, op: str) -> dict[str, Any] | None:
    """``op`` at host i with a long timeout, None if it still does not answer: right after a flood the
    flooder's daemon answers its neighbours' reconciliation (the envelopes their author budget turned
    away), reading its store on the event loop, and on a loaded machine its control socket then waits
    (once more than 10 s, at load 13 on two cores)."""
    try:
        return cluster.request(i, op, timeout=30.0)
    except MeshcareError:
        return None
