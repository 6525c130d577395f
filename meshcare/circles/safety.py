"""The safety-timer fold: someone going to see a person in person says "I'm there", then "I'm OK" every
few minutes; if they fall silent, the circle's facilitators are alerted, and nobody else.

Theory of operation
-------------------
A timer is a ``safety`` post ``{to, every, text}`` its author seals to the circle's facilitators only
(scheme "private": the rest of the circle sees neither that it exists nor whose it is). The author
follows it with ``safety_ping`` posts ``{to, timer, status}``: ``there`` (arrived), ``ok`` (still fine),
``end`` (finished, all fine). The fold is keyed by the timer's id; rules, over the set of posts:

* A timer counts only if every reader it names is a facilitator or no longer in the circle (``members``
  and ``facilitators`` come from the folded roster, the same on every node): one sealed to an ordinary
  member by a modified client is ignored, so no member other than a facilitator ever holds a running
  timer, and no alert is raised anywhere else (changes.py raises it only on a facilitator's node).
* Only the timer's author pings it. ``last`` is the latest ``created`` among the start and its pings
  (max, not "last in order": the same set gives the same answer in any order); ``there_at`` the earliest
  ``there``; ``ended_at`` the earliest ``end``: from then on the timer is over, whatever follows.
* Times are the author's clock (a circle refuses envelopes from too far in the future), every interval
  is bounded by the schema (``vocab.MIN_SAFETY_EVERY`` .. ``MAX_SAFETY_EVERY`` minutes).

``overdue_at`` and ``is_overdue`` are the pure "is it overdue at ``now``" the alerts use: ``every``
minutes after ``last``, plus ``vocab.SAFETY_GRACE_S``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..vocab import SAFETY_GRACE_S
from .posts import Post, dedupe_sorted


@dataclass(frozen=True, slots=True)
class TimerState:
    """One safety timer as this node can read it."""

    id: bytes
    person: bytes                  # who is going (the timer's author)
    every: int                     # minutes between "I'm OK"s
    text: str
    readers: tuple[bytes, ...]     # the facilitators it is sealed to
    started: int
    lamport: int
    last: int                      # the start or the latest ping (author's clock)
    there_at: int | None = None
    ended_at: int | None = None

    @property
    def running(self) -> bool:
        return self.ended_at is None


def fold_safety(posts: Iterable[Post], members: frozenset[bytes] | None = None,
                facilitators: frozenset[bytes] = frozenset()) -> dict[bytes, TimerState]:
    """Every timer in ``posts`` that counts, keyed by its id (module docstring). ``members`` None:
    readers are not checked (a test of the rest). Independent of order and duplicates; never raises."""
    ordered = dedupe_sorted(posts)
    pings: dict[bytes, list[Post]] = {}
    for post in ordered:
        if post.kind == "safety_ping":
            pings.setdefault(post.body["timer"], []).append(post)
    out: dict[bytes, TimerState] = {}
    for post in ordered:
        if post.kind != "safety":
            continue
        readers = tuple(post.body["to"])
        if members is not None and any(r in members and r not in facilitators for r in readers):
            continue
        mine = [p for p in pings.get(post.id, ()) if p.author == post.author]
        there = [p.created for p in mine if p.body["status"] == "there"]
        ended = [p.created for p in mine if p.body["status"] == "end"]
        out[post.id] = TimerState(post.id, post.author, post.body["every"], post.body["text"], readers,
                                  post.created, post.lamport, max([post.created, *(p.created for p in mine)]),
                                  min(there, default=None), min(ended, default=None))
    return out


def overdue_at(state: TimerState) -> int | None:
    """When a running timer becomes overdue: ``every`` minutes after the last sign, plus the grace;
    None once it ended."""
    if not state.running:
        return None
    return state.last + state.every * 60 + SAFETY_GRACE_S


def is_overdue(state: TimerState, now: int) -> bool:
    """True when ``state`` is running and nothing came from its person in time (at ``now``)."""
    at = overdue_at(state)
    return at is not None and now >= at


def next_ok_at(state: TimerState) -> int | None:
    """When the next "I'm OK" is due (before the grace), for the person's countdown; None once ended."""
    return None if not state.running else state.last + state.every * 60
