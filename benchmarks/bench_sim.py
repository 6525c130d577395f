"""Simulator benchmarks: gossip efficiency, catch-up cost, and 10,000-node scale.

(a) 500 nodes on LANs joined by bridges, 100 messages, loss 0 and 0.2, plumtree and flood: delivery,
    latency, copies and bytes per delivered message, and the flood / plumtree ratio of copies.
(b) catch-up: 10 nodes on one LAN each holding the same 100,000 old envelopes; one goes offline while
    1,000 more are published, then returns: bytes it receives (vs the bytes it was missing), round trips.
(c) scale: 10,000 nodes, LANs, 10 messages; target: done in under 2 minutes of wall time, engine included.

Each scenario prints the equivalent ``meshcare sim`` command line, so any figure can be reproduced alone.
Usage: python benchmarks/bench_sim.py [--only a,b,c] [--seed N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meshcare.sim.cli import command_line, table  # noqa: E402
from meshcare.sim.runner import SimConfig, simulate  # noqa: E402

SCALE_TARGET_S = 120.0


def gossip_runs(seed: int) -> dict[str, Any]:
    """(a): four runs, and the copies ratio flood / plumtree at each loss rate."""
    out: dict[str, Any] = {"runs": []}
    for loss in (0.0, 0.2):
        copies = {}
        for gossip in ("plumtree", "flood"):
            config = SimConfig(seed=seed, nodes=500, topology="lans", messages=100, loss=loss, gossip=gossip)
            result = run(f"(a) 500 nodes, lans, 100 messages, loss {loss}, {gossip}", config)
            out["runs"].append(result)
            copies[gossip] = result["copies_per_delivered"]
        ratio = (copies["flood"] / copies["plumtree"]) if copies["plumtree"] else None
        out[f"copies_ratio_flood_over_plumtree_loss_{loss}"] = None if ratio is None else round(ratio, 3)
        print(f"    copies per delivered, flood / plumtree at loss {loss}: "
              f"{copies['flood']} / {copies['plumtree']} = {ratio if ratio is None else round(ratio, 2)}\n")
    return out


def catchup_run(seed: int) -> dict[str, Any]:
    """(b): one node misses 1,000 of 101,000 envelopes; what does returning cost it?"""
    config = SimConfig(seed=seed, nodes=10, topology="lan", messages=0, prefill=100_000, offline_catchup=1000)
    result = run("(b) catch-up: 10 nodes, 100,000 stored, 1,000 missing", config)
    c = result["catchup"]
    if c["missing_bytes"]:
        m = c["missing_bytes"]
        print(f"    received {c['bytes']} bytes for {m} missing (x{c['bytes'] / m:.2f}), "
              f"{c['round_trips']} round trips, {c['seconds']} s; afterwards still "
              f"{c['bytes_after']} in (x{c['bytes_after'] / m:.2f}) and {c['bytes_out_after']} out\n")
    return result


def scale_run(seed: int) -> dict[str, Any]:
    """(c): 10,000 nodes must finish well inside two minutes."""
    config = SimConfig(seed=seed, nodes=10_000, topology="lans", messages=10)
    started = time.perf_counter()
    result = run("(c) 10,000 nodes, lans, 10 messages", config)
    total = time.perf_counter() - started
    result["total_wall_s"] = round(total, 1)
    verdict = "meets" if total < SCALE_TARGET_S else "MISSES"
    print(f"    total wall time {total:.1f} s: {verdict} the {SCALE_TARGET_S:.0f} s target\n")
    return result


def run(title: str, config: SimConfig) -> dict[str, Any]:
    print(f"== {title}\n   $ {command_line(config)}", flush=True)
    result = simulate(config)
    print("    " + table(result).replace("\n", "\n    "), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="a,b,c", help="comma-separated subset of a,b,c (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print one JSON object with every result")
    args = parser.parse_args()
    chosen = set(args.only.split(","))
    results: dict[str, Any] = {}
    if "a" in chosen:
        results["gossip"] = gossip_runs(args.seed)
    if "b" in chosen:
        results["catchup"] = catchup_run(args.seed)
    if "c" in chosen:
        results["scale"] = scale_run(args.seed)
    if args.json:
        print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
