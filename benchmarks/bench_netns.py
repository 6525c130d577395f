"""20 real daemons with real mDNS, each in its own network namespace: mesh formation and delivery latency.

Each node is ``meshcare daemon --listen 192.0.2.i:7447 --interface 192.0.2.i`` in namespace i of a
``tests/netns/harness.py`` ``Mesh`` (one bridge, nothing on the machine's real interfaces; the ``with``
block removes every namespace and stops every daemon, also on error or Ctrl-C). Needs root, iproute2 and
nftables.

Measured (one thread per node follows its control socket's event stream: ``peer`` and ``envelope``):

(a) formation: from spawning all daemons at once to a connected mesh (every node has a link that both
    ends report, and the link graph is connected). Broken down into "control socket up" (process start)
    and the wait for the first link, which is dominated by mDNS: a service is announced only after its
    ~1.65 s probe, so when every node starts at once nobody can be found before that.
(b) latency at 0 % loss: messages published one at a time from random nodes; latency = from sending the
    ``topic.publish`` request to the last of the n nodes reporting the envelope delivered.
(c) at ``--loss`` % frame loss at the switch: messages published every ``--loss-interval`` s from random
    nodes; the fraction delivered to every node within ``--window`` s, and the latency percentiles.

Targets: (a) <= 2 s, (b) p99 <= 50 ms, (c) 100 %. Two cores run all n daemons, so figures are pessimistic
next to n separate machines.

Usage: sudo .venv/bin/python benchmarks/bench_netns.py [--nodes 20] [--messages 50] [--loss 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meshcare.client import ControlClient  # noqa: E402
from meshcare.errors import MeshcareError  # noqa: E402
from tests.netns.harness import Mesh, netns_problem  # noqa: E402
from tests.netns.test_mesh import Cluster, graph_connected  # noqa: E402


class Watcher(threading.Thread):
    """Follows one daemon's events; timestamps (``time.monotonic``) link changes and deliveries."""

    def __init__(self, i: int, path: Path, board: Board) -> None:
        super().__init__(name=f"watch-h{i}", daemon=True)
        self.i = i
        self.path = path
        self.board = board
        self.subscribed_at: float | None = None
        self.error: str | None = None

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = ControlClient.connect(self.path, timeout=10)
                client.subscribe()
                break
            except MeshcareError as exc:  # not up yet
                if time.monotonic() > deadline:
                    self.error = str(exc)
                    return
                time.sleep(0.02)
        with client:
            self.subscribed_at = time.monotonic()
            try:
                # links made before we subscribed (unlikely: a link needs mDNS, which starts after the socket)
                for peer in client.request("peers")["peers"]:
                    if peer["linked"]:
                        self.board.link(self.i, peer["node_id"], True, self.subscribed_at)
                for event in client.events():
                    now = time.monotonic()
                    if event.name == "envelope":
                        self.board.delivered(self.i, event.data["id"], now)
                    elif event.name == "peer" and event.data.get("node_id"):
                        self.board.link(self.i, event.data["node_id"], bool(event.data["linked"]), now)
            except MeshcareError as exc:
                self.error = str(exc)  # the daemon stopped (normal at the end of the run)


class Board:
    """What every watcher saw, behind one condition variable."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.cond = threading.Condition()
        self.links: list[tuple[float, int, str, bool]] = []   # (time, host, peer node id, linked)
        self.arrivals: dict[str, dict[int, float]] = {}       # envelope id -> host -> first delivery time

    def link(self, i: int, node_id: str, linked: bool, t: float) -> None:
        with self.cond:
            self.links.append((t, i, node_id, linked))
            self.cond.notify_all()

    def delivered(self, i: int, envelope_id: str, t: float) -> None:
        with self.cond:
            self.arrivals.setdefault(envelope_id, {}).setdefault(i, t)
            self.cond.notify_all()

    def wait_all(self, envelope_id: str, timeout: float) -> dict[int, float]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.arrivals.get(envelope_id, {})) >= self.n, timeout)
            return dict(self.arrivals.get(envelope_id, {}))


def formation(board: Board, cluster: Cluster, t0: float) -> dict[str, float | None]:
    """Replay the link events: when every node first had a link, and when the mutual graph was connected."""
    with board.cond:
        events = sorted(board.links)
    seen: dict[int, set[int]] = {i: set() for i in cluster.hosts}
    first_link = all_linked = connected = None
    for t, i, node_id, linked in events:
        j = cluster.host_of.get(node_id)
        if j is None:
            continue
        (seen[i].add if linked else seen[i].discard)(j)
        mutual = {a: {b for b in seen[a] if a in seen.get(b, set())} for a in seen}
        if first_link is None and any(mutual.values()):
            first_link = t - t0
        if all_linked is None and all(mutual.values()):
            all_linked = t - t0
        if connected is None and graph_connected(mutual):
            connected = t - t0
            break
    return {"first_link_s": first_link, "every_node_linked_s": all_linked, "connected_s": connected}


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    ms = [x * 1000 for x in latencies]
    return {"p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2),
            "max_ms": round(max(ms), 2), "mean_ms": round(statistics.fmean(ms), 2)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    say = (lambda text: print(text, file=sys.stderr, flush=True)) if args.json else print
    result: dict[str, Any] = {"nodes": args.nodes, "seed": args.seed}
    with Mesh(args.nodes, prefix="mcB") as mesh:
        cluster = Cluster(mesh, log_level=args.log_level)
        board = Board(args.nodes)
        watchers = {i: Watcher(i, cluster.socket(i), board) for i in cluster.hosts}
        for watcher in watchers.values():
            watcher.start()
        try:
            # (a) formation
            t0 = time.monotonic()
            cluster.start()
            deadline = t0 + args.form_timeout
            while True:
                form = formation(board, cluster, t0)
                if form["connected_s"] is not None:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no connected mesh {args.form_timeout} s after spawn\n{cluster.logs(tail=1500)}")
                time.sleep(0.05)
            missing = [i for i, w in watchers.items() if w.subscribed_at is None]
            if missing:
                raise RuntimeError(f"no event stream from {missing}: {[watchers[i].error for i in missing]}")
            ready = sorted(w.subscribed_at - t0 for w in watchers.values())  # type: ignore[operator]
            form.update({"first_socket_up_s": ready[0], "last_socket_up_s": ready[-1],
                         "first_link_after_first_socket_s": form["first_link_s"] - ready[0]})  # type: ignore[operator]
            result["formation"] = {k: round(v, 3) for k, v in form.items() if v is not None}
            say(f"(a) formation, {args.nodes} nodes spawned at once: control sockets up {ready[0]:.2f}-{ready[-1]:.2f} s, "
                f"first link {form['first_link_s']:.2f} s ({form['first_link_after_first_socket_s']:.2f} s after the "
                f"first socket: mDNS probe + announce + resolve + handshake), every node linked "
                f"{form['every_node_linked_s']:.2f} s, connected {form['connected_s']:.2f} s after spawn (target <= 2 s)")

            time.sleep(args.settle)
            graph = cluster.graph()
            degrees = sorted(len(v) for v in graph.values())
            result["formation"]["degree_after_settle"] = {"min": degrees[0], "median": statistics.median(degrees),
                                                          "max": degrees[-1]}
            result["formation"]["connected_after_settle"] = graph_connected(graph)
            say(f"    after {args.settle:g} s more: links per node min {degrees[0]} / median "
                f"{statistics.median(degrees):g} / max {degrees[-1]}, connected {graph_connected(graph)}")

            topic = secrets.token_hex(16)
            cluster.join(topic)
            time.sleep(0.5)  # topic announcements on every link

            # (b) latency at 0 % loss
            for n in range(args.warmup):
                ident = cluster.publish(rng.choice(cluster.hosts), topic, f"warm-up {n}")[0]
                board.wait_all(ident, 5)
            latencies, lost = [], 0
            for n in range(args.messages):
                time.sleep(args.interval)
                start = time.monotonic()
                ident = cluster.publish(rng.choice(cluster.hosts), topic, f"message {n}")[0]
                arrivals = board.wait_all(ident, args.timeout)
                if len(arrivals) < args.nodes:
                    lost += 1
                else:
                    latencies.append(max(arrivals.values()) - start)
            result["clean"] = {"messages": args.messages, "warmup": args.warmup, "not_at_all_nodes": lost,
                               **summary(latencies)}
            c = result["clean"]
            say(f"(b) 0 % loss, {args.messages} messages one at a time from random nodes (+{args.warmup} warm-up): "
                f"latency to all {args.nodes}: p50 {c['p50_ms']} ms, p99 {c['p99_ms']} ms, max {c['max_ms']} ms "
                f"(target p99 <= 50 ms); not delivered to all within {args.timeout:g} s: {lost}")

            # (c) delivery under loss
            mesh.loss(args.loss)
            sent: list[tuple[str, float]] = []
            for n in range(args.loss_messages):
                start = time.monotonic()
                sent.append((cluster.publish(rng.choice(cluster.hosts), topic, f"lossy {n}")[0], start))
                time.sleep(args.loss_interval)
            last_start = sent[-1][1]
            board.wait_all(sent[-1][0], max(0.0, last_start + args.window - time.monotonic()))
            time.sleep(max(0.0, last_start + args.window + 0.2 - time.monotonic()))
            in_window, lossy_latencies = 0, []
            for ident, start in sent:
                arrivals = board.wait_all(ident, 0)
                if len(arrivals) == args.nodes:
                    latency = max(arrivals.values()) - start
                    lossy_latencies.append(latency)
                    in_window += latency <= args.window
            # give the stragglers a few more seconds, to tell "late" from "never"
            for ident, _ in sent:
                board.wait_all(ident, max(0.0, last_start + args.window + args.grace - time.monotonic()))
            never = sum(len(board.wait_all(ident, 0)) < args.nodes for ident, _ in sent)
            counters = mesh.nft_counters()
            dropped = next((line.split("counter", 1)[1].split("drop")[0].strip()
                            for line in counters.splitlines() if "numgen" in line), "?")
            mesh.clear_loss()
            result["lossy"] = {"loss_percent": args.loss, "messages": args.loss_messages,
                               "window_s": args.window, "delivered_to_all_in_window": in_window,
                               "fraction_in_window": round(in_window / args.loss_messages, 4),
                               "not_at_all_after_grace": never, "grace_s": args.grace, "switch_drops": dropped,
                               **summary(lossy_latencies)}
            lo = result["lossy"]
            say(f"(c) {args.loss:g} % loss, {args.loss_messages} messages every {args.loss_interval:g} s: delivered to "
                f"all {args.nodes} within {args.window:g} s: {in_window}/{args.loss_messages} "
                f"({100 * lo['fraction_in_window']:.1f} %, target 100 %); latency p50 {lo['p50_ms']} ms, p99 "
                f"{lo['p99_ms']} ms, max {lo['max_ms']} ms; still missing somewhere after "
                f"{args.window + args.grace:g} s: {never}; switch dropped {dropped}")

            totals: dict[str, int] = {}
            for i in cluster.hosts:
                status = cluster.status(i) or {}
                for key, value in status.get("statistics", {}).items():
                    if isinstance(value, int):
                        totals[key] = totals.get(key, 0) + value
            keep = ("envelopes_received", "accepted", "duplicates_received", "grafts_sent", "prunes_sent",
                    "ihave_ids_sent", "dropped", "dropped_budget", "links_opened", "rotations", "reconcile_started")
            result["engine_totals"] = {k: totals.get(k, 0) for k in keep}
            say("    engine totals over all nodes: " + ", ".join(f"{k} {v}" for k, v in result["engine_totals"].items()))
            if args.show_logs:
                say(cluster.logs(tail=2000))
        except BaseException:
            print(cluster.logs(tail=1500), file=sys.stderr)
            raise
    for watcher in watchers.values():
        watcher.join(timeout=5)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--messages", type=int, default=50, help="(b) messages at 0 %% loss")
    parser.add_argument("--warmup", type=int, default=3, help="(b) messages sent first and not counted")
    parser.add_argument("--interval", type=float, default=0.05, help="(b) pause before each message, s")
    parser.add_argument("--timeout", type=float, default=5.0, help="(b) wait this long for one message, s")
    parser.add_argument("--loss", type=float, default=10.0, help="(c) frame loss at the switch, %%")
    parser.add_argument("--loss-messages", type=int, default=50)
    parser.add_argument("--loss-interval", type=float, default=0.1, help="(c) one message every this many s")
    parser.add_argument("--window", type=float, default=3.0, help="(c) delivered to all within this many s")
    parser.add_argument("--grace", type=float, default=7.0, help="(c) then wait this much longer to count 'never'")
    parser.add_argument("--settle", type=float, default=3.0, help="after (a), let links settle this many s")
    parser.add_argument("--form-timeout", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    parser.add_argument("--show-logs", action="store_true", help="print the daemons' log tails at the end")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    args = parser.parse_args()
    problem = netns_problem()
    if problem is not None:
        print(f"bench_netns: {problem}", file=sys.stderr)
        return 2
    started = time.monotonic()
    result = run(args)
    result["wall_s"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"total {result['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
