"""The node's facts as control events: ``event_of(fact)`` is the one place a ``Tell`` effect's fact
(``circles/changes.py``, ids as bytes) becomes the control API's typed event record (``control/events.py``,
ids as hex). Pure.

The shell publishes ``record.NAME`` with ``record.to_data()`` to its subscribers; nothing else decides
what a client is told. ``peer_event`` is the same for the shell's own fact, a link opened or ended.
"""

from __future__ import annotations

from ..circles import changes as ch
from ..control import events as ev

__all__ = ["event_of", "peer_event"]


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def event_of(fact: ch.Fact) -> ev.Event:
    """The control event that tells ``fact``."""
    if isinstance(fact, ch.MemberChanged):
        return ev.MemberEvent(circle=fact.circle.hex(), change=fact.change, member=fact.member.hex(), name=fact.name,
                              role=fact.role, was=fact.was)
    if isinstance(fact, ch.InviteChanged):
        return ev.InviteEvent(circle=fact.circle.hex(), change=fact.change, invite=fact.invite.hex(),
                              by=fact.by.hex(), mine=fact.mine, member=_hex(fact.member), name=fact.name)
    if isinstance(fact, ch.JoinAnswered):
        return ev.JoinEvent(circle=fact.circle.hex(), name=fact.name, outcome=fact.outcome, reason=fact.reason)
    if isinstance(fact, ch.PresenceChanged):
        return ev.PresenceEvent(circle=fact.circle.hex(), member=fact.member.hex(), status=fact.status,
                                until=fact.until, cap=fact.cap)
    if isinstance(fact, ch.SyncChanged):
        return ev.SyncEvent(circle=fact.circle.hex(), state="catching_up" if fact.catching_up else "caught_up")
    if isinstance(fact, ch.Notice):
        return ev.NoticeEvent(circle=fact.circle.hex(), circle_name=fact.circle_name, kind=fact.kind,
                              member=fact.member.hex(), name=fact.name, previous=_hex(fact.previous))
    if isinstance(fact, ch.CallChanged):
        return ev.CallChangedEvent(circle=fact.circle.hex(), call=fact.call.hex(), change=fact.change,
                                   parts=fact.parts)
    return ev.CheckinChangedEvent(circle=fact.circle.hex(), checkin=fact.checkin.hex(), change=fact.change,
                                  members=tuple(m.hex() for m in fact.members))


def peer_event(address: str, node_id: bytes, linked: bool) -> ev.PeerEvent:
    """A link to ``node_id`` at ``address`` (host:port) opened (``linked``) or ended."""
    return ev.PeerEvent(address=address, node_id=node_id.hex(), linked=linked)
