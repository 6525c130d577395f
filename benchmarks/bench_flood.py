"""The flood: one namespaced node publishes at its maximum rate; how much slower are the others' calls?

Real ``meshcare daemon`` processes with real mDNS, one per namespace of a ``tests/netns/harness.py``
``Mesh`` (nothing touches the machine's interfaces; everything is stopped and deleted on exit). The
scenario is ``tests/netns/flood.py``: every node joins a ``flood`` topic and a ``calls`` topic; h2 posts
calls one at a time and the receivers (h3..hn) time each one through their event streams (from sending
``topic.publish`` to the last receiver reporting it), first with no flood (the quiet baseline), then
while h1 publishes back to back on the flood topic (``--batch`` envelopes per control request, one
connection, as fast as its daemon answers). Every daemon's RSS is sampled throughout.

Printed: the quiet and flooded latency p50/p90/p99, the ratio flooded/quiet for p50 and p90 (the issue's
target: within 2x), the same during a "local" flood into a topic nobody else syncs (the control: on two
cores the flooder takes one whatever it floods, so this is the machine's share of the slow-down), the flood's rate, every daemon's RSS (quiet, max, end) and what the flood did at
each node (envelopes held, dropped by the author budget). With default settings the receivers' author
budget (120 envelopes a minute per author, ``meshcare/sync/budget.py``) keeps all but a trickle of the
flood out; ``--author-per-minute`` raises it in every node's config.toml, to see the flood admitted.

Exit status: 0 when every call arrived (the ratio is a figure, not a verdict); 1 when a call never
reached a receiver; 2 when namespaces are unusable (needs root, iproute2, nftables).

Usage: sudo .venv/bin/python benchmarks/bench_flood.py [--nodes 5] [--messages 100] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.netns.flood import run_flood  # noqa: E402
from tests.netns.loadkit import positive  # noqa: E402
from tests.netns.harness import Mesh, netns_problem  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=5, help="namespaced daemons, 3..22 (default 5)")
    parser.add_argument("--messages", type=int, default=100, help="calls timed in each phase (default 100)")
    parser.add_argument("--warmup", type=int, default=5, help="calls sent first and not counted (default 5)")
    parser.add_argument("--interval", type=positive, default=0.1, help="pause before each call, s (default 0.1)")
    parser.add_argument("--timeout", type=positive, default=10.0, help="wait this long for one call, s (default 10)")
    parser.add_argument("--ramp", type=positive, default=3.0, help="flood this long before timing, s (default 3)")
    parser.add_argument("--batch", type=int, default=20, help="envelopes per flood request (default 20)")
    parser.add_argument("--author-per-minute", type=int, default=None,
                        help="write this author budget into every node's config.toml (default: the built-in 120)")
    parser.add_argument("--no-local", action="store_true",
                        help="skip the third phase (the same flood into a topic nobody else syncs)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    args = parser.parse_args(argv)
    if not 3 <= args.nodes <= 22:
        parser.error(f"--nodes must be 3..22 (a flooder, a sender, at least one receiver), not {args.nodes}")
    if args.messages < 1 or args.warmup < 0 or not 1 <= args.batch <= 100_000:
        parser.error("--messages must be >= 1, --warmup >= 0, --batch 1..100000")
    problem = netns_problem()
    if problem is not None:
        print(f"bench_flood: {problem}", file=sys.stderr)
        return 2
    from tests.netns.test_mesh import Cluster  # noqa: PLC0415 (it registers a pytest marker: not at import)

    say = (lambda text: print(text, file=sys.stderr, flush=True)) if args.json else print
    started = time.monotonic()
    with Mesh(args.nodes, prefix="mcD") as mesh:
        cluster = Cluster(mesh)
        if args.author_per_minute is not None:
            for home in cluster.homes.values():
                with (home / "config.toml").open("a") as config:
                    config.write(f"author_per_minute = {args.author_per_minute}\n")
        cluster.start()
        cluster.wait_ready(timeout=60)
        cluster.wait(cluster.connected, 60, "a connected mesh (mDNS discovery) before the flood")
        try:
            result = run_flood(cluster, messages=args.messages, warmup=args.warmup, interval=args.interval,
                               timeout=args.timeout, ramp=args.ramp, batch=args.batch, local=not args.no_local,
                               say=say)
        except BaseException:
            print(cluster.logs(tail=1500), file=sys.stderr)
            raise
    result["author_per_minute"] = args.author_per_minute or "default"
    result["wall_s"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for host, rss in result["rss_mib"].items():
            node = result["nodes_after"][host]
            print(f"  {host}: RSS MiB quiet {rss['quiet']} max {rss['max']} end {rss['end']}; holds "
                  f"{node['envelopes']} envelopes; dropped by budget {node['dropped_budget']}")
        print(f"total {result['wall_s']} s")
    missing = sum(result["calls_missing_after_settle"].values())
    return 0 if missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
