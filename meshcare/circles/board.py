"""The mutual-aid board: needs and offers, who took each, and whether the circle allows anonymous posts.
Pure.

Theory of operation
-------------------
A ``need`` post (``kind`` need or offer: "I need a ride on Tuesday", "I can cook for two") is one item
of the board. Its thread is the ``need_take`` / ``need_release`` / ``need_done`` posts naming it, and the
``need_reach`` posts its author sent to whoever took it ("call me on ..."; sealed to that one person, so
only the taker's node and the author's hold them). ``fold_needs`` drops duplicates, sorts the thread by
``(lamport, id)`` and runs it through a small state machine, so the same set of posts gives the same
board on every node, whatever order they arrived in:

    state    post            by                 -> state
    open     need_take       anyone but author  -> taken (by them)
    taken    need_release    the taker, author  -> open
    open     need_done       the author         -> done
    taken    need_done       the author, taker  -> done

Anything else (a second take while taken, a release by a third person, anything after done) changes
nothing: a modified client cannot take over someone else's item or close it.

Anonymous posts. Whether the circle allows them is the facilitators' ``board_settings`` posts; the latest
one *before the need* in the circle's order ``(lamport, id)`` is in force for it (none: not allowed).
A need that asks to be anonymous while it is not allowed is **withheld**: it is never shown to others
(showing the name of someone who asked not to be named would be worse than not showing the post),
and nothing in its thread counts. Settings a facilitator changes later never change what was already
posted. The author's node still signs an anonymous need (every post is signed): the board hides the
name, but a modified client can read it from the envelope; the docs say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from .posts import Post, dedupe_sorted

#: The thread kinds of a need (each names it in ``body["need"]``).
THREAD_KINDS: Final = frozenset({"need_take", "need_release", "need_done", "need_reach"})
#: An item's states (``withheld``: an anonymous post the circle did not allow; shown to nobody else).
STATES: Final = ("open", "taken", "done", "withheld")
#: Settings in force, as ((lamport, id), anonymous allowed) of every facilitator's ``board_settings`` post
#: in the circle's order: the context of ``fold_needs``.
Settings = tuple[tuple[tuple[int, bytes], bool], ...]


@dataclass(frozen=True, slots=True)
class NeedState:
    """One item of the board as it is now.

    ``reach``: what the author sent the current taker about how to reach them (only on the taker's and
    the author's nodes; None elsewhere, or before it arrives). ``reached``: everyone the author's node
    sent it to (on the author's node: who has it already)."""

    id: bytes
    author: bytes
    kind: str                    # need | offer
    category: str
    text: str
    when: str
    anonymous: bool              # the board shows no name
    status: str                  # STATES
    taker: bytes | None
    done_by: bytes | None
    created: int
    lamport: int
    reach: str | None = None
    reached: frozenset[bytes] = frozenset()


def thread_need(post: Post) -> bytes | None:
    """The need a post belongs to: its own id for a ``need``, the need it names for its thread."""
    if post.kind == "need":
        return post.id
    if post.kind in THREAD_KINDS:
        need: bytes = post.body["need"]
        return need
    return None


def settings_of(posts: Iterable[Post], facilitators: frozenset[bytes]) -> Settings:
    """Every ``board_settings`` post by a facilitator (the current ones: the circle's roster), in order."""
    return tuple((p.order, bool(p.body["anonymous"])) for p in dedupe_sorted(posts)
                 if p.kind == "board_settings" and p.author in facilitators)


def anonymous_allowed(settings: Settings, at: tuple[int, bytes] | None = None) -> bool:
    """Whether anonymous posts are allowed: by the latest setting before ``at`` (None: the latest of all)."""
    allowed = False
    for order, value in settings:
        if at is not None and order >= at:
            break
        allowed = value
    return allowed


def fold_needs(posts: Iterable[Post], settings: Settings = ()) -> dict[bytes, NeedState]:
    """Every need or offer in ``posts`` with its state, keyed by id, in the circle's order. Never raises
    for bodies that came from ``validate``."""
    ordered = dedupe_sorted(posts)
    needs = {p.id: p for p in ordered if p.kind == "need"}
    threads: dict[bytes, list[Post]] = {nid: [] for nid in needs}
    for post in ordered:
        if post.kind in THREAD_KINDS and post.body["need"] in threads:
            threads[post.body["need"]].append(post)
    return {nid: _fold_one(need, threads[nid], settings) for nid, need in needs.items()}


def _fold_one(need: Post, thread: list[Post], settings: Settings) -> NeedState:
    body = need.body
    asked = bool(body["anonymous"])
    withheld = asked and not anonymous_allowed(settings, need.order)
    status = "withheld" if withheld else "open"
    taker: bytes | None = None
    done_by: bytes | None = None
    reaches: list[Post] = []
    for post in thread:
        if post.kind == "need_reach":
            if post.author == need.author:
                reaches.append(post)
            continue
        if status in ("withheld", "done"):
            continue
        who = post.author
        if post.kind == "need_take" and status == "open" and who != need.author:
            status, taker = "taken", who
        elif post.kind == "need_release" and status == "taken" and who in (taker, need.author):
            status, taker = "open", None
        elif post.kind == "need_done" and (who == need.author or (status == "taken" and who == taker)):
            status, done_by = "done", who
    reach = None
    if taker is not None:
        for post in reaches:
            if taker in post.body["to"]:
                reach = post.body["text"]          # the latest in the order wins
    reached = frozenset(m for p in reaches for m in p.body["to"])
    return NeedState(need.id, need.author, body["kind"], body["category"], body["text"], body["when"],
                     asked and not withheld, status, taker, done_by, need.created, need.lamport, reach, reached)


def visible_to(state: NeedState, me: bytes) -> bool:
    """Whether ``me`` sees this item at all (a withheld one: only its author, to be told why)."""
    return state.status != "withheld" or state.author == me


def reach_due(needs: Mapping[bytes, NeedState], me: bytes, texts: Mapping[bytes, str]) -> list[bytes]:
    """This node's items whose taker has not been sent how to reach ``me`` yet (and ``me`` left a way,
    ``texts``: need id -> what to send), in the board's order. Once per taker: the author's own
    ``need_reach`` posts say who has it (``reached``), so it is never sent twice, even after a restart."""
    return [nid for nid, s in needs.items()
            if s.author == me and s.status == "taken" and s.taker is not None and s.taker not in s.reached
            and texts.get(nid)]


def reach_spent(needs: Mapping[bytes, NeedState], texts: Mapping[bytes, str]) -> list[bytes]:
    """Items whose way to be reached this node still keeps though they are done: to forget."""
    return [nid for nid in texts if nid in needs and needs[nid].status == "done"]
