"""The presence fold: who is available to take calls, until when, and how many they hold.

Theory of operation
-------------------
Each member gossips ``presence`` posts; the **latest** by ``(lamport, id)`` is their status (so the same
set of posts gives the same answer in any order). A status whose ``until`` has passed (``until <= now``)
means nothing any more and reads as ``"unknown"``, the same as never having said: an expired
"available" must not keep sending calls to someone who has gone to bed. A post without ``until`` lasts
``DEFAULT_PRESENCE_S`` (12 hours) from its author's clock: nobody stays "available" for ever because
they forgot to say "away".

Re-announcing: members who join see no post from before their join (new members read from their join
epoch on), so each node re-posts its own availability, unchanged and with its ``until`` made explicit,
when someone new can read the circle (``Registry``'s ``presence`` duty). A post equal to the author's
previous latest (same status, until, cap) keeps that one's ``since``: it changes who can read it, not
what it means.

``load`` counts the calls a member holds right now (claimer of a call still ``claimed``) that they took
at or after their current presence post (``CallState.claimed_at >= since``): the ``cap`` a member sets
("at most 2 calls") is about what they take on from that moment. ``is_full`` is true only for an
available member with a cap that their load has reached; away and unknown members are not "full", they
are simply not available, which the interface shows separately.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from .. import vocab
from ..vocab import PRESENCE_STATES
from .calls import CallState
from .posts import Post, dedupe_sorted

STATUSES: Final = PRESENCE_STATES
#: How long a presence post without ``until`` holds: an evening or a night (docs/circles.md).
DEFAULT_PRESENCE_S: Final = vocab.DEFAULT_PRESENCE_S


@dataclass(frozen=True, slots=True)
class PresenceState:
    """A member's current presence. ``since``: the author's clock on the post it came from (None when
    the member never posted); ``until`` and ``cap`` are None once the status expired."""

    member: bytes
    status: str = "unknown"
    until: int | None = None
    cap: int | None = None
    since: int | None = None


def fold_presence(posts: Iterable[Post], now: int) -> dict[bytes, PresenceState]:
    """Each author's latest presence post as a PresenceState (expired ones as "unknown"), keyed by
    member. Members who never posted presence are absent."""
    latest: dict[bytes, tuple[Post, int]] = {}          # author -> (latest post, its since)
    for post in dedupe_sorted(posts):
        if post.kind == "presence":
            before = latest.get(post.author)
            same = before is not None and _meaning(before[0]) == _meaning(post)
            latest[post.author] = (post, before[1] if same and before is not None else post.created)
    out: dict[bytes, PresenceState] = {}
    for member, (post, since) in latest.items():
        until = effective_until(post)
        if until <= now:
            out[member] = PresenceState(member, since=since)
        else:
            out[member] = PresenceState(member, post.body["status"], until, post.body["cap"], since)
    return out


def effective_until(post: Post) -> int:
    """When a presence post stops meaning anything: its ``until``, or ``DEFAULT_PRESENCE_S`` after it
    was made."""
    until = post.body["until"]
    return int(until) if until is not None else post.created + DEFAULT_PRESENCE_S


def _meaning(post: Post) -> tuple[str, int, int | None]:
    return (post.body["status"], effective_until(post), post.body["cap"])


def load(presence: Mapping[bytes, PresenceState], calls: Mapping[bytes, CallState], member: bytes) -> int:
    """How many open calls ``member`` holds that they claimed since their current presence post (all
    the calls they hold, if they never posted one)."""
    since = presence[member].since if member in presence else None
    return sum(1 for c in calls.values()
               if c.status == "claimed" and c.claimer == member
               and (since is None or (c.claimed_at is not None and c.claimed_at >= since)))


def is_full(presence: Mapping[bytes, PresenceState], calls: Mapping[bytes, CallState], member: bytes) -> bool:
    """True if ``member`` is available with a cap and already holds that many calls."""
    state = presence.get(member)
    return (state is not None and state.status == "available" and state.cap is not None
            and load(presence, calls, member) >= state.cap)


def full_of(presence: Mapping[bytes, PresenceState], calls: Mapping[bytes, CallState],
            members: Iterable[bytes]) -> frozenset[bytes]:
    """Those of ``members`` at their load cap (``is_full``): a chosen ladder step skips them rather than
    pinging them. Only members with a cap cost a look at the calls."""
    return frozenset(m for m in members if (s := presence.get(m)) is not None and s.cap is not None
                     and is_full(presence, calls, m))
