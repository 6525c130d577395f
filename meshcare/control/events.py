"""What the daemon tells a subscribed client as it happens: one typed event per name, ``EVENTS`` maps
event name -> class.

Events are hints that something changed, not the state itself: a client that reconnects asks again
(``calls.list``, ``circle.list``, ...). Their data keys are contracts like result keys: added to, never
renamed. A client ignores event names it does not know (a newer daemon may send more).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Final

from .. import vocab
from . import names as n
from .schema import Choice, Flag, Record, Text, key
from .views import CIRCLE_ID, COUNT, ID

__all__ = ["CallEvent", "CircleEvent", "EVENTS", "EnvelopeEvent", "Event", "PeerEvent"]


class Event(Record):
    """Base of every event; ``NAME`` is its name on the wire."""

    __slots__ = ()
    WHAT: ClassVar[str] = "the event"
    NAME: ClassVar[str] = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerEvent(Event):
    """A link to another node opened or ended."""

    NAME: ClassVar[str] = n.EV_PEER
    address: str = key(Text(), "host:port of the link")
    node_id: str = key(ID, "the other node's id")
    linked: bool = key(Flag(), "true: the link opened; false: it ended")


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvelopeEvent(Event):
    """An envelope was stored: this node's own, or one received."""

    NAME: ClassVar[str] = n.EV_ENVELOPE
    id: str = key(ID, "the envelope's id")
    topic: str = key(CIRCLE_ID, "the topic it belongs to (a circle's id, or a lobby's)")
    author: str = key(ID, "who signed it")
    lane: int = key(COUNT, "its priority lane (calls for support travel in the urgent lane)")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircleEvent(Event):
    """An envelope of a circle this node is in (or joining) was taken in: ask again for what it shows."""

    NAME: ClassVar[str] = n.EV_CIRCLE
    circle: str = key(CIRCLE_ID, "the circle's id (or the lobby's, while joining)")
    author: str = key(ID, "who signed it")
    id: str = key(ID, "the envelope's id")
    roster: bool = key(Flag(), "it is a roster operation (members, roles, invites, keys)")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent(Event):
    """Something this person should know about one call. ``claim_lost``: they claimed it while apart
    from someone whose claim came first in the circle's order; both were told "you have this call" at
    first; this says who has it. Sent once per call, and not when ``call.claim`` already answered
    ``have_it: false``."""

    NAME: ClassVar[str] = n.EV_CALL
    event: str = key(Choice(vocab.CALL_NOTICES), "what happened")
    circle: str = key(CIRCLE_ID, "the circle's id")
    call: str = key(ID, "the call's id")
    claimer: str = key(ID, "who has the call")


_ALL: Final[tuple[type[Event], ...]] = (PeerEvent, EnvelopeEvent, CircleEvent, CallEvent)

#: Event name -> the class of its data.
EVENTS: Final[Mapping[str, type[Event]]] = {cls.NAME: cls for cls in _ALL}
