"""The soak: 20 real daemons in network namespaces for 10 minutes under churn and 10 % loss (issue 14).

Each node is a real ``meshcare daemon`` with real mDNS in its own namespace of a ``tests/netns/harness.py``
``Mesh`` (one bridge; nothing touches the machine's interfaces; the ``with`` block stops every daemon and
deletes every namespace, also on error or Ctrl-C). The scenario is ``tests/netns/soak.py``: overlapping
circles (plain topics), a post every ``--post-every`` s from a random running node, one host out every
``--churn-every`` s for ``--down`` s (SIGTERM, SIGKILL or a cable cut at the switch, taking turns; at
most ``--max-out`` at once), ``--loss`` % of frames dropped at the switch throughout. Then every host
comes back and we wait for full convergence (every host holds every acknowledged post of its circles).

Printed: the convergence time after the heal, RSS start/max/end per daemon process (start = the first
sample after a 30 s warm-up), posts, outages, engine totals and the switch's loss counter. The memory
verdict: every daemon that ran the whole soak grew by at most ``--growth-bound`` MiB (default 32) from
start to end. Why 32: the soak's data is ~1 post/s, a few hundred KiB in all, and every queue, cache and
table in the daemon is bounded, so a daemon that grows by more than that over the run is holding on to
something per post, per link or per restart of a neighbour: a leak.

Exit status: 0 when it converged and the memory verdict holds, 1 when not, 2 when namespaces are unusable
(needs root, iproute2, nftables). ``make soak`` runs it with ``--seconds $(SOAK_SECONDS)``.

Usage: sudo .venv/bin/python benchmarks/bench_soak.py [--nodes 20] [--seconds 600] [--loss 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.netns.harness import Mesh, netns_problem  # noqa: E402
from tests.netns.loadkit import positive  # noqa: E402
from tests.netns.soak import run_soak  # noqa: E402


def memory_verdict(result: dict[str, Any], bound_mib: float) -> tuple[bool, float]:
    """(holds, worst growth in MiB) over the daemon processes (``h<i>/<pid>``) that ran the whole soak."""
    whole = set(result["rss_whole_run"])
    growths = [f["growth_mib"] for name, f in result["rss_mib"].items() if name in whole]
    worst = max(growths, default=0.0)
    return worst <= bound_mib, worst


def rss_table(result: dict[str, Any]) -> str:
    """One line per daemon process: host/pid, how long it lived, RSS start/max/end and growth (MiB)."""
    lines = [f"{'daemon':>14} {'lived s':>8} {'start':>6} {'max':>6} {'end':>6} {'growth':>7}"]
    for name, f in sorted(result["rss_mib"].items(), key=lambda kv: (int(kv[0][1:].split("/")[0]), kv[0])):
        lines.append(f"{name:>14} {f['lived_s']:>8} {f['start_mib']:>6} {f['max_mib']:>6} {f['end_mib']:>6} "
                     f"{f['growth_mib']:>7}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=20, help="namespaced daemons (3..22; default 20)")
    parser.add_argument("--seconds", type=positive, default=float(os.environ.get("SOAK", 600)),
                        help="how long the churn and posts go on (default 600, or $SOAK)")
    parser.add_argument("--loss", type=float, default=10.0, help="frame loss at the switch, %% (default 10)")
    parser.add_argument("--circles", type=int, default=4, help="overlapping circles (default 4)")
    parser.add_argument("--post-every", type=positive, default=1.0, help="a post every this many s (default 1)")
    parser.add_argument("--churn-every", type=positive, default=10.0, help="an outage every this many s (default 10)")
    parser.add_argument("--down", type=positive, nargs=2, default=(5.0, 30.0), metavar=("MIN", "MAX"),
                        help="each outage lasts MIN..MAX s (default 5 30)")
    parser.add_argument("--max-out", type=int, default=3, help="hosts out at once, at most (default 3)")
    parser.add_argument("--converge-timeout", type=positive, default=300.0,
                        help="wait this long after the heal for convergence (default 300 s)")
    parser.add_argument("--growth-bound", type=positive, default=32.0,
                        help="largest RSS growth (MiB) allowed to a daemon that ran the whole soak (default 32)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    args = parser.parse_args(argv)
    if not 3 <= args.nodes <= 22:
        parser.error(f"--nodes must be 3..22 (this machine's namespace budget), not {args.nodes}")
    if not 0 <= args.loss < 100:
        parser.error(f"--loss must be 0..100, not {args.loss}")
    if not 1 <= args.circles <= args.nodes or not 1 <= args.max_out < args.nodes:
        parser.error("--circles must be 1..nodes and --max-out 1..nodes-1")
    if args.down[0] > args.down[1]:
        parser.error(f"--down MIN MAX: {args.down[0]} > {args.down[1]}")
    problem = netns_problem()
    if problem is not None:
        print(f"bench_soak: {problem}", file=sys.stderr)
        return 2
    from tests.netns.test_mesh import Cluster  # noqa: PLC0415 (it registers a pytest marker: not at import)

    say = (lambda text: print(text, file=sys.stderr, flush=True)) if args.json else print
    started = time.monotonic()
    with Mesh(args.nodes, prefix="mcK") as mesh:
        cluster = Cluster(mesh)
        cluster.start()
        cluster.wait_ready(timeout=60)
        cluster.wait(cluster.connected, 60, "a connected mesh (mDNS discovery) before the soak")
        try:
            result = run_soak(cluster, seconds=args.seconds, loss=args.loss, circles=args.circles,
                              post_every=args.post_every, churn_every=args.churn_every, down=tuple(args.down),
                              max_out=args.max_out, seed=args.seed, converge_timeout=args.converge_timeout, say=say)
        except BaseException:
            print(cluster.logs(tail=1500), file=sys.stderr)
            raise
    holds, worst = memory_verdict(result, args.growth_bound)
    result["memory"] = {"growth_bound_mib": args.growth_bound, "worst_growth_mib": worst, "holds": holds}
    result["wall_s"] = round(time.monotonic() - started, 1)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(rss_table(result))
        print(f"posts {result['posts']} (not acknowledged {result['posts_not_acknowledged']}); outages "
              f"{result['outages']}; lacking at the heal {result['lacking_at_heal']}; converged "
              f"{result['converged']} {result['convergence_s']} s after the heal; switch dropped "
              f"{result['switch_drops']['packets']} frames ({result['switch_drops']['bytes']} B)")
        print(f"engine totals: {result['engine_totals']}")
        print(f"memory: worst growth of a daemon that ran the whole soak {worst} MiB (bound "
              f"{args.growth_bound:g} MiB): {'holds' if holds else 'EXCEEDED'}; total {result['wall_s']} s")
    return 0 if result["converged"] and holds else 1


if __name__ == "__main__":
    sys.exit(main())
