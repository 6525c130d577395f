"""Simulator benchmark: a 200-node support circle over real nodes (``meshcare sim --scenario circle``).

Every node is the real ``Node`` (circles and sync engine) and everything goes through the control ops:
node 0 founds a circle and invites the 199 others (in waves the lobby cap allows), each joins with its
token and is admitted by the circle's admit duty; then calls for support from random members, claims, a
check-in with replies, one removal and calls after it (meshcare/sim/circle_run.py). Prints the equivalent
command line, the table, the per-phase virtual and wall times, and (with --json) the whole result.
CPU-bound and long: see docs/benchmarks.md for the wall time on this machine.

Usage: python benchmarks/bench_sim_circles.py [--nodes N] [--seed N] [--calls N] [--calls-after N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meshcare.sim.cli import circle_table, command_line  # noqa: E402
from meshcare.sim.runner import SimConfig, simulate  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--calls-after", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="also print the whole result object")
    args = parser.parse_args()
    config = SimConfig(scenario="circle", seed=args.seed, nodes=args.nodes, calls=args.calls,
                       calls_after=args.calls_after)
    print(f"== a {args.nodes}-node circle\n   $ {command_line(config)}", flush=True)
    started = time.perf_counter()
    result = simulate(config)
    total = time.perf_counter() - started
    print("    " + circle_table(result).replace("\n", "\n    "))
    print("    phase          virtual s (start-end)    events     wall s")
    for phase, times in result["phases"].items():
        span = f"{times['start_s']:.1f}-{times.get('end_s', float('nan')):.1f}"
        print(f"    {phase:<14} {span:<24} {times['events']:>9} {result['phase_wall_s'].get(phase, 0.0):>10.1f}")
    print(f"    total wall time {total:.1f} s", flush=True)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
