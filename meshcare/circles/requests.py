"""The private-request fold: a member's requests to facilitators, their threads, open or closed. Pure.

Theory of operation
-------------------
A member asks one or two facilitators of their choice for a conversation, a debrief or help with a
conflict (a ``request`` post). Every post of the thread (``request``, ``request_reply``,
``request_close``) is sealed with the "private" scheme to the people its ``to`` names (sealing.py), so
this node folds only the threads it is one of the people of: the asker and the facilitators asked.
Nobody else's node ever holds them readable, and nothing is kept after retention (the envelopes
expire like any other post; the fold then has nothing to show).

``fold_requests`` drops duplicate posts, sorts by ``(lamport, id)`` and collects, per request, its
replies and whether it is closed. The result is the same for any order and any repetition of the same
set of posts.

Rules (a member may run a modified client; what breaks a rule counts for nothing):

* Only a facilitator can be asked. That is judged by the facilitators of the epoch the request was
  sealed under (sealing.py refuses a ``request`` naming anyone else, as every node reads the same
  epoch): the same answer on every node, whatever roster changes arrive later.
* The people of a thread are the asker and the facilitators the request names. A reply counts when
  its author is one of them and it is sealed to exactly the others: a reply that leaves someone of the
  thread out, or names an outsider, would make the people of one thread see different threads.
* Only the asker closes a thread, sealed to exactly the facilitators asked. Closing is final; replies
  still count after it (nothing anyone wrote is hidden), but the ops refuse new ones.
* Replies and closes whose request is not in the set count for nothing (fold again when it arrives).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .posts import Post, dedupe_sorted

#: The post kinds of a request's thread.
REQUEST_KINDS = frozenset({"request", "request_reply", "request_close"})


@dataclass(frozen=True, slots=True)
class RequestReply:
    """One message in a request's thread, after the request itself."""

    id: bytes
    author: bytes
    text: str
    created: int


@dataclass(frozen=True, slots=True)
class RequestState:
    """One private request and its thread, as its people see it."""

    id: bytes
    asker: bytes
    to: tuple[bytes, ...]            # the facilitators asked, in the asker's order
    about: str
    text: str
    created: int
    lamport: int
    replies: tuple[RequestReply, ...] = ()
    closed: bool = False
    closed_at: int | None = None     # the asker's clock when they closed it

    @property
    def people(self) -> frozenset[bytes]:
        """Everyone who can read the thread: the asker and the facilitators asked."""
        return frozenset((self.asker, *self.to))


def request_key(post: Post) -> bytes | None:
    """The request a post of a thread belongs to (None: not a request post)."""
    if post.kind == "request":
        return post.id
    if post.kind in ("request_reply", "request_close"):
        return bytes(post.body["request"])
    return None


def asks_facilitators(to: Iterable[object], facilitators: frozenset[bytes]) -> bool:
    """True when every person a request asks (its ``to``, maybe not validated yet) is one of
    ``facilitators``: those of the epoch it was sealed under (sealing.py), or of the current one (the
    ops, before sealing)."""
    return all(type(m) is bytes and m in facilitators for m in to)


def _sealed_to_the_others(post: Post, people: frozenset[bytes]) -> bool:
    return frozenset(bytes(m) for m in post.body["to"]) == people - {post.author}


def fold_requests(posts: Iterable[Post]) -> dict[bytes, RequestState]:
    """Every request in ``posts`` with its thread, keyed by request id, in (lamport, id) order. Never
    raises for bodies that came from ``validate``."""
    ordered = dedupe_sorted(p for p in posts if p.kind in REQUEST_KINDS)
    asks = {p.id: p for p in ordered if p.kind == "request"}
    replies: dict[bytes, list[RequestReply]] = {rid: [] for rid in asks}
    closes: dict[bytes, Post] = {}
    for post in ordered:
        if post.kind == "request":
            continue
        ask = asks.get(bytes(post.body["request"]))
        if ask is None:
            continue
        people = frozenset((ask.author, *(bytes(m) for m in ask.body["to"])))
        if post.author not in people or not _sealed_to_the_others(post, people):
            continue
        if post.kind == "request_reply":
            replies[ask.id].append(RequestReply(post.id, post.author, post.body["text"], post.created))
        elif post.author == ask.author and ask.id not in closes:
            closes[ask.id] = post            # the first close in the order: closing is final
    out: dict[bytes, RequestState] = {}
    for rid, ask in asks.items():
        close = closes.get(rid)
        out[rid] = RequestState(rid, ask.author, tuple(bytes(m) for m in ask.body["to"]), ask.body["about"],
                                ask.body["text"], ask.created, ask.lamport, tuple(replies[rid]),
                                closed=close is not None, closed_at=None if close is None else close.created)
    return out


def waiting_on(state: RequestState, me: bytes) -> bool:
    """True when the last word in an open thread is someone else's (or nobody answered a request to
    ``me``): what a screen marks as "new"."""
    if state.closed:
        return False
    last = state.replies[-1].author if state.replies else state.asker
    return last != me
