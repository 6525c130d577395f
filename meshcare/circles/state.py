"""This node's private state beside the store, as a value: circle secrets, invites it is using, counters,
its own plan, its "who not to involve" lists.

The model is pure (the circles registry owns and changes it); ``transport/state_file.py`` encrypts and
writes it. Everything in it is secret or personal, which is why the file is encrypted and 0600.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from ..errors import StoreError

VERSION: Final = 7
#: Versions ``from_obj`` still reads (2: before the "who not to involve" lists; 3: before the board's
#: ways to be reached; 4: before social recovery; 5: before the circles where this node's onion
#: address is not shared; 6: before mailboxes).
READABLE: Final = (2, 3, 4, 5, 6, 7)


@dataclass
class CircleEntry:
    secret: bytes
    founder: bytes
    verified: set[bytes] = field(default_factory=set)
    joined: int = 0
    #: roster-key generations handed over in the welcome (those before we joined; later ones are
    #: re-learned from the roster operations in the store at every start)
    roster_keys: dict[int, bytes] = field(default_factory=dict)


@dataclass
class Joining:
    """A token this node is using to join, until the welcome arrives."""

    token: str
    name: str
    since: int


@dataclass
class Requesting:
    """A social-recovery request this (new) device made: the request's X25519 private key, kept until
    the recovery is done (meshcare/recovery)."""

    private: bytes
    owner: bytes          # the identity asked for (b"": whoever the holders release for)
    name: str
    since: int


@dataclass
class LocalState:
    circles: dict[bytes, CircleEntry] = field(default_factory=dict)      # topic -> entry
    joining: dict[bytes, Joining] = field(default_factory=dict)          # invite key -> joining
    seq: dict[bytes, int] = field(default_factory=dict)                  # topic -> last seq this node used
    prev: dict[bytes, bytes] = field(default_factory=dict)               # topic -> id of that envelope
    plan: dict[str, str] | None = None
    followups: set[bytes] = field(default_factory=set)                   # calls whose follow-up was posted
    #: topic -> members this person asked never to be involved in their calls there. Kept on this node
    #: only, never posted: ``Circle.call_audience`` leaves them out of every call this node makes.
    avoid: dict[bytes, set[bytes]] = field(default_factory=dict)
    #: this person's own board items -> how whoever takes one can reach them ("call me on ..."): never
    #: in the public post, sent only to the taker (duties.py, ``reach``), forgotten once the item is done
    reach: dict[bytes, str] = field(default_factory=dict)
    #: social recovery (meshcare/recovery). ``held``: owner identity -> the share this node holds for
    #: them (``records.Held``: kept here because posts expire); ``own_setup``: this person's own setup
    #: record and the circle its shares went through; ``requesting``: this new device's request;
    #: ``released``: request key -> (owner, until when this node serves that request's lobby)
    held: dict[bytes, Any] = field(default_factory=dict)
    own_setup: tuple[bytes, bytes] | None = None
    requesting: Requesting | None = None
    released: dict[bytes, tuple[bytes, int]] = field(default_factory=dict)
    #: circles (topics) where this person turned sharing their node's onion address off
    #: (``circle.reach``): the node posts ``reach`` "" there instead of its address (circles/reach.py)
    unshared: set[bytes] = field(default_factory=set)
    #: node ids this person named as their mailboxes (``meshcare mailbox set``): their node keeps a link to
    #: each whenever it can (``sync.neighbours``: dialled first, never trimmed)
    mailboxes: set[bytes] = field(default_factory=set)

    def to_obj(self) -> list[Any]:
        return [VERSION,
                [[t, c.secret, c.founder, sorted(c.verified), c.joined, sorted(c.roster_keys.items())]
                 for t, c in sorted(self.circles.items())],
                [[k, j.token, j.name, j.since] for k, j in sorted(self.joining.items())],
                [[t, n, self.prev.get(t, b"")] for t, n in sorted(self.seq.items())],
                self.plan,
                sorted(self.followups),
                [[t, sorted(m)] for t, m in sorted(self.avoid.items()) if m],
                sorted(self.reach.items()),
                [[[o, *h.to_obj()] for o, h in sorted(self.held.items())],
                 list(self.own_setup) if self.own_setup else None,
                 [self.requesting.private, self.requesting.owner, self.requesting.name, self.requesting.since]
                 if self.requesting else None,
                 [[k, o, u] for k, (o, u) in sorted(self.released.items())]],
                sorted(self.unshared),
                sorted(self.mailboxes)]

    @classmethod
    def from_obj(cls, obj: Any) -> "LocalState":
        if type(obj) is not list or not obj or obj[0] not in READABLE or len(obj) != 4 + obj[0]:
            raise StoreError("the circle state file is from another meshcare version")
        _, circles, joining, seq, plan, followups, *rest = obj
        avoid = {t: set(m) for t, m in rest[0]} if rest else {}
        reach = {n: text for n, text in rest[1]} if len(rest) > 1 else {}
        state = cls({t: CircleEntry(s, f, set(v), j, {g: k for g, k in r}) for t, s, f, v, j, r in circles},
                    {k: Joining(tok, n, s) for k, tok, n, s in joining},
                    {t: n for t, n, _ in seq}, {t: p for t, _, p in seq if p}, plan, set(followups), avoid, reach)
        if len(rest) > 2:
            from ..recovery.records import Held
            held, own, requesting, released = rest[2]
            state.held = {item[0]: Held.from_obj(item[1:]) for item in held}
            state.own_setup = (own[0], own[1]) if own else None
            state.requesting = Requesting(*requesting) if requesting else None
            state.released = {k: (o, u) for k, o, u in released}
        if len(rest) > 3:
            state.unshared = set(rest[3])
        if len(rest) > 4:
            state.mailboxes = set(rest[4])
        return state
