"""The check-in fold: facilitators' check-ins, members' structured replies, and the tally.

Theory of operation
-------------------
``fold_checkins`` drops duplicate posts, sorts by ``(lamport, id)`` and collects, per check-in, each
member's **latest** reply in that order: members may change their answer, and only their last one counts.
The result is the same for any order of the same set of posts.

Rules:

* Every ``checkin`` post is a check-in (with or without a call); the membership layer has already made
  sure its author is a facilitator.
* Replies to a check-in not in the set count for nothing (re-run the fold when it arrives), and so do
  replies whose option index is outside that check-in's options (they are dropped *before* picking the
  latest, so a broken reply does not erase a good one).
* A reply this node could not decrypt (visibility "facilitators" and we are not one) reaches us as
  ``posts.opaque_reply(checkin)``: ``option`` is None. It counts as answered, is not tallied, and as the
  latest reply it replaces the member's earlier one (their current answer is unknown to us).
* Replies after ``closes_at`` (by the replier's clock) still count and are marked ``late``: a late
  "need support now" must never be hidden.
* A reply whose option text is "need support now" carries ``suggest_call``: the interface offers to start
  a call for support with that member.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..vocab import SUGGEST_CALL_OPTION
from .posts import Post, dedupe_sorted


@dataclass(frozen=True, slots=True)
class Reply:
    """A member's current answer to one check-in (``option`` None: we cannot read it)."""

    id: bytes
    member: bytes
    option: int | None
    option_text: str | None
    text: str
    created: int
    late: bool
    suggest_call: bool


@dataclass(frozen=True, slots=True)
class CheckinState:
    """One check-in and the current reply of every member who answered (sorted by member id)."""

    id: bytes
    author: bytes
    prompt: str
    options: tuple[str, ...]
    visibility: str
    call: bytes | None
    closes_at: int | None
    created: int
    lamport: int
    replies: tuple[Reply, ...] = ()


def _reply(checkin: Post, post: Post) -> Reply:
    option: int | None = post.body["option"]
    text = None if option is None else checkin.body["options"][option]
    closes_at = checkin.body["closes_at"]
    return Reply(post.id, post.author, option, text, post.body["text"], post.created,
                 late=closes_at is not None and post.created > closes_at,
                 suggest_call=text == SUGGEST_CALL_OPTION)


def fold_checkins(posts: Iterable[Post]) -> dict[bytes, CheckinState]:
    """Every check-in in ``posts`` with its current replies, keyed by check-in id. Never raises for
    bodies that came from ``validate`` or ``opaque_reply``."""
    ordered = dedupe_sorted(posts)
    checkins = {p.id: p for p in ordered if p.kind == "checkin"}
    latest: dict[bytes, dict[bytes, Post]] = {cid: {} for cid in checkins}
    for post in ordered:
        if post.kind != "checkin_reply":
            continue
        checkin = checkins.get(post.body["checkin"])
        option = post.body["option"]
        if checkin is None or (option is not None and not 0 <= option < len(checkin.body["options"])):
            continue
        latest[checkin.id][post.author] = post  # later in the order replaces earlier
    out: dict[bytes, CheckinState] = {}
    for cid, post in checkins.items():
        body = post.body
        replies = tuple(_reply(post, latest[cid][m]) for m in sorted(latest[cid]))
        out[cid] = CheckinState(cid, post.author, body["prompt"], tuple(body["options"]), body["visibility"],
                                body["call"], body["closes_at"], post.created, post.lamport, replies)
    return out


def tally(state: CheckinState) -> dict[str, int]:
    """Option text -> number of current replies choosing it; every option present, in the check-in's
    order, zeros included. Unreadable replies are not in it (see ``answered``)."""
    counts = dict.fromkeys(state.options, 0)
    for reply in state.replies:
        if reply.option_text is not None:
            counts[reply.option_text] += 1
    return counts


def answered(state: CheckinState) -> frozenset[bytes]:
    """Members with a current reply, readable or not."""
    return frozenset(r.member for r in state.replies)


def not_answered(state: CheckinState, members: Iterable[bytes]) -> list[bytes]:
    """Of ``members`` (the caller's layer decides who was asked), those without a reply, sorted."""
    done = answered(state)
    return sorted({m for m in members if m not in done})


def is_closed(state: CheckinState, now: int) -> bool:
    """True once ``closes_at`` has passed (replies still count; the interface stops asking)."""
    return state.closes_at is not None and now >= state.closes_at
