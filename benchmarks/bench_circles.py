"""What the circle layer costs on top of the sync engine: bytes on the wire, and CPU to fold and open.

Prints, for circles of 9, 50 and 150 members:
* the encoded size of a call for support (its call key is sealed to every reader), of a thread post
  (an offer), of a receipt, and of the roster operation that removes a member (a new epoch key sealed to
  every remaining reader): bytes per message is what a Pi on a slow link pays;
* the time to fold the roster from scratch (every roster change refolds it);
and, for a circle of 50 with a backlog of posts (calls with offers, claims, receipts, updates, resolves):
* how many posts per second a node starting from scratch (a restart, or a member's new computer) opens and
  folds (decrypt + validate + fold), as a ratio to the raw signature-verify rate, which the engine pays
  first for every envelope: a ratio of 2 means the circle layer adds half the receive cost.

Usage: python benchmarks/bench_circles.py [--posts N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meshcare import envelope as env  # noqa: E402
from meshcare.circles import calls as cl  # noqa: E402
from meshcare.circles import checkins as ck  # noqa: E402
from meshcare.circles import membership as ms  # noqa: E402
from meshcare.circles import roster_fold as rf  # noqa: E402
from meshcare.circles.circle import Circle, invite_proof  # noqa: E402
from meshcare.circles.invites import new_invite_seed  # noqa: E402
from meshcare.crypto import seal  # noqa: E402
from meshcare.crypto import sign  # noqa: E402
from meshcare.crypto.keys import Identity  # noqa: E402

NOW = int(time.time())


def build_circle(size: int) -> tuple[list[Identity], list[Circle], list[env.Envelope]]:
    """A circle of ``size`` members built through real roster operations; every member's view."""
    people = [Identity.generate(f"p{i}") for i in range(size)]
    secret = seal.random_key()
    founder = people[0]
    circle = Circle(founder, secret, bytes(founder.node_id))
    ops = [circle.roster_envelope("create", {"name": "bench", **circle.new_epoch_fields([])}, seq=1, now=NOW)]
    circle.ingest(ops[-1])
    seq = 1
    for person in people[1:]:
        seed = new_invite_seed()
        key = sign.public_key(seed)
        seq += 1
        ops.append(circle.roster_envelope("invite", {"invite": key, "role": "member", "expires": NOW + 3600},
                                          seq=seq, now=NOW))
        circle.ingest(ops[-1])
        seq += 1
        member = bytes(person.node_id)
        fields = {"invite": key, "member": member, "name": person.name,
                  "proof": invite_proof(seed, circle.topic, member),
                  **circle.new_epoch_fields(circle.roster.readers | {member})}
        ops.append(circle.roster_envelope("admit", fields, seq=seq, now=NOW))
        circle.ingest(ops[-1])
    return people, [circle], ops


def sizes(size: int) -> dict[str, float]:
    people, (circle,), ops = build_circle(size)
    call = circle.post_envelope("call", {"text": "Rough night. Could someone come by? " * 2, "urgency": "now"},
                                seq=len(ops) + 1, now=NOW, audience=circle.roster.readers)
    circle.ingest(call)
    offer = circle.post_envelope("offer", {"call": call.id, "kind": "come_over", "text": "on my way"},
                                 seq=len(ops) + 2, now=NOW)
    circle.ingest(offer)
    receipt = circle.post_envelope("receipt", {"call": call.id}, seq=len(ops) + 3, now=NOW)
    circle.ingest(receipt)
    gone = bytes(people[-1].node_id)
    remove = circle.roster_envelope("remove", {"member": gone, **circle.departure_fields(gone),
                                               **circle.new_generation_fields(circle.roster.readers - {gone}, ())},
                                    seq=len(ops) + 4, now=NOW)
    ops_objects = {op.id: circle._ops[op.id] for op in ops}
    start = time.perf_counter()
    for _ in range(5):
        rf.fold(ops_objects.values(), circle.founder, circle.topic)
    fold_ms = (time.perf_counter() - start) / 5 * 1000
    return {"members": size, "call_bytes": call.size, "offer_bytes": offer.size, "receipt_bytes": receipt.size,
            "remove_bytes": remove.size, "roster_ops": len(ops), "roster_fold_ms": round(fold_ms, 2)}


def catchup(posts: int) -> dict[str, float]:
    people, (circle,), ops = build_circle(50)
    made: list[env.Envelope] = []
    seq = len(ops)
    calls = 0
    while len(made) < posts:
        seq += 1
        call = circle.post_envelope("call", {"text": f"call {calls}", "urgency": "today"}, seq=seq, now=NOW,
                                    audience=circle.roster.readers)
        circle.ingest(call)
        made.append(call)
        calls += 1
        for kind, body in (("offer", {"call": call.id, "kind": "listening"}), ("claim", {"call": call.id}),
                           ("receipt", {"call": call.id}), ("update", {"call": call.id, "text": "on it"}),
                           ("resolve", {"call": call.id})):
            seq += 1
            e = circle.post_envelope(kind, body, seq=seq, now=NOW)
            circle.ingest(e)
            made.append(e)
    made = made[:posts]
    # a node of the same member starting from scratch: roster first, then every post
    newcomer = Circle(people[0], circle.secret, circle.founder)
    for op in ops:
        newcomer.ingest(op)
    start = time.perf_counter()
    for e in made:
        newcomer.ingest(e)
    folded = cl.fold_calls(newcomer.posts)
    ck.fold_checkins(newcomer.posts)
    elapsed = time.perf_counter() - start
    assert len(folded) == calls
    start = time.perf_counter()
    env.signatures_valid(made)
    verify = time.perf_counter() - start
    return {"posts": len(made), "open_and_fold_per_s": round(len(made) / elapsed),
            "verify_per_s": round(len(made) / verify), "ratio_to_verify": round(verify / elapsed, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {"sizes": [sizes(n) for n in (9, 50, 150)], "catchup": catchup(args.posts)}
    if args.json:
        print(json.dumps(result))
        return
    print("members  call B  offer B  receipt B  remove B  roster ops  roster fold ms")
    for row in result["sizes"]:
        print(f"{row['members']:7d}  {row['call_bytes']:6d}  {row['offer_bytes']:7d}  {row['receipt_bytes']:9d}"
              f"  {row['remove_bytes']:8d}  {row['roster_ops']:10d}  {row['roster_fold_ms']:14.2f}")
    c = result["catchup"]
    print(f"a node starting from scratch opens and folds {c['posts']} posts: {c['open_and_fold_per_s']}/s "
          f"(raw signature verify {c['verify_per_s']}/s; ratio {c['ratio_to_verify']})")


if __name__ == "__main__":
    main()
