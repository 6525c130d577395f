"""meshcare over Tor onion services on a private Tor network: bring-up, link set-up, call latency, idle cost.

The network is ``tests/tor/network.py``'s ``TorNet(lans=(2, 2))``, fully offline in network namespaces
(3 directory authorities, 3 relays, a client tor per gateway; an nftables audit counts anything that tries
to leave, and the run fails if anything did). Three daemons run on it::

    h1  gateway A: LAN 1 (192.0.2.1) + its client tor; meshcare --tor (publishes its own onion)
    h2  LAN 1 (192.0.2.2), no tor: linked to h1 directly (mDNS)
    h3  gateway B: LAN 2's gateway + its client tor; meshcare --tor; reaches h1 only through Tor

Figures (one JSON object on stdout; progress on stderr):

* ``network``: the private network's bring-up: namespaces, authority keys, a consensus listing all six
  relays, the client tors bootstrapped (``bring_up_s`` in all);
* ``publish_s``: from spawning gateway A's daemon to its ``status`` saying the onion is published;
* ``onion_link``: ``join_s``/``link_s``: h3 joins h1's circle by an invite whose only usable hint is the
  onion (request to member; request to the onion link showing in ``peers``); ``relink_s``: h3's daemon
  restarted ``--relinks`` times, from each spawn to the onion link up again (a cold start of the dialler);
* ``calls``: ``--calls`` calls made on h1 (``call.create``), one every ``--interval`` s after ``--warmup``
  unmeasured ones; latency = from sending the request to the receiver's daemon storing the envelope (its
  ``envelope`` event), for h2 (direct link) and h3 (onion link): p50/p99/max/mean in ms, and the ratio of
  onion to direct for p50 and p99;
* ``idle``: over ``--idle`` s with nothing to do, CPU (percent of one core) and RSS (MiB, at the end) of
  gateway A's tor and of its meshcare daemon, apart and together (a Raspberry Pi budget).

Needs root, iproute2, nftables, tor and tor-gencert (``sh tests/system-deps.sh``). Takes about
``40 s + calls * interval + idle`` s.

Usage: sudo .venv/bin/python benchmarks/bench_tor.py [--calls 100] [--idle 60] [--relinks 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pi import proc_status_kib  # noqa: E402

CIRCLE = "Bench over Tor"
GATEWAY_A, LAN_PEER, GATEWAY_B = 1, 2, 3


# --- what is computed (tests/test_bench_tor.py) ------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100) of a non-empty sequence."""
    if not values:
        raise ValueError("no values to take a percentile of")
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[max(0, min(len(ordered) - 1, rank - 1))]


def latency_summary(ms: Sequence[float]) -> dict[str, float | int | None]:
    """p50, p99, max and mean (ms, 2 decimals) and the count; None figures when there is nothing."""
    if not ms:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2),
            "max_ms": round(max(ms), 2), "mean_ms": round(statistics.fmean(ms), 2)}


def ratio(slow: float | int | None, fast: float | int | None) -> float | None:
    """``slow / fast`` to 2 decimals, None when either is missing or ``fast`` is 0."""
    if slow is None or fast is None or fast == 0:
        return None
    return round(slow / fast, 2)


def cpu_ticks(stat: str) -> int:
    """utime + stime (clock ticks) from the text of /proc/PID/stat (the name in parentheses may hold spaces)."""
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])   # fields 14 and 15 of proc(5), counted after "pid (comm)"


def cpu_percent(ticks_before: int, ticks_after: int, seconds: float, ticks_per_second: int) -> float:
    """Share of one core used between two readings, in percent (1 decimal)."""
    if seconds <= 0:
        raise ValueError("the window must be longer than 0 s")
    return round(100 * (ticks_after - ticks_before) / ticks_per_second / seconds, 1)


def idle_figures(before: dict[str, int], after: dict[str, int], rss_kib: dict[str, int], seconds: float,
                 ticks_per_second: int) -> dict[str, Any]:
    """CPU % and RSS MiB per process name, plus ``total`` (the sum of both), from two tick readings."""
    out: dict[str, Any] = {"seconds": round(seconds, 1)}
    for name in before:
        out[name] = {"cpu_percent": cpu_percent(before[name], after[name], seconds, ticks_per_second),
                     "rss_mib": round(rss_kib[name] / 1024, 1)}
    out["total"] = {"cpu_percent": round(sum(out[n]["cpu_percent"] for n in before), 1),
                    "rss_mib": round(sum(rss_kib.values()) / 1024, 1)}
    return out


def table(result: dict[str, Any]) -> str:
    """The figures as the Markdown rows docs/benchmarks.md shows."""
    net, link, calls, idle = result["network"], result["onion_link"], result["calls"], result["idle"]
    relinks = link["relink_s"]
    rows = [
        ("private network up (keys + consensus + clients)", f"{net['bring_up_s']} s "
         f"({net['keys_s']} + {net['consensus_s']} + {net['clients_s']})"),
        ("onion service published after daemon start", f"{result['publish_s']} s"),
        ("join over Tor (request to member)", f"{link['join_s']} s"),
        ("onion link set-up (join request to link)", f"{link['link_s']} s"),
        ("onion relink after a daemon restart", f"{min(relinks)}-{max(relinks)} s" if relinks else "-"),
        ("call latency direct p50 / p99", f"{calls['direct']['p50_ms']} / {calls['direct']['p99_ms']} ms"),
        ("call latency onion p50 / p99", f"{calls['onion']['p50_ms']} / {calls['onion']['p99_ms']} ms"),
        ("onion / direct, p50 / p99", f"{calls['ratio_p50']} / {calls['ratio_p99']}"),
        (f"idle {idle['seconds']} s: tor CPU / RSS", f"{idle['tor']['cpu_percent']} % / {idle['tor']['rss_mib']} MiB"),
        ("idle: meshcare CPU / RSS", f"{idle['meshcare']['cpu_percent']} % / {idle['meshcare']['rss_mib']} MiB"),
        ("idle: both", f"{idle['total']['cpu_percent']} % / {idle['total']['rss_mib']} MiB"),
    ]
    return "\n".join(["| what | figure |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])


# --- the run -------------------------------------------------------------------------------------------


def say(text: str) -> None:
    print(f"[bench_tor] {text}", file=sys.stderr, flush=True)


class Arrivals(threading.Thread):
    """Follows one daemon's event stream and stamps (``time.monotonic``) each envelope it stores."""

    def __init__(self, socket: Path) -> None:
        super().__init__(daemon=True)
        self.socket = socket
        self.seen: dict[str, float] = {}
        self.ready = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        from meshcare.client import ControlClient  # noqa: PLC0415
        from meshcare.errors import MeshcareError  # noqa: PLC0415

        try:
            with ControlClient.connect(self.socket, timeout=10) as client:
                client.subscribe()
                self.ready.set()
                for event in client.events():
                    if event.name == "envelope":
                        self.seen.setdefault(event.data["id"], time.monotonic())
        except MeshcareError as exc:
            self.error = str(exc)
            self.ready.set()


def wait(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.02) -> Any:
    from meshcare.errors import MeshcareError  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except MeshcareError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from tests.netns.test_mesh import Cluster  # noqa: PLC0415
    from tests.tor.network import CONTROL_PORT, SOCKS_PORT, TorNet  # noqa: PLC0415

    tor_args = ["--tor", "--tor-socks", f"127.0.0.1:{SOCKS_PORT}", "--tor-control", f"127.0.0.1:{CONTROL_PORT}"]
    result: dict[str, Any] = {}
    say("bringing up the private Tor network (about 20-40 s)")
    with TorNet(lans=(2, 2), prefix="mtb") as net:
        result["network"] = {k: round(v, 2) for k, v in net.timings.items()}
        hosts = [net.gateway_host(1), net.lan_hosts(1)[1], net.gateway_host(2)]
        cluster = Cluster(net, hosts=hosts)  # type: ignore[arg-type]  # TorNet offers what Cluster uses
        a, peer, b = hosts
        cluster.extra_args[a] = tor_args
        cluster.extra_args[b] = tor_args

        def onion_link(i: int, j: int) -> bool:
            rows = cluster.request(i, "peers")["peers"]
            return any(p["linked"] and p["node_id"] == cluster.node_ids[j] and p.get("via") == "onion" for p in rows)

        t0 = time.monotonic()
        cluster.start(a, peer)
        published = wait("gateway A's onion to be published",
                         lambda: (cluster.request(a, "status")["tor"] or {}).get("published"), 120)
        result["publish_s"] = round(time.monotonic() - t0, 2)
        cluster.start(b)
        cluster.wait_ready()
        say(f"network up in {result['network']['bring_up_s']} s; onion published {result['publish_s']} s "
            f"after the daemon started ({published})")
        cluster.request(a, "circle.create", name=CIRCLE)
        for joiner in (peer, b):
            token = cluster.request(a, "circle.invite", circle=CIRCLE)["token"]
            t_join = time.monotonic()
            cluster.request(joiner, "circle.join", token=token)
            if joiner == b:
                wait("the onion link", lambda: onion_link(b, a), 120)
                link_s = time.monotonic() - t_join
            wait(f"h{joiner} to join", lambda j=joiner: any(
                c["status"] == "member" for c in cluster.request(j, "circle.list")["circles"]), 120)
            join_s = time.monotonic() - t_join
        result["onion_link"] = {"join_s": round(join_s, 2), "link_s": round(link_s, 2), "relink_s": []}
        say(f"h3 joined over Tor in {join_s:.2f} s (onion link after {link_s:.2f} s)")
        for _ in range(args.relinks):
            cluster.stop(b)
            wait("the onion link to end", lambda: not onion_link(a, b), 60)
            t_start = time.monotonic()
            cluster.start(b)
            wait("the onion link after a restart", lambda: onion_link(b, a) and onion_link(a, b), 120)
            result["onion_link"]["relink_s"].append(round(time.monotonic() - t_start, 2))
        say(f"relinks after daemon restarts: {result['onion_link']['relink_s']} s")

        watchers = {i: Arrivals(cluster.socket(i)) for i in (peer, b)}
        for w in watchers.values():
            w.start()
            w.ready.wait(15)
            if w.error:
                raise RuntimeError(f"cannot follow a daemon's events: {w.error}")
        direct: list[float] = []
        onion: list[float] = []
        for k in range(args.warmup + args.calls):
            sent = time.monotonic()
            call = cluster.request(a, "call.create", circle=CIRCLE, text=f"bench call {k}", urgency="now")["call"]["id"]
            wait(f"call {k} at h2 and h3", lambda c=call: all(c in w.seen for w in watchers.values()), 30, 0.005)
            if k >= args.warmup:
                direct.append((watchers[peer].seen[call] - sent) * 1000)
                onion.append((watchers[b].seen[call] - sent) * 1000)
            time.sleep(args.interval)
        calls: dict[str, Any] = {"direct": latency_summary(direct), "onion": latency_summary(onion)}
        calls["ratio_p50"] = ratio(calls["onion"]["p50_ms"], calls["direct"]["p50_ms"])
        calls["ratio_p99"] = ratio(calls["onion"]["p99_ms"], calls["direct"]["p99_ms"])
        result["calls"] = calls
        say(f"calls: direct {calls['direct']}, onion {calls['onion']}")

        pids = {"tor": net.client(1).pid, "meshcare": cluster.procs[a].pid}
        if None in pids.values():
            raise RuntimeError(f"gateway A's tor or daemon is not running: {pids}")
        say(f"idle window: {args.idle} s")

        def ticks() -> dict[str, int]:
            return {n: cpu_ticks(Path(f"/proc/{pid}/stat").read_text()) for n, pid in pids.items()}

        before, t_idle = ticks(), time.monotonic()
        time.sleep(args.idle)
        after, seconds = ticks(), time.monotonic() - t_idle
        rss = {n: proc_status_kib(Path(f"/proc/{pid}/status").read_text())["VmRSS"] for n, pid in pids.items()}
        result["idle"] = idle_figures(before, after, rss, seconds, os.sysconf("SC_CLK_TCK"))
        leaks = {ns: n for ns, n in net.leaks().items() if n}
        if leaks:
            raise RuntimeError(f"packets tried to leave the test bed: {leaks}")
        result["leaks"] = 0
        cluster.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=100, help="measured calls (default 100)")
    ap.add_argument("--warmup", type=int, default=5, help="calls made first and not counted (default 5)")
    ap.add_argument("--interval", type=float, default=0.2, help="pause after each call, s (default 0.2)")
    ap.add_argument("--relinks", type=int, default=3, help="daemon restarts timed to the onion link (default 3)")
    ap.add_argument("--idle", type=float, default=60.0, metavar="SECONDS", help="the idle window (default 60)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 20 calls, 1 relink, a 10 s idle window")
    ap.add_argument("--table", action="store_true", help="also print the Markdown table (on stderr)")
    args = ap.parse_args(argv)
    if args.quick:
        args.calls, args.relinks, args.idle = 20, 1, 10.0
    if not 1 <= args.calls <= 5000 or not 0 <= args.warmup <= 100:
        ap.error("--calls must be 1..5000 and --warmup 0..100")
    if not 0 <= args.interval <= 10 or not 0 <= args.relinks <= 20:
        ap.error("--interval must be 0..10 s and --relinks 0..20")
    if not 5 <= args.idle <= 3600:
        ap.error("--idle must be between 5 and 3600 seconds")
    from tests.tor.network import tor_problem  # noqa: PLC0415

    problem = tor_problem()
    if problem is not None:
        print(f"bench_tor: {problem}", file=sys.stderr)
        return 1
    started = time.monotonic()
    try:
        result = run(args)
    except (RuntimeError, AssertionError, OSError) as exc:
        print(f"bench_tor: {exc}", file=sys.stderr)
        return 1
    result["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result, indent=2))
    if args.table:
        print(table(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
