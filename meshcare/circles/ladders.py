"""Consent-based ladders: requests to be on someone's ladder, their answers, and the ladders they make.
Pure.

Theory of operation
-------------------
A person's ladder is who they would like to hear from first when they call for support, then who next
(a pod map). Nobody is put on one without saying yes: ``ladder_request`` asks one member for a place
(a ladder name, e.g. "calls" for company or "practical", and a step 0..4); the member answers with
``ladder_answer`` (accept or decline) and may change their mind later; the requester may take the
request back (``ladder_withdraw``). All three are sealed with the "private" scheme: only the two people
read them, so a node folds only the requests it made and those made to it.

``fold_ladders`` gives, per request id, where it stands:

* ``pending`` until the named member answers; only *their* answers count, and the latest by
  ``(lamport, id)`` wins (someone can accept and later decline, or the reverse);
* ``withdrawn`` once the requester withdrew it, whatever was answered before or after (only the
  requester withdraws);
* answers and withdrawals that name a request this node does not hold count for nothing until it
  arrives (the fold is re-run then), so the result depends on the set of posts only.

``ladders_of`` groups one person's requests into ladders: by name, then by step, each member once per
ladder (their latest request), at most ``MAX_STEP_MEMBERS`` rungs per ladder and ``MAX_LADDERS`` ladders.
``accepted_steps`` is what a call may use: accepted rungs only, step by step; pending and declined
rungs are never used. The fold never raises on validated bodies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from ..vocab import LADDER_STATES as _STATES, MAX_STEP_MEMBERS
from .posts import Post, dedupe_sorted

#: What a request's state can be.
LADDER_STATES: Final = _STATES
#: Ladders one person keeps at most (names beyond these, by first request, are not shown or used).
MAX_LADDERS: Final = 8
KINDS: Final = frozenset({"ladder_request", "ladder_answer", "ladder_withdraw"})


@dataclass(frozen=True, slots=True)
class LadderRequest:
    """One request for a place on someone's ladder, and where it stands."""

    id: bytes
    requester: bytes
    member: bytes              # who is asked
    ladder: str
    step: int
    text: str
    created: int
    lamport: int
    state: str = "pending"     # LADDER_STATES
    answered_at: int | None = None


@dataclass(frozen=True, slots=True)
class Rung:
    """A member on a ladder at a step, with the state of the request that put them there."""

    member: bytes
    step: int
    state: str
    request: bytes


@dataclass(frozen=True, slots=True)
class Ladder:
    """One named ladder of one person: its rungs, by step then by request order."""

    name: str
    rungs: tuple[Rung, ...]


def request_key(post: Post) -> bytes | None:
    """The request a ladder post belongs to (for ``folded.KeyedFold``), or None (not a ladder post)."""
    if post.kind == "ladder_request":
        return post.id
    if post.kind in ("ladder_answer", "ladder_withdraw"):
        request = post.body.get("request")
        return request if isinstance(request, bytes) else None
    return None


def fold_ladders(posts: Iterable[Post]) -> dict[bytes, LadderRequest]:
    """Request id -> its state, from any set of posts (others' kinds are ignored)."""
    ordered = [p for p in dedupe_sorted(posts) if p.kind in KINDS]
    requests: dict[bytes, Post] = {p.id: p for p in ordered
                                   if p.kind == "ladder_request" and p.body["to"][0] != p.author}
    answers: dict[bytes, Post] = {}
    withdrawn: set[bytes] = set()
    for post in ordered:
        request = requests.get(post.body.get("request", b""))
        if request is None:
            continue
        if post.kind == "ladder_answer" and post.author == request.body["to"][0]:
            answers[request.id] = post            # in (lamport, id) order: the latest wins
        elif post.kind == "ladder_withdraw" and post.author == request.author:
            withdrawn.add(request.id)
    out: dict[bytes, LadderRequest] = {}
    for rid, p in requests.items():
        answer = answers.get(rid)
        state = "withdrawn" if rid in withdrawn else "pending" if answer is None else (
            "accepted" if answer.body["answer"] == "accept" else "declined")
        out[rid] = LadderRequest(rid, p.author, bytes(p.body["to"][0]), p.body["ladder"], p.body["step"],
                                 p.body["text"], p.created, p.lamport, state,
                                 None if answer is None else answer.created)
    return out


def ladders_of(requests: Mapping[bytes, LadderRequest], person: bytes) -> tuple[Ladder, ...]:
    """``person``'s ladders: their requests that are not withdrawn, grouped by ladder name (first
    requested first), each member once per ladder (their latest request), bounded."""
    mine = sorted((r for r in requests.values() if r.requester == person and r.state != "withdrawn"),
                  key=lambda r: (r.lamport, r.id))
    latest: dict[tuple[str, bytes], LadderRequest] = {}
    names: list[str] = []
    for r in mine:
        if r.ladder not in names:
            names.append(r.ladder)
        latest[(r.ladder, r.member)] = r
    out = []
    for name in names[:MAX_LADDERS]:
        rungs = sorted((r for (ladder, _), r in latest.items() if ladder == name), key=lambda r: (r.lamport, r.id))
        chosen = rungs[:MAX_STEP_MEMBERS]
        out.append(Ladder(name, tuple(Rung(r.member, r.step, r.state, r.id)
                                      for r in sorted(chosen, key=lambda r: (r.step, r.lamport, r.id)))))
    return tuple(out)


def accepted_steps(requests: Mapping[bytes, LadderRequest], person: bytes, name: str) -> list[list[bytes]]:
    """The members of ``person``'s ladder ``name`` who accepted, step by step (empty steps dropped, in
    step order): what a call built from that ladder uses. Pending and declined rungs are never used."""
    by_step: dict[int, list[bytes]] = {}
    for ladder in ladders_of(requests, person):
        if ladder.name == name:
            for rung in ladder.rungs:
                if rung.state == "accepted":
                    by_step.setdefault(rung.step, []).append(rung.member)
    return [by_step[step] for step in sorted(by_step)]


def requests_to(requests: Mapping[bytes, LadderRequest], member: bytes) -> list[LadderRequest]:
    """Requests made to ``member`` that still stand (not withdrawn), oldest first."""
    return sorted((r for r in requests.values() if r.member == member and r.state != "withdrawn"),
                  key=lambda r: (r.lamport, r.id))
