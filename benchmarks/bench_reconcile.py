"""Set reconciliation cost: bytes and round trips for a returning node and for scattered differences.

Scenarios (MemoryStore on both sides, one topic, real sealed envelopes of 30 authors, 60-300 B bodies,
``created`` strictly increasing, 20-30 s apart):

* catchup-rbsr   node A holds N envelopes; node B the same minus the D newest (it was offline while they
                 were written). B initiates; range-based reconciliation only.
* catchup-heads  the same, B also sends its per-author heads in its first message.
* catchup-by-A   the same, but A (which holds everything) initiates, RBSR only.
* scattered      each side lacks D random envelopes the other holds (2 D differences in all); RBSR only,
                 since heads cannot see gaps below an author's newest seq.

Target (catch-up): total <= 2 x the missing envelopes' bytes + 10 KB of control, in <= 4 round trips.
Control bytes = every reconcile, heads and request message plus 20 bytes of framing per message
(``meshcare.circles.reconcile_driver``); envelopes are counted once, as pushed.

Usage: python benchmarks/bench_reconcile.py [--size N] [--diff D] [--seed S] [--branching B]
                                             [--threshold T] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nacl.signing

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meshcare import envelope as env  # noqa: E402
from meshcare.sync.reconcile import DEFAULT_BRANCHING, DEFAULT_ID_LIST_THRESHOLD  # noqa: E402
from meshcare.sim.reconcile_driver import ExchangeStats, run_exchange  # noqa: E402
from meshcare.ids import TopicId  # noqa: E402
from meshcare.ranges import KEY_MAX, KEY_MIN  # noqa: E402
from meshcare.store.memory import MemoryStore  # noqa: E402

TOPIC = TopicId(b"bench-topic-0001")
KEY = b"K" * 32
START = 1_800_000_000
CONTROL_BUDGET = 10_000
MAX_ROUNDS = 4


def make_envelopes(count: int, rng: random.Random) -> list[env.Envelope]:
    """``count`` sealed envelopes in creation order; each author's seq rises with ``created``."""
    authors = [nacl.signing.SigningKey(rng.randbytes(32)) for _ in range(30)]
    seqs = [0] * len(authors)
    out, created = [], START
    for i in range(count):
        a = rng.randrange(len(authors))
        seqs[a] += 1
        created += rng.randint(20, 30)
        out.append(env.seal(signing_key=authors[a], topic=TOPIC, epoch=0, key=KEY, seq=seqs[a], lamport=i,
                            created=created, expires=created + 365 * 86_400,
                            plaintext=rng.randbytes(rng.randint(60, 300)), nonce=rng.randbytes(24), prev=env.filler_prev(seqs[a])))
    return out


def store_of(envelopes: list[env.Envelope], now: int) -> MemoryStore:
    store = MemoryStore()
    store.add(envelopes, now)
    return store


@dataclass
class Result:
    scenario: str
    set_size: int  # envelopes held by node A
    difference: int  # envelopes held by one side only
    missing_envelope_bytes: int
    envelope_bytes_sent: int
    control_bytes: int
    reconcile_bytes: int
    heads_bytes: int
    request_bytes: int
    framing_bytes: int
    total_bytes: int
    ratio_total_to_missing: float
    round_trips: int
    useless_pushes: int
    reconcile_messages: int
    largest_message: int
    wall_seconds: float
    meets_target: bool | None = None  # catch-up scenarios only


def scenario(name: str, a: list[env.Envelope], b: list[env.Envelope], now: int, *, heads: bool,
             args: argparse.Namespace, b_initiates: bool = True) -> Result:
    """Run B (the initiator, unless ``b_initiates`` is false) against A; check both end with the union."""
    store_a, store_b = store_of(a, now), store_of(b, now)
    ids_a, ids_b = {e.id for e in a}, {e.id for e in b}
    union = ids_a | ids_b
    missing = sum(e.size for e in a if e.id not in ids_b) + sum(e.size for e in b if e.id not in ids_a)
    first, second = (store_b, store_a) if b_initiates else (store_a, store_b)
    stats: ExchangeStats = run_exchange(first, second, TOPIC, now, heads=heads, branching=args.branching,
                                        id_list_threshold=args.threshold)
    for store in (store_a, store_b):
        assert {k.id for k in store.keys(TOPIC, KEY_MIN, KEY_MAX, now)} == union, f"{name}: not reconciled"
    return Result(
        scenario=name, set_size=len(a), difference=len(union) - len(ids_a & ids_b),
        missing_envelope_bytes=missing, envelope_bytes_sent=stats.envelope_bytes,
        control_bytes=stats.control_bytes, reconcile_bytes=stats.reconcile_bytes,
        heads_bytes=stats.heads_bytes, request_bytes=stats.request_bytes, framing_bytes=stats.framing_bytes,
        total_bytes=stats.total_bytes, ratio_total_to_missing=round(stats.total_bytes / max(missing, 1), 4),
        round_trips=stats.rounds, useless_pushes=stats.useless_pushes,
        reconcile_messages=stats.reconcile_messages, largest_message=max(stats.message_sizes),
        wall_seconds=round(stats.seconds, 3),
    )


def meets_target(r: Result) -> bool:
    return (r.total_bytes <= 2 * r.missing_envelope_bytes + CONTROL_BUDGET
            and r.control_bytes <= CONTROL_BUDGET and r.round_trips <= MAX_ROUNDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--diff", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--branching", type=int, default=DEFAULT_BRANCHING)
    parser.add_argument("--threshold", type=int, default=DEFAULT_ID_LIST_THRESHOLD)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    universe = make_envelopes(args.size, rng)
    build = time.perf_counter() - t0
    now = universe[-1].created + 1
    behind = universe[:-args.diff]
    holes = rng.sample(range(args.size), 2 * args.diff)
    lacks_a, lacks_b = set(holes[:args.diff]), set(holes[args.diff:])
    side_a = [e for i, e in enumerate(universe) if i not in lacks_a]
    side_b = [e for i, e in enumerate(universe) if i not in lacks_b]
    results = [
        scenario("catchup-rbsr", universe, behind, now, heads=False, args=args),
        scenario("catchup-heads", universe, behind, now, heads=True, args=args),
        scenario("catchup-by-A", universe, behind, now, heads=False, args=args, b_initiates=False),
        scenario("scattered", side_a, side_b, now, heads=False, args=args),
    ]
    for r in results[:3]:
        r.meets_target = meets_target(r)
    if args.json:
        print(json.dumps({"size": args.size, "diff": args.diff, "branching": args.branching,
                          "threshold": args.threshold, "seed": args.seed, "build_seconds": round(build, 2),
                          "scenarios": [asdict(r) for r in results]}, indent=2))
        return
    print(f"{args.size} envelopes (built in {build:.1f} s), difference {args.diff}, branching {args.branching}, "
          f"id_list_threshold {args.threshold}")
    row = "{:<14} {:>7} {:>5} {:>10} {:>10} {:>10} {:>13} {:>6} {:>7} {:>6}"
    print(row.format("scenario", "set", "diff", "missing B", "control B", "total B", "total/missing",
                     "rounds", "wall s", "target"))
    for r in results:
        target = "-" if r.meets_target is None else "met" if r.meets_target else "MISSED"
        print(row.format(r.scenario, r.set_size, r.difference, r.missing_envelope_bytes, r.control_bytes,
                         r.total_bytes, r.ratio_total_to_missing, r.round_trips, r.wall_seconds, target))


if __name__ == "__main__":
    main()
