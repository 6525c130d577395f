"""Crash safety: a daemon ingesting from a real peer, killed with SIGKILL at random points (issue 14 item 5).

A sending daemon holds ``--envelopes`` envelopes of a test topic; for each of ``--kills`` rounds a fresh
target daemon dials it and ingests them while a local client posts to the target one envelope at a time;
a seeded random time into the ingest (or just after it) the target is killed with SIGKILL right after a
post was acknowledged. Then: the store opens, ``PRAGMA integrity_check`` is ok, every envelope the target
acknowledged (a ``topic.publish`` reply, or an id a ``topic.ids`` reply listed) is in it, the identity
and the state file load, and the daemon starts again and catches up. What acknowledged means and why it
survives: docs/architecture.md, "Durability". The rig: benchmarks/crash_rig.py. Only 127.0.0.1.

Prints per round (killed at = envelopes stored after the kill) and a summary; ``--json`` prints the
summary as one JSON object (keys: kills, acknowledged, found, lost, integrity_ok, killed_at,
reopen_ms_median, reopen_ms_max, restart_s_median, catch_up_s_median, catch_up_s_max, and for the power
cuts power_cuts, power_cut_copies, power_cut_copies_ok, power_cut_lost, torn_checked, torn_discarded).
``--power-cuts N`` then simulates N power cuts mid-burst (benchmarks/power_cut.py: the model and its
limits). Exit status 1 if anything acknowledged was lost or a store failed its integrity check. docs/benchmarks.md, "Crash safety".

Usage: python benchmarks/bench_crash.py [--kills 20] [--envelopes 10000] [--power-cuts 5] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import crash_rig as rig  # noqa: E402
import power_cut  # noqa: E402


def run(kills: int, envelopes: int, seed: int, *, power_cuts: int = 0,
        echo: bool = True) -> tuple[list[rig.Round], list[power_cut.PowerCut]]:
    """The kill rounds and power cuts of one run, in a temporary directory removed afterwards."""
    rng = random.Random(seed)
    rounds: list[rig.Round] = []
    cuts: list[power_cut.PowerCut] = []
    with tempfile.TemporaryDirectory(prefix="meshcare-crash-") as tmp:
        root = Path(tmp)
        sender, ids = rig.sender_with(root, envelopes)
        try:
            span = rig.ingest_seconds(root, sender, ids)
            if echo:
                print(f"sender holds {len(ids)} envelopes; a fresh node ingests them in {span:.2f} s", file=sys.stderr)
            for i, after in enumerate(rig.kill_times(rng, kills, span)):
                r = rig.kill_round(root, f"target{i}", sender, ids, after)
                rounds.append(r)
                if echo:
                    print(f"kill {i + 1:2d} at {after:5.2f} s: {r.killed_at:6d} stored, {r.found}/{r.acknowledged} "
                          f"acknowledged found, integrity {r.integrity}, reopen {1000 * r.reopen_s:.1f} ms, "
                          f"restart {r.restart_s:.2f} s, caught up in {r.catch_up_s:.2f} s", file=sys.stderr)
            for i in range(power_cuts):
                p = power_cut.power_cut_round(root, f"cut{i}", sender, ids, rng.uniform(0.1, 0.9) * span, rng)
                cuts.append(p)
                if echo:
                    print(f"power cut {i + 1}: WAL fsynced {p.wal.durable} of {p.wal.written} bytes "
                          f"({p.wal.syncs} syncs); " + "; ".join(
                              f"{c.what}: {c.stored} stored, {c.acknowledged - len(c.lost)}/{c.acknowledged} "
                              f"acknowledged, integrity {c.integrity}" for c in p.cuts)
                          + f"; torn frame discarded: {p.torn_matches_floor}; restarted and caught up in "
                          f"{p.catch_up_s:.2f} s", file=sys.stderr)
        finally:
            sender.stop()
    return rounds, cuts


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=_positive, default=20, help="rounds, one SIGKILL each (default %(default)s)")
    ap.add_argument("--envelopes", type=_positive, default=10_000,
                    help="envelopes the sender holds and each target ingests (default %(default)s)")
    ap.add_argument("--power-cuts", type=int, default=5, metavar="N",
                    help="then N simulated power cuts (needs strace; 0: none; default %(default)s)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the kill times (default %(default)s)")
    ap.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = ap.parse_args(argv)
    if args.envelopes < 20:
        ap.error("--envelopes must be at least 20 (a kill needs an ingest to land in)")
    if args.power_cuts < 0:
        ap.error("--power-cuts must be 0 or more")
    if args.power_cuts and shutil.which("strace") is None:
        ap.error("--power-cuts needs strace (apt-get install strace), or pass --power-cuts 0")
    rounds, cuts = run(args.kills, args.envelopes, args.seed, power_cuts=args.power_cuts)
    figures = {**rig.summary(rounds), **power_cut.summary(cuts)}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{figures['kills']} kills during ingest of {args.envelopes} envelopes: {figures['found']} of "
              f"{figures['acknowledged']} acknowledged envelopes found ({figures['lost']} lost), integrity ok "
              f"{figures['integrity_ok']}/{figures['kills']}; store reopens in {figures['reopen_ms_median']} ms "
              f"(max {figures['reopen_ms_max']}), daemon answers again in {figures['restart_s_median']} s, "
              f"catches up in {figures['catch_up_s_median']} s (max {figures['catch_up_s_max']})")
        if cuts:
            print(f"{figures['power_cuts']} power cuts, {figures['power_cut_copies']} cut copies: "
                  f"{figures['power_cut_copies_ok']} open with integrity ok and every acknowledged post, "
                  f"{figures['power_cut_lost']} acknowledged posts lost, torn frames discarded "
                  f"{figures['torn_discarded']}/{figures['torn_checked']}")
    return 0 if all(r.ok for r in rounds) and all(p.ok for p in cuts) else 1


if __name__ == "__main__":
    sys.exit(main())
