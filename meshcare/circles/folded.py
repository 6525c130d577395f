"""A circle's posts folded into calls, check-ins, plan shares and presence, kept up to date post by post.
Pure.

Theory of operation
-------------------
Each fold (calls.py, checkins.py, plans.py, presence.py) gives a map key -> state in which every state
depends only on the posts with that key (a call and its thread, a check-in and its replies, a share and
its retraction, a member's presence posts) and on a *context* read from the roster (the members and
facilitators, for calls). So a ``KeyedFold`` keeps the posts grouped by key and, when posts come, go or
change, folds again only the groups they touched; when the context changes, every group.

The circle says what changed: ``Circle.changed_since(cursor)`` lists the posts that came, went or
changed reading since the last look (or None when the look is too old: then everything is folded
again). Folding every post of the circle for every post that arrived made a node's work per message grow
with the circle's history: 0.8 ms per ``call.create`` at 700 calls (docs/benchmarks.md, section 10).

A fold's result is a fresh dict each time it changes (the change summaries in changes.py keep the old
one to compare with), with the same order ``fold_*`` gives; a state that did not change is the same
object as before, so comparing two results costs little. ``tests/test_folded.py`` holds every result
equal to folding all posts again.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Final, Generic, TypeVar

from . import board as bd
from . import calls as cl
from . import checkins as ck
from . import followups as fu
from . import gatherings as gt
from . import ladders as ld
from . import library as lb
from . import plans as pl
from . import presence as pr
from . import requests as rqs
from . import safety as sf
from ..vocab import DEFAULT_AGREEMENTS
from .posts import Post, thread_call

S = TypeVar("S")
_UNSET: Final = object()


class KeyedFold(Generic[S]):
    """``fold`` of a set of posts, kept up to date by groups (see the module docstring).

    ``key_of(post)``: the group a post belongs to (None: not this fold's). ``fold(posts, context)``: the
    states of a group's posts (the state of the group's key, if any). ``order(state)``: where a state
    sits in the result."""

    def __init__(self, key_of: Callable[[Post], bytes | None],
                 fold: Callable[[list[Post], Any], dict[bytes, S]],
                 order: Callable[[S], Any]) -> None:
        self._key_of, self._fold, self._order = key_of, fold, order
        self.reset()

    def reset(self) -> None:
        """Forget every post (the next ``update`` is given all of them)."""
        self._groups: dict[bytes, dict[bytes, Post]] = {}     # key -> its posts by id
        self._key: dict[bytes, bytes] = {}                    # post id -> its key
        self._states: dict[bytes, S] = {}
        self._sorted: list[tuple[Any, bytes]] = []            # (order, key) of every state
        self._context: Any = _UNSET
        self.result: dict[bytes, S] = {}

    def update(self, changed: Iterable[tuple[bytes, Post | None]], context: Hashable = None) -> dict[bytes, S]:
        """Take (post id, the post now or None if gone or unreadable) pairs; return the folded states."""
        dirty: set[bytes] = set()
        for post_id, post in changed:
            old = self._key.pop(post_id, None)
            if old is not None:
                members = self._groups[old]
                del members[post_id]
                if not members:
                    del self._groups[old]
                dirty.add(old)
            key = self._key_of(post) if post is not None else None
            if key is not None and post is not None:
                self._groups.setdefault(key, {})[post_id] = post
                self._key[post_id] = key
                dirty.add(key)
        if context != self._context:
            self._context = context
            dirty |= set(self._groups) | set(self._states)
        if not dirty:
            return self.result
        moved = False                    # a key came, went or changed place: the order is rebuilt
        tail = self._sorted[-1] if self._sorted else None
        for key in dirty:
            group = self._groups.get(key)
            state = self._fold(list(group.values()), context).get(key) if group else None
            was = self._states.pop(key, None)
            if was is not None and (state is None or self._order(state) != self._order(was)):
                del self._sorted[bisect.bisect_left(self._sorted, (self._order(was), key))]
                moved = True
            if state is not None:
                self._states[key] = state
                if was is None or self._order(state) != self._order(was):
                    place = (self._order(state), key)
                    moved = moved or (tail is not None and place < tail)
                    bisect.insort(self._sorted, place)
        if moved:
            self.result = {key: self._states[key] for _, key in self._sorted}
        else:
            # nothing went and nothing moved: states changed in place, or new ones sort after every
            # old one (a new call, the usual case); a copy in C keeps the order, new keys go at its end
            result = dict(self.result)
            for key in sorted((k for k in dirty if k in self._states), key=lambda k: (self._order(self._states[k]), k)):
                result[key] = self._states[key]
            self.result = result
        return self.result


def _call_key(post: Post) -> bytes | None:
    return post.id if post.kind == "call" else thread_call(post)


def _fold_calls(posts: list[Post], context: Any) -> dict[bytes, cl.CallState]:
    members, facilitators = context
    return cl.fold_calls(posts, members=members, facilitators=facilitators)


def _checkin_key(post: Post) -> bytes | None:
    if post.kind == "checkin":
        return post.id
    return post.body["checkin"] if post.kind == "checkin_reply" else None


def _share_key(post: Post) -> bytes | None:
    if post.kind == "plan_share":
        return post.id
    return post.body["share"] if post.kind == "plan_retract" else None


def _presence_key(post: Post) -> bytes | None:
    return post.author if post.kind == "presence" else None


def _gathering_key(post: Post) -> bytes | None:
    if post.kind == "gathering":
        return post.id
    if post.kind in ("rsvp", "gathering_cancel"):
        return bytes(post.body["gathering"])
    return AGREEMENTS if post.kind == "agreements" else None


#: The one key of the agreements template in ``Folded.gatherings`` (post ids are 32 bytes long).
AGREEMENTS: Final = b"agreements"


def _fold_gatherings(posts: list[Post], context: Any) -> dict[bytes, Any]:
    """Gatherings by id, and the circle's agreements template under ``AGREEMENTS`` (``Folded.split``)."""
    members, facilitators = context
    if any(p.kind == "agreements" for p in posts):
        return {AGREEMENTS: gt.agreements(posts, members=members, facilitators=facilitators)}
    return dict(gt.fold_gatherings(posts, members=members, facilitators=facilitators))


def _gathering_order(state: Any) -> tuple[int, bytes]:
    return (-1, b"") if isinstance(state, tuple) else (state.lamport, state.id)
def _followup_key(post: Post) -> bytes | None:
    """A follow-up joins its call's group, and so does the call post (it says who may ask)."""
    if post.kind == "call":
        return post.id
    return post.body["call"] if post.kind in ("followup", "followup_done") else None


def _safety_key(post: Post) -> bytes | None:
    if post.kind == "safety":
        return post.id
    return post.body["timer"] if post.kind == "safety_ping" else None


def _fold_safety(posts: list[Post], context: Any) -> dict[bytes, sf.TimerState]:
    members, facilitators = context
    return sf.fold_safety(posts, members, facilitators)


#: The one group (and key) of the board's settings posts in ``Folded.board_settings``.
BOARD_SETTINGS: Final = b"board"


def _settings_key(post: Post) -> bytes | None:
    return BOARD_SETTINGS if post.kind == "board_settings" else None


def _fold_settings(posts: list[Post], facilitators: Any) -> dict[bytes, bd.Settings]:
    return {BOARD_SETTINGS: bd.settings_of(posts, facilitators)}


def _by_clock(state: Any) -> tuple[int, bytes]:
    return (state.lamport, state.id)


class Folded:
    """One circle's folds, and how far into its journal of post changes they are."""

    def __init__(self) -> None:
        self.calls: KeyedFold[cl.CallState] = KeyedFold(_call_key, _fold_calls, _by_clock)
        self.checkins: KeyedFold[ck.CheckinState] = KeyedFold(
            _checkin_key, lambda posts, _: ck.fold_checkins(posts), _by_clock)
        self.shares: KeyedFold[pl.ShareState] = KeyedFold(_share_key, lambda posts, _: pl.fold_shares(posts), _by_clock)
        # presence folded as if it never ran out (time 0); ``presence_at`` applies the clock when read
        self.presence: KeyedFold[pr.PresenceState] = KeyedFold(
            _presence_key, lambda posts, _: pr.fold_presence(posts, 0), lambda state: state.member)
        # gatherings with their RSVPs, and the agreements template as one more key (``gatherings_of``)
        self.gatherings: KeyedFold[Any] = KeyedFold(_gathering_key, _fold_gatherings, _gathering_order)
        self.ladders: KeyedFold[ld.LadderRequest] = KeyedFold(
            ld.request_key, lambda posts, _: ld.fold_ladders(posts), _by_clock)
        self.followups: KeyedFold[fu.FollowupState] = KeyedFold(
            _followup_key, lambda posts, _: fu.fold_followups(posts), lambda state: (state.lamport, state.call))
        self.safety: KeyedFold[sf.TimerState] = KeyedFold(_safety_key, _fold_safety, _by_clock)
        # private requests to facilitators and the circle's library (circles/requests.py, library.py)
        self.requests: KeyedFold[rqs.RequestState] = KeyedFold(
            rqs.request_key, lambda posts, _: rqs.fold_requests(posts), _by_clock)
        self.library: KeyedFold[lb.NoteState] = KeyedFold(lb.note_key, lambda posts, _: lb.fold_library(posts), _by_clock)
        # the board: its settings (one group, judged by the facilitators), then the needs, whose context
        # is those settings (a change of setting refolds every need: rare)
        self.board_settings: KeyedFold[bd.Settings] = KeyedFold(_settings_key, _fold_settings, lambda _: 0)
        self.needs: KeyedFold[bd.NeedState] = KeyedFold(bd.thread_need, bd.fold_needs, _by_clock)
        self._folds: tuple[KeyedFold[Any], ...] = (self.calls, self.checkins, self.shares, self.presence,
                                                   self.gatherings, self.ladders, self.followups, self.safety,
                                                   self.requests, self.library, self.board_settings, self.needs)
        self._cursor: int | None = None
        self._gathering_split: tuple[dict[bytes, Any], dict[bytes, gt.GatheringState], tuple[str, ...]] | None = None

    def catch_up(self, changed: list[tuple[bytes, Post | None]] | None, everything: Iterable[Post],
                 cursor: int, members: frozenset[bytes], facilitators: frozenset[bytes]) -> None:
        """Take what changed since the last call (``changed``), or, when that is None, ``everything``."""
        if changed is None:
            for fold in self._folds:
                fold.reset()
            changed = [(p.id, p) for p in everything]
        context = (members, facilitators)
        with_roster = (self.calls, self.gatherings, self.safety)     # the folds whose rules read the roster
        board = (self.board_settings, self.needs)           # their own contexts, below
        for fold in self._folds:
            if fold in with_roster:
                fold.update(changed, context)
            elif fold not in board:
                fold.update(changed)
        self.board_settings.update(changed, facilitators)
        self.needs.update(changed, self.board_settings.result.get(BOARD_SETTINGS, ()))
        self._cursor = cursor

    def gathering_parts(self) -> tuple[dict[bytes, gt.GatheringState], tuple[str, ...]]:
        """``gatherings.result`` split: the gatherings by id (in order), and the agreements template
        (``vocab.DEFAULT_AGREEMENTS`` before any). Kept while the result is the same object, so the
        registry's view keeps the very map while nothing changed (changes.py compares by identity)."""
        result = self.gatherings.result
        if self._gathering_split is None or self._gathering_split[0] is not result:
            template = result.get(AGREEMENTS)
            self._gathering_split = (result, {k: s for k, s in result.items() if k != AGREEMENTS},
                                     template if template is not None else DEFAULT_AGREEMENTS)
        return self._gathering_split[1], self._gathering_split[2]

    @property
    def cursor(self) -> int | None:
        return self._cursor


def presence_at(folded: dict[bytes, pr.PresenceState], now: int) -> dict[bytes, pr.PresenceState]:
    """Presence states folded as at time 0, as they read at ``now`` (those that ran out: unknown)."""
    out = {}
    for member, state in folded.items():
        if state.until is not None and state.until <= now:
            out[member] = pr.PresenceState(member, since=state.since)
        else:
            out[member] = state
    return out
