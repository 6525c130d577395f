"""What recording one's own post costs: ``Circle.ingest_own`` against opening it again with ``ingest``.

The author of a post knows its body (it validated it) and the keys it holds for it (a call's key, a
check-in's reply key pair), so ``Registry.post`` records it with ``ingest_own`` instead of decrypting,
unpacking and validating its own envelope a third time (issue 11, "validate once, ingest once"). This
seals calls for support in a circle of ``--members`` and records each both ways, alternating rounds,
and prints the medians in microseconds per call (seal included: it is what an op pays) and their
ratio. In-process: no daemon, no disk, no socket. docs/benchmarks.md section 11.

Usage: python benchmarks/bench_own_post.py [--calls N] [--rounds R] [--members M] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meshcare.circles import posts as ps  # noqa: E402
from meshcare.circles.circle import Circle  # noqa: E402
from tests.circlenet import Net  # noqa: E402
from tests.helpers import T  # noqa: E402


def founder_circle(members: int) -> tuple[Circle, int]:
    """The founder's circle of ``members`` people, and the founder's next seq."""
    n = Net(*[f"m{i}" for i in range(members)]).setup()
    return n.circles["m0"], n.seq["m0"]


def per_call_us(own: bool, calls: int, members: int) -> float:
    """Median microseconds to seal one call and record it (``ingest_own`` when ``own``, else ``ingest``)."""
    circle, seq = founder_circle(members)
    audience = circle.roster.readers
    times = []
    for i in range(calls):
        seq += 1
        body = ps.validate("call", {"text": f"rough night, could someone come by? ({i})", "urgency": "now"})
        start = time.perf_counter()
        made = circle.seal_post("call", body, seq=seq, now=T, audience=audience, checked=own)
        if own:
            circle.ingest_own(made)
        else:
            circle.ingest(made.envelope)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=1500, help="calls per round (default %(default)s)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds, each measuring both ways (default %(default)s)")
    ap.add_argument("--members", type=int, default=3, help="members of the circle (default %(default)s)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if args.calls < 1 or args.rounds < 1 or not 1 <= args.members <= 200:
        ap.error("--calls and --rounds must be at least 1, --members between 1 and 200")
    again, own = [], []
    for _ in range(args.rounds):
        again.append(per_call_us(False, args.calls, args.members))
        own.append(per_call_us(True, args.calls, args.members))
    result = {"calls": args.calls, "rounds": args.rounds, "members": args.members,
              "ingest_us": statistics.median(again), "ingest_own_us": statistics.median(own),
              "ratio": statistics.median(own) / statistics.median(again),
              "runs": {"ingest_us": again, "ingest_own_us": own}}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"seal + record one call, circle of {args.members}, median of {args.calls} x {args.rounds} rounds:")
        print(f"  seal + ingest (decrypt, validate again): {result['ingest_us']:7.1f} us  "
              f"runs {', '.join(f'{x:.0f}' for x in again)}")
        print(f"  seal + ingest_own:                        {result['ingest_own_us']:7.1f} us  "
              f"runs {', '.join(f'{x:.0f}' for x in own)}")
        print(f"  ratio ingest_own / ingest: {result['ratio']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
