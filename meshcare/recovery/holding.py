"""What a holder's node keeps: the shares it holds for others, taken from the ``recovery_share`` posts
sealed to it, into its local state. Pure.

Posts expire with the circle's retention; a share must outlive that, so the node copies it into its
(encrypted, 0600) local state as soon as it opens the post, and again on its periodic sweep for posts
that opened late (waiting for an epoch key). One entry per owner: a newer setup by the same owner
replaces the older one (the old share is dropped), an older or replayed one changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..circles.posts import Post
from ..circles.state import LocalState
from ..errors import RemoteProtocolError
from .records import Held, check_package, read_record

KIND = "recovery_share"


def keep(state: LocalState, circle: bytes, post: Post, me: bytes) -> bool:
    """Take ``post`` into ``state.held`` if it is a valid share for this node from the record's owner and
    newer than what is held for them. True if the state changed (the caller saves it)."""
    if post.kind != KIND or me not in post.body["to"] or post.author == me:
        return False
    try:
        record = check_package(me, post.body["share"], post.body["bundle"], post.body["record"])
    except RemoteProtocolError:
        return False
    if record.owner != post.author:
        return False                      # only the owner hands out their shares
    current = state.held.get(record.owner)
    if current is not None:
        try:
            if not record.newer_than(read_record(current.record)):
                return False
        except RemoteProtocolError:
            pass                          # what we held is unreadable (cannot happen): replace it
    state.held[record.owner] = Held(post.body["share"], post.body["bundle"], post.body["record"], circle,
                                    post.created)
    return True


def scan(state: LocalState, posts_by_circle: Iterable[tuple[bytes, Iterable[Post]]], me: bytes) -> bool:
    """``keep`` for every post of every circle given. True if the state changed."""
    changed = False
    for circle, posts in posts_by_circle:
        for post in posts:
            if post.kind == KIND:
                changed = keep(state, circle, post, me) or changed
    return changed
