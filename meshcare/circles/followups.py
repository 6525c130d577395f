"""The follow-up fold: after a call, who checks in on the person who made it, when, and whether they did.

Theory of operation
-------------------
When a call is resolved, the person who made it (the *caller*, and nobody else) may ask for a check-in
tomorrow, and optionally a second one a few days later. That answer is a ``followup`` post
``{to, call, who, due, again}`` sealed to ``who`` (the person who will check in: by default whoever took
the call) and the circle's facilitators (scheme "private": the rest of the circle sees neither that a
follow-up exists nor for whom). ``who`` marks each check-in done with a ``followup_done`` post
``{to, followup, call, again}`` sealed to the caller and the facilitators. Facilitators see only who
does it, when, and whether it is done: the posts carry no content.

The fold is per call (``folded.py`` keys every post here by its call id, and the call post itself, when
this node can read it, joins its group). Rules, over the set of posts, in ``(lamport, id)`` order:

* The asker is the call's author when the call is here. A node that cannot read the call (a facilitator
  the call never reached) takes the author of the first ``followup`` in order: a member can only ever
  ask someone to check in on *themselves*, so that costs nothing.
* The asker's **latest** ``followup`` is the follow-up (they may change who or when); one whose ``who``
  is the asker, or who is not among its readers, counts for nothing. ``again`` counts only when it is
  after ``due``.
* A ``followup_done`` counts when its author is the current follow-up's ``who`` and it names that very
  follow-up (a done for an earlier version does not carry over); ``again`` says which check-in it closes
  (a second check-in only if the follow-up has one). Its time is the earliest such done's ``created``.
* Everything else (someone else's posts, a done for another follow-up) is ignored; the fold never raises.

``due_now`` is the pure "what is due at ``now``" the to-do list and the notices use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .posts import Post, dedupe_sorted


@dataclass(frozen=True, slots=True)
class FollowupState:
    """One call's follow-up as this node can read it."""

    call: bytes
    id: bytes                      # the follow-up post in force (the asker's latest)
    asker: bytes                   # the person who made the call
    who: bytes                     # who checks in
    due: int
    again: int | None              # the second check-in, if the asker wants one
    readers: tuple[bytes, ...]     # whom the follow-up is sealed to besides the asker
    lamport: int
    done_at: int | None = None
    again_done_at: int | None = None

    @property
    def finished(self) -> bool:
        """Every check-in asked for is done."""
        return self.done_at is not None and (self.again is None or self.again_done_at is not None)


def fold_followups(posts: Iterable[Post]) -> dict[bytes, FollowupState]:
    """The follow-up of every call in ``posts`` that has one, keyed by call id (module docstring).
    Independent of order and duplicates; never raises on validated bodies."""
    ordered = dedupe_sorted(posts)
    callers = {p.id: p.author for p in ordered if p.kind == "call"}
    asks: dict[bytes, list[Post]] = {}
    dones: dict[bytes, list[Post]] = {}
    for post in ordered:
        if post.kind == "followup":
            asks.setdefault(post.body["call"], []).append(post)
        elif post.kind == "followup_done":
            dones.setdefault(post.body["call"], []).append(post)
    out: dict[bytes, FollowupState] = {}
    for call, posts_ in asks.items():
        asker = callers.get(call, posts_[0].author)
        valid = [p for p in posts_ if p.author == asker and p.body["who"] != asker and p.body["who"] in p.body["to"]]
        if not valid:
            continue
        latest = valid[-1]
        body = latest.body
        again = body["again"] if body["again"] is not None and body["again"] > body["due"] else None
        first: int | None = None
        second: int | None = None
        for done in dones.get(call, ()):
            if done.author != body["who"] or done.body["followup"] != latest.id:
                continue
            if done.body["again"]:
                if again is not None:
                    second = done.created if second is None else min(second, done.created)
            else:
                first = done.created if first is None else min(first, done.created)
        out[call] = FollowupState(call, latest.id, asker, body["who"], body["due"], again,
                                  tuple(body["to"]), latest.lamport, first, second)
    return out


def due_now(state: FollowupState, now: int) -> bool | None:
    """Which check-in of ``state`` is due at ``now`` and not done: False for the first, True for the
    second (``again``), None for neither (not yet time, or done)."""
    if state.done_at is None:
        return False if now >= state.due else None
    if state.again is not None and state.again_done_at is None and now >= state.again:
        return True
    return None


def next_due(state: FollowupState) -> int | None:
    """When the next check-in of ``state`` not yet done falls due (possibly in the past), or None."""
    if state.done_at is None:
        return state.due
    if state.again is not None and state.again_done_at is None:
        return state.again
    return None
