"""The call fold: a set of circle posts in, the state of every call for support out.

Theory of operation
-------------------
``fold_calls`` drops duplicate posts (same envelope id), sorts the rest by ``(lamport, id)`` and replays
each call's thread in that order, so the same *set* of posts always gives the same result, whatever
order gossip delivered them in. The fold is cheap and pure: the caller re-runs it when posts arrive.

Rules, in that order of posts:

* A call exists once its ``call`` post is in the set. Thread posts (``offer claim release accept update
  resolve escalate receipt``, and ``checkin`` naming a call) whose call is not in the set count for
  nothing; when the call arrives the fold is re-run and they count then. A thread post naming a post that
  is not a call is treated the same way.
* Claims. Every member with an unreleased claim is "on it"; the **claimer** is the one whose claim came
  first. A claim made while someone else holds the call does not take it: that member is listed in
  ``also_claimed``, and if the claimer releases, the earliest remaining claim takes over (so nobody who
  said "I'm on it" is forgotten). A ``release`` withdraws the author's claim (a release without a claim
  does nothing); claiming again later puts them at the back. The caller cannot claim their own call.
  ``claimed_at`` is the author's clock of the post that made the claimer the claimer: their claim, or
  the release that handed the call on to them.
* ``resolve``: only the caller, whoever is the claimer at that point, or a facilitator (given
  ``facilitators``: someone must be able to close a call whose claimer is gone); the first such resolve
  wins and freezes the claimer and ``also_claimed``. ``resolved_at`` is that post's ``created``; a second
  resolve changes nothing.
* After the resolve, only ``receipt`` and follow-up ``checkin`` posts count: claims, releases, offers,
  accepts, updates and escalations on a resolved call are ignored (the ops refuse them locally; this is
  what a modified client's get).
* Departed claimers (given ``members``, today's roster): on a call still open, a claim by someone who
  is no longer a member lapses, and the earliest remaining claim holds the call from its own claim's
  time. A resolve they made while they held it stands.
* The claim race: two claims made while split are both in the set; the one first in (lamport, id) order
  is the claimer on every node, the other is in ``also_claimed`` (the interface tells that member who
  has the call).
* ``offer``: anyone but the caller (offering support to yourself means nothing). ``accept``: only the
  caller, naming an offer of this same call; several offers may be accepted. Whether the offer exists is
  decided on the whole set, not on order, because an accept always causally follows its offer.
* ``escalate``: only the caller, and only to a step the caller's ladder has; ``step`` is the highest seen.
* ``update``: anyone; ``receipt``: anyone (``received_by`` is a set of authors: the caller's layer decides
  whose receipt counts); follow-up ``checkin`` posts are listed by id.
* A post from someone without the right to do what it asks is ignored silently; the fold never raises.

The ladder: step 0 (``after`` 0) is where the call went when posted; steps 1.. are escalations, each due
``after`` minutes after the call's ``created``, and only while nobody holds the call and it is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..vocab import CALL_STATUSES
from .posts import Post, dedupe_sorted, thread_call

STATUSES: Final = CALL_STATUSES


@dataclass(frozen=True, slots=True)
class LadderStep:
    """Where the call goes ``after`` minutes without anyone on it (``members`` only for "chosen")."""

    after: int
    to: str
    members: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Offer:
    """An offer of support in a call's thread ("I can come over")."""

    id: bytes
    author: bytes
    kind: str
    text: str
    created: int
    accepted: bool


@dataclass(frozen=True, slots=True)
class Update:
    """A message in a call's thread."""

    id: bytes
    author: bytes
    text: str
    created: int


@dataclass(frozen=True, slots=True)
class CallState:
    """Everything the circle knows about one call for support, folded from its posts."""

    id: bytes
    caller: bytes
    text: str
    urgency: str
    needs: tuple[str, ...]
    reach: str | None
    consent: tuple[str, ...]
    consent_note: str | None
    created: int
    lamport: int
    ladder: tuple[LadderStep, ...]
    status: str = "open"
    claimer: bytes | None = None
    claimed_at: int | None = None
    also_claimed: frozenset[bytes] = frozenset()
    offers: tuple[Offer, ...] = ()
    accepted: frozenset[bytes] = frozenset()
    updates: tuple[Update, ...] = ()
    resolved_by: bytes | None = None
    resolved_at: int | None = None
    followup_at: int | None = None
    step: int = 0
    received_by: frozenset[bytes] = frozenset()
    checkins: tuple[bytes, ...] = ()
    narrowed: bool = False          # the caller left someone out: readers see only that, never who


class _Thread:
    """Mutable replay state of one call; lives only inside ``fold_calls``."""

    __slots__ = ("call", "ladder", "active", "claimed_at", "resolve", "offers", "accepts", "updates",
                 "step", "received", "checkins")

    def __init__(self, call: Post) -> None:
        self.call = call
        self.ladder = tuple(LadderStep(s["after"], s["to"], tuple(s["members"])) for s in call.body["ladder"])
        self.active: dict[bytes, int] = {}   # members with an unreleased claim -> its created, in order
        self.claimed_at: int | None = None
        # the winning resolve, with the claim as it stood then: (post, claimer, also_claimed, claimed_at)
        self.resolve: tuple[Post, bytes | None, frozenset[bytes], int | None] | None = None
        self.offers: list[Post] = []
        self.accepts: set[bytes] = set()
        self.updates: list[Update] = []
        self.step = 0
        self.received: set[bytes] = set()
        self.checkins: list[bytes] = []

    @property
    def claimer(self) -> bytes | None:
        return next(iter(self.active), None)

    def claim(self, post: Post) -> None:
        if self.resolve is None and post.author != self.call.author and post.author not in self.active:
            if not self.active:
                self.claimed_at = post.created
            self.active[post.author] = post.created

    def release(self, post: Post) -> None:
        if self.resolve is None and post.author in self.active:
            was_claimer = post.author == self.claimer
            del self.active[post.author]
            if was_claimer:
                self.claimed_at = post.created if self.active else None

    def resolve_(self, post: Post, facilitators: frozenset[bytes]) -> None:
        claimer = self.claimer
        if self.resolve is None and (post.author in (self.call.author, claimer) or post.author in facilitators):
            others = frozenset(self.active) - {claimer} if claimer else frozenset()
            self.resolve = (post, claimer, others, self.claimed_at)

    def offer(self, post: Post) -> None:
        if self.resolve is None and post.author != self.call.author:
            self.offers.append(post)

    def accept(self, post: Post) -> None:
        if self.resolve is None and post.author == self.call.author:
            self.accepts.add(post.body["offer"])

    def update(self, post: Post) -> None:
        if self.resolve is None:
            self.updates.append(Update(post.id, post.author, post.body["text"], post.created))

    def escalate(self, post: Post) -> None:
        step = post.body["step"]
        if self.resolve is None and post.author == self.call.author and step < len(self.ladder):
            self.step = max(self.step, step)

    def receipt(self, post: Post) -> None:
        self.received.add(post.author)

    def checkin(self, post: Post) -> None:
        self.checkins.append(post.id)

    def lapse(self, members: frozenset[bytes]) -> None:
        """Drop the claims of people no longer in the circle from a call still open: whoever claimed
        earliest among those left holds it, from their own claim's time."""
        if self.resolve is not None:
            return
        was = self.claimer
        self.active = {m: at for m, at in self.active.items() if m in members}
        if self.claimer != was:
            self.claimed_at = self.active[self.claimer] if self.claimer is not None else None

    def freeze(self) -> CallState:
        body, claimer = self.call.body, self.claimer
        offer_ids = {p.id for p in self.offers}
        accepted = frozenset(self.accepts & offer_ids)
        offers = tuple(Offer(p.id, p.author, p.body["kind"], p.body["text"], p.created, p.id in accepted)
                       for p in self.offers)
        common: dict[str, Any] = {
            "id": self.call.id, "caller": self.call.author, "text": body["text"], "urgency": body["urgency"],
            "needs": tuple(body["needs"]), "reach": body["reach"], "consent": tuple(body["consent"]),
            "consent_note": body["consent_note"], "created": self.call.created, "lamport": self.call.lamport,
            "ladder": self.ladder, "offers": offers, "accepted": accepted, "updates": tuple(self.updates),
            "step": self.step, "received_by": frozenset(self.received), "checkins": tuple(self.checkins),
            "narrowed": body["narrowed"],
        }
        if self.resolve is not None:
            post, held_by, others, claimed_at = self.resolve
            return CallState(**common, status="resolved", claimer=held_by, claimed_at=claimed_at,
                             also_claimed=others,
                             resolved_by=post.author, resolved_at=post.created,
                             followup_at=post.body["followup_at"])
        if claimer is not None:
            return CallState(**common, status="claimed", claimer=claimer, claimed_at=self.claimed_at,
                             also_claimed=frozenset(self.active) - {claimer})
        return CallState(**common)


_APPLY: Final[Mapping[str, Callable[[_Thread, Post], None]]] = {
    "claim": _Thread.claim, "release": _Thread.release,
    "offer": _Thread.offer, "accept": _Thread.accept, "update": _Thread.update,
    "escalate": _Thread.escalate, "receipt": _Thread.receipt, "checkin": _Thread.checkin,
}


def fold_calls(posts: Iterable[Post], *, members: frozenset[bytes] | None = None,
               facilitators: frozenset[bytes] = frozenset()) -> dict[bytes, CallState]:
    """The state of every call in ``posts``, keyed by call id. Other kinds of post are skipped.

    ``members`` (the circle's current members; None: everyone counts) makes departed claimers' claims
    lapse; ``facilitators`` may resolve any call. Both come from the folded roster, so every node with
    the same posts and roster agrees. Independent of order and duplicates; never raises for posts
    whose bodies came from ``validate``.
    """
    ordered = dedupe_sorted(posts)
    threads = {p.id: _Thread(p) for p in ordered if p.kind == "call"}
    for post in ordered:
        call = thread_call(post)
        thread = threads.get(call) if call is not None else None
        if thread is None:
            continue
        if post.kind == "resolve":
            thread.resolve_(post, facilitators)
        else:
            _APPLY[post.kind](thread, post)
    if members is not None:
        for thread in threads.values():
            thread.lapse(members)
    return {call: thread.freeze() for call, thread in threads.items()}


def step_due_at(state: CallState, index: int) -> int:
    """Unix time at which ladder step ``index`` becomes due (the author's clock plus its minutes)."""
    return state.created + state.ladder[index].after * 60


def next_escalation(state: CallState, now: int) -> int | None:
    """The ladder step to escalate to now, or None.

    Only while the call is open (nobody holds it, not resolved): the highest step whose time has come and
    that is beyond ``state.step`` (a node that was asleep skips the steps it missed). Never a step the
    caller's ladder does not have, and never step 0 (where the call went when it was posted).
    """
    if state.status != "open":
        return None
    due = [i for i in range(state.step + 1, len(state.ladder)) if step_due_at(state, i) <= now]
    return due[-1] if due else None


def next_escalation_time(state: CallState) -> int | None:
    """When the next ladder step becomes due (for the timer loop), or None if none can.

    None while the call is held or resolved; the time may be in the past when a step is overdue.
    """
    index = state.step + 1
    if state.status != "open" or index >= len(state.ladder):
        return None
    return step_due_at(state, index)


def followup_due(state: CallState, followup_posted: bool, now: int) -> bool:
    """True when the opt-in follow-up of a resolved call should go out now (and has not yet)."""
    return (state.status == "resolved" and state.followup_at is not None and not followup_posted
            and now >= state.followup_at)


def ladder_data(state: CallState) -> list[dict[str, Any]]:
    """The call's ladder as its post body wrote it (member ids as bytes), for ``Circle.call_audience``."""
    return [{"after": s.after, "to": s.to, "members": list(s.members)} for s in state.ladder]


def people(state: CallState) -> set[bytes]:
    """Every member id that appears in the state (for looking up names)."""
    out = {state.caller, *state.also_claimed, *state.received_by}
    out |= {o.author for o in state.offers} | {u.author for u in state.updates}
    out |= {m for step in state.ladder for m in step.members}
    out |= {m for m in (state.claimer, state.resolved_by) if m is not None}
    return out
