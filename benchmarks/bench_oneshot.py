"""One message per request, meshcare against Reticulum/LXMF: the like-for-like benchmark (issue 11).

Every node's application side is a worker process that this driver starts and drives over stdin and
stdout, one JSON object per line (benchmarks/oneshot/worker_protocol.py); the same workloads run for
every system, and the driver's own work is not counted. meshcare's nodes are `meshcare daemon`
processes (their CPU counts too) with benchmarks/oneshot/meshcare_worker.py as the application; LXMF's
are benchmarks/peers/lxmf_worker.py, run by benchmarks/peers/.venv's interpreter.

Rows: meshcare/topic (`topic.publish` of one message on a plain topic, delivered at the receiver's
`envelope` event), meshcare/call (`call.create` in a circle of the nodes, delivered at the receiver's
`call.changed` event), optionally meshcare/call-circle (the same calls, delivered at the receiver's
per-envelope `circle` event), and lxmf. Topologies: pair (A -> B) and chain (A -> R -> C, A and C
never linked). Modes: closed (one in flight) and open (the sender does not wait). 200-byte bodies;
warm-up messages (closed loop) are excluded. Every run starts fresh processes in a new directory.

Figures per run: p50/p99 latency (send written -> delivered), delivered msg/s, CPU ms per delivered
message over all processes (/proc/PID/stat), wire bytes per message per hop, RSS of each process.
With several rounds the systems alternate within each round and medians are reported with every run;
with two systems the ratios meshcare / LXMF follow. docs/benchmarks.md, section 10.

Exit status: 0 when every message of every run was delivered, 1 otherwise (the output says which).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from oneshot import figures, lxmf_nodes, meshcare_nodes, runs  # noqa: E402
from oneshot.deployment import TOPOLOGIES, Deployment  # noqa: E402
from oneshot.workers import Inbox, WorkerDied  # noqa: E402

SYSTEMS = ("meshcare", "lxmf")


def choices(text: str, known: tuple[str, ...]) -> list[str]:
    """A comma-separated list of some of ``known``, without repeats, in the order given."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in items if t not in known]
    if unknown or not items:
        raise argparse.ArgumentTypeError(f"{'unknown: ' + ', '.join(unknown) if unknown else 'none given'}; "
                                         f"choose from {', '.join(known)}")
    return list(dict.fromkeys(items))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", default="meshcare", type=lambda t: choices(t, SYSTEMS),
                    help="meshcare, lxmf or meshcare,lxmf (default: %(default)s)")
    ap.add_argument("--meshcare-paths", default="topic,call",
                    type=lambda t: choices(t, meshcare_nodes.PATHS),
                    help="meshcare rows: topic, call, call-circle (default: %(default)s)")
    ap.add_argument("--topologies", default="pair,chain", type=lambda t: choices(t, TOPOLOGIES),
                    help="pair, chain (default: %(default)s)")
    ap.add_argument("--modes", default="closed,open", type=lambda t: choices(t, runs.MODES),
                    help="closed (one in flight), open (the sender does not wait) (default: %(default)s)")
    ap.add_argument("--messages", type=int, default=200, help="measured messages per run (default: %(default)s)")
    ap.add_argument("--warmup", type=int, default=20,
                    help="messages sent first in each run, one in flight, not measured (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="rounds; each runs every row, the systems alternating (default: %(default)s)")
    ap.add_argument("--size", type=int, default=200, help="body bytes, the 8-digit number first (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds without progress before the missing messages count as lost (default: %(default)s)")
    ap.add_argument("--sync", choices=("FULL", "NORMAL"), default="FULL",
                    help="store_synchronous of the meshcare daemons (default: %(default)s)")
    ap.add_argument("--lxmf-python", type=Path, default=lxmf_nodes.DEFAULT_PYTHON,
                    help="the interpreter of the LXMF venv (default: benchmarks/peers/.venv/bin/python)")
    ap.add_argument("--lxmf-args", default="", type=shlex.split,
                    help="more arguments for every LXMF worker, one shell-quoted string; write "
                         "--lxmf-args=\"--flag value\" (default: none)")
    ap.add_argument("--json", action="store_true", help="print one JSON object (runs, medians, ratios) instead")
    args = ap.parse_args(argv)
    if args.messages < 1 or args.warmup < 0 or args.rounds < 1:
        ap.error("--messages and --rounds must be at least 1, --warmup at least 0")
    if not 8 <= args.size <= 4000:
        ap.error("--size must be 8 to 4000 bytes (a call's text holds at most 4000 characters)")
    if args.timeout <= 0:
        ap.error("--timeout must be positive")
    if "lxmf" in args.systems:
        try:
            lxmf_nodes.check_installed(args.lxmf_python)
        except FileNotFoundError as exc:
            ap.error(str(exc))
    return args


def rows_of(args: argparse.Namespace) -> list[str]:
    """The rows of one workload, systems alternating: meshcare's paths, then LXMF."""
    out: list[str] = []
    for system in args.systems:
        out += [f"meshcare/{p}" for p in args.meshcare_paths] if system == "meshcare" else ["lxmf"]
    return out


def deploy(row: str, topology: str, root: Path, args: argparse.Namespace) -> Deployment:
    inbox = Inbox()
    if row == "lxmf":
        return lxmf_nodes.start(root, topology, inbox, python=args.lxmf_python, extra=args.lxmf_args)
    return meshcare_nodes.start(root, topology, row.split("/", 1)[1], inbox, sync=args.sync)


def one_run(row: str, topology: str, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    """Start the row's nodes in a fresh directory, run the workload, stop everything."""
    spec = runs.Spec(mode=mode, messages=args.messages, warmup=args.warmup, size=args.size, timeout=args.timeout)
    with tempfile.TemporaryDirectory(prefix="mconeshot") as tmp:
        try:
            dep = deploy(row, topology, Path(tmp), args)
        except (RuntimeError, WorkerDied, OSError) as exc:
            return failed(row, topology, mode, args, f"could not start: {exc}")
        try:
            return runs.run(dep, spec)
        except (RuntimeError, WorkerDied) as exc:
            return failed(row, topology, mode, args, f"run failed: {exc}")
        finally:
            dep.stop()


def failed(row: str, topology: str, mode: str, args: argparse.Namespace, why: str) -> dict[str, Any]:
    """A run that could not be measured: every message lost, and why."""
    return {"row": row, "topology": topology, "mode": mode, "messages": args.messages, "warmup": args.warmup,
            "delivered": 0, "lost": args.messages, "errors": [why[:4000]], "notes": []}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows = rows_of(args)
    done: list[dict[str, Any]] = []
    started = time.monotonic()
    for round_ in range(1, args.rounds + 1):
        for topology in args.topologies:
            for mode in args.modes:
                for row in rows:
                    print(f"round {round_}/{args.rounds}: {row} {topology} {mode}", file=sys.stderr, flush=True)
                    result = one_run(row, topology, mode, args)
                    result["round"] = round_
                    done.append(result)
                    if result["lost"] or result.get("warmup_lost"):
                        print(f"  lost {result['lost']} of {result['messages']}: {result['errors'][:3]}",
                              file=sys.stderr, flush=True)
    groups = figures.group(done)
    found = figures.ratios(groups)
    if args.json:
        print(json.dumps({"config": {"systems": args.systems, "meshcare_paths": args.meshcare_paths,
                                     "topologies": args.topologies, "modes": args.modes, "messages": args.messages,
                                     "warmup": args.warmup, "rounds": args.rounds, "size": args.size,
                                     "sync": args.sync, "lxmf_args": args.lxmf_args,
                                     "seconds": round(time.monotonic() - started, 1)},
                          "runs": done, "groups": [g.to_data() for g in groups],
                          "ratios": [r.to_data() for r in found]}))
    else:
        print(figures.report(groups, found, rounds=args.rounds, size=args.size))
    return 0 if all(r["lost"] == 0 and not r.get("warmup_lost") for r in done) else 1


if __name__ == "__main__":
    sys.exit(main())
