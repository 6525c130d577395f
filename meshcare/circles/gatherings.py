"""The gatherings fold: support groups, workshops, walks and shared meals, with their RSVPs, their
cancellation, and the circle's template of group agreements. Pure.

Theory of operation
-------------------
``fold_gatherings`` drops duplicate posts, sorts by ``(lamport, id)`` and gathers, per gathering, each
member's **latest** RSVP in that order (people change their mind; only their last answer counts). The
result is the same for any order and any repetition of the same set of posts. ``agreements`` picks the
circle's template the same way: the latest ``agreements`` post that counts.

The context is the roster as it is now (``members``, ``facilitators``), as for calls: every permission
rule is here, once, and a post from someone without the right to do what it asks counts for nothing
(a member may run a modified client):

* A ``gathering`` post is a gathering; any member may organise one. Its ``hosts`` (the facilitators of
  that gathering: the organiser and one more by default) are kept as written; only those still members
  act as hosts. ``ends`` before ``when`` reads as no end given.
* ``gathering_cancel``: by the gathering's author, one of its hosts, or a facilitator of the circle, each
  still a member. Any such cancel cancels (order does not matter: a cancellation is not undone); the
  first in the order is the one shown (``cancelled_by``, ``cancelled_at``).
* ``rsvp``: by a current member, naming a gathering in the set (one not yet here counts when it
  arrives: the fold is re-run); the member's latest answer counts. RSVPs of people who left are
  dropped. An RSVP after a cancellation still folds (it changes nothing anyone acts on).
* ``agreements``: by a current facilitator; the latest by ``(lamport, id)`` is the circle's template;
  before any, ``vocab.DEFAULT_AGREEMENTS``.

Who sees what (``sees_names``): the names behind the RSVPs are shown to the gathering's hosts and to the
circle's facilitators; everyone else sees counts and their own answer. The RSVP post's author travels
to every member with the post, so this is what the interface shows, not a cryptographic secret
(docs/circles.md says so). The ``where`` of a gathering is members-only like every post: the circle's
epoch key.

Time: ``reminders`` lists when this person is to be reminded (``remind`` minutes before ``when``) of
the gatherings they said yes or maybe to, or host; ``is_over`` says when aftercare is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Final

from ..vocab import DEFAULT_AGREEMENTS
from .posts import Post, dedupe_sorted

#: The kinds this fold reads.
KINDS: Final = frozenset({"gathering", "gathering_cancel", "rsvp", "agreements"})
#: How long a gathering with no ``ends`` is taken to last (for "upcoming" and aftercare), seconds.
DEFAULT_LENGTH: Final = 2 * 3600


@dataclass(frozen=True, slots=True)
class Rsvp:
    """A member's current answer to one gathering."""

    id: bytes
    member: bytes
    answer: str
    created: int


@dataclass(frozen=True, slots=True)
class GatheringState:
    """One gathering and each current member's latest RSVP (sorted by member id)."""

    id: bytes
    author: bytes
    title: str
    kind: str
    when: int
    ends: int | None
    where: str
    about: str
    hosts: tuple[bytes, ...]
    agreements: tuple[str, ...]
    format: tuple[str, ...]
    aftercare: str
    remind: int                     # minutes before ``when`` (0: no reminder)
    created: int
    lamport: int
    rsvps: tuple[Rsvp, ...] = ()
    cancelled_by: bytes | None = None
    cancelled_at: int | None = None

    @property
    def cancelled(self) -> bool:
        return self.cancelled_by is not None


def _gathering(post: Post) -> GatheringState:
    body = post.body
    ends = body["ends"]
    return GatheringState(post.id, post.author, body["title"], body["kind"], body["when"],
                          ends if ends is not None and ends >= body["when"] else None, body["where"], body["about"],
                          tuple(body["hosts"]), tuple(body["agreements"]), tuple(body["format"]), body["aftercare"],
                          body["remind"], post.created, post.lamport)


def may_cancel(state: GatheringState, member: bytes, members: Iterable[bytes] | Mapping[bytes, object],
               facilitators: Iterable[bytes]) -> bool:
    """The gathering's author, one of its hosts, or a facilitator of the circle; each still a member."""
    if member not in members:
        return False
    return member == state.author or member in state.hosts or member in frozenset(facilitators)


def fold_gatherings(posts: Iterable[Post], *, members: Iterable[bytes] | Mapping[bytes, object],
                    facilitators: Iterable[bytes]) -> dict[bytes, GatheringState]:
    """Every gathering in ``posts`` with its cancellation and current RSVPs, keyed by id, in
    ``(lamport, id)`` order. Never raises for bodies that came from ``validate``."""
    members = frozenset(members)
    facilitators = frozenset(facilitators) & members
    ordered = dedupe_sorted(posts)
    states = {p.id: _gathering(p) for p in ordered if p.kind == "gathering"}
    latest: dict[bytes, dict[bytes, Post]] = {gid: {} for gid in states}
    cancel: dict[bytes, Post] = {}
    for post in ordered:
        if post.kind == "rsvp":
            gid = post.body["gathering"]
            if gid in latest and post.author in members:
                latest[gid][post.author] = post          # later in the order replaces earlier
        elif post.kind == "gathering_cancel":
            state = states.get(post.body["gathering"])
            if state is not None and state.id not in cancel and may_cancel(state, post.author, members, facilitators):
                cancel[state.id] = post
    out: dict[bytes, GatheringState] = {}
    for gid, state in states.items():
        rsvps = tuple(Rsvp(p.id, m, p.body["answer"], p.created) for m, p in sorted(latest[gid].items()))
        how = cancel.get(gid)
        out[gid] = replace(state, rsvps=rsvps, cancelled_by=None if how is None else how.author,
                           cancelled_at=None if how is None else how.created)
    return out


def agreements(posts: Iterable[Post], *, members: Iterable[bytes] | Mapping[bytes, object],
               facilitators: Iterable[bytes]) -> tuple[str, ...]:
    """The circle's template of group agreements: the latest ``agreements`` post by a current
    facilitator, else ``vocab.DEFAULT_AGREEMENTS``."""
    allowed = frozenset(facilitators) & frozenset(members)
    found = [p for p in dedupe_sorted(posts) if p.kind == "agreements" and p.author in allowed]
    return tuple(found[-1].body["items"]) if found else DEFAULT_AGREEMENTS


# --- reading a state ------------------------------------------------------------------------------


def counts(state: GatheringState) -> dict[str, int]:
    """Answer -> how many current RSVPs give it: yes, maybe, no (zeros included)."""
    out = {"yes": 0, "maybe": 0, "no": 0}
    for rsvp in state.rsvps:
        out[rsvp.answer] += 1
    return out


def answer_of(state: GatheringState, member: bytes) -> str | None:
    """``member``'s current answer, or None."""
    for rsvp in state.rsvps:
        if rsvp.member == member:
            return rsvp.answer
    return None


def sees_names(state: GatheringState, member: bytes, members: Iterable[bytes] | Mapping[bytes, object],
               facilitators: Iterable[bytes]) -> bool:
    """Whether ``member`` is shown who answered what: the gathering's hosts and the circle's
    facilitators (still members). Others see counts and their own answer (module docstring)."""
    return member in members and (member in state.hosts or member in frozenset(facilitators))


def end_of(state: GatheringState) -> int:
    """When the gathering is over: its ``ends``, or ``DEFAULT_LENGTH`` after it starts."""
    return state.ends if state.ends is not None else state.when + DEFAULT_LENGTH


def is_upcoming(state: GatheringState, now: int) -> bool:
    """Not cancelled and not over yet (one under way is still upcoming: people look for the room)."""
    return not state.cancelled and now < end_of(state)


def is_over(state: GatheringState, now: int) -> bool:
    """It has started (aftercare, "who to contact if something came up for you", is shown from then)."""
    return now >= state.when


def reminders(states: Mapping[bytes, GatheringState], member: bytes) -> tuple[tuple[int, bytes], ...]:
    """(time, gathering id) of every reminder due to ``member``, sorted: ``remind`` minutes before a
    gathering not cancelled, which they said yes or maybe to, or which they host and did not decline."""
    out = []
    for gid, state in states.items():
        if state.cancelled or state.remind <= 0:
            continue
        answer = answer_of(state, member)
        if answer in ("yes", "maybe") or (answer is None and (member in state.hosts or member == state.author)):
            out.append((state.when - state.remind * 60, gid))
    return tuple(sorted(out))
