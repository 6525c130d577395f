"""Compare two commits on the same benchmarks, interleaved, and print the medians side by side.

This machine's run-to-run spread is larger than the differences worth finding (docs/benchmarks.md,
section 9: a function that did not change ran 15-20% slower in one run than in the next), so two
commits are only compared in alternating rounds (old, new, old, new, ...), each run from its own
checkout (a `git worktree` in a temporary directory) with this interpreter, and reported as medians
with every run listed.

Usage: python benchmarks/ab.py OLD NEW [--rounds 3] [--scripts bench_daemon,bench_circles] [--keep DIR]

OLD and NEW are anything `git rev-parse` accepts. Each script must take `--json` and print one JSON
object; every numeric leaf is compared (``a.b.c`` names a nested key; lists are indexed).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def leaves(value: Any, prefix: str = "") -> dict[str, float]:
    """Every numeric leaf of a JSON value, named by its path."""
    if isinstance(value, dict):
        out: dict[str, float] = {}
        for key, sub in value.items():
            out.update(leaves(sub, f"{prefix}{key}."))
        return out
    if isinstance(value, list):
        out = {}
        for index, sub in enumerate(value):
            out.update(leaves(sub, f"{prefix}{index}."))
        return out
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {prefix[:-1]: float(value)}
    return {}


def run(checkout: Path, script: str, extra: Sequence[str] = ()) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, f"benchmarks/{script}.py", "--json", *extra], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{script} failed in {checkout}:\n{done.stderr[-2000:]}")
    return leaves(json.loads(done.stdout))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scripts", default="bench_daemon,bench_circles",
                    help="comma-separated names under benchmarks/ (default: %(default)s)")
    ap.add_argument("--script-args", default="", metavar="ARGS",
                    help="more arguments for every script, as one shell-quoted string (e.g. \"--size 5000\"); "
                         "both sides get the same")
    ap.add_argument("--json", action="store_true", help="print the raw runs as JSON instead of a table")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    scripts = [s.strip() for s in args.scripts.split(",") if s.strip()]
    try:
        extra = shlex.split(args.script_args)
    except ValueError as e:
        ap.error(f"--script-args: {e}")
    runs: dict[str, dict[str, dict[str, list[float]]]] = {}
    with tempfile.TemporaryDirectory(prefix="meshcare-ab-") as tmp:
        checkouts = {}
        for side, rev in (("old", args.old), ("new", args.new)):
            path = Path(tmp) / side
            subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=ROOT, check=True,
                           capture_output=True)
            checkouts[side] = path
        try:
            for round_ in range(1, args.rounds + 1):
                for side in ("old", "new"):
                    for script in scripts:
                        print(f"round {round_}/{args.rounds}: {side} {script}", file=sys.stderr, flush=True)
                        for key, value in run(checkouts[side], script, extra).items():
                            runs.setdefault(script, {}).setdefault(key, {}).setdefault(side, []).append(value)
        finally:
            for path in checkouts.values():
                subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True)
    if args.json:
        print(json.dumps(runs, indent=2))
        return
    print(f"{args.old} (old) against {args.new} (new), {args.rounds} interleaved rounds, medians")
    for script, figures in runs.items():
        print(f"\n{script}")
        for key, sides in figures.items():
            old, new = sides.get("old", []), sides.get("new", [])
            if not old or not new:
                continue
            a, b = statistics.median(old), statistics.median(new)
            change = f"{(b / a - 1) * 100:+6.1f}%" if a else "      "
            print(f"  {key:48s} {a:>12.4g} {b:>12.4g} {change}   old {old} new {new}")


if __name__ == "__main__":
    main()
