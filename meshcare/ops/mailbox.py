"""The mailbox ops (``mailbox.set``, ``mailbox.clear``, ``mailbox.status``). Pure.

A mailbox is an always-on node that is a relay in this person's circles (a Pi at home, or the circle's
community-centre Pi), usually reachable over Tor. Naming it here puts its node id in
``LocalState.mailboxes``; the node hands the set to the sync engine (``Node.mailboxes_changed``), whose
neighbour set then keeps a link to it whenever an address of it is known: so what others post while this
node is away waits on the mailbox, and arrives as soon as this node is back, wherever it is
(docs/mailbox.md).

``via`` says how a link runs ("direct" or "onion"); only the daemon knows, so its shell answers
``mailbox.set`` and ``mailbox.status`` through ``set_mailbox`` and ``mailbox_views`` with its own lookup
(``transport/shell_ops.py``); the table's ops (tests, the simulator) say it is unknown (None).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from ..circles.circle import Circle
from ..control import requests_mailbox as rq
from ..control import results_mailbox as rs
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect

#: Mailboxes one person may name: each is dialled first and held beyond the neighbour set's target.
MAX_MAILBOXES: Final = 4

#: node id -> "direct" / "onion" while linked, else None
Via = Callable[[bytes], "str | None"]


def no_via(node_id: bytes) -> str | None:
    """How a link runs, where nobody can tell (no daemon): unknown."""
    return None


def mailbox_set(node: Node, req: rq.MailboxSet, now: float) -> tuple[rs.MailboxSetResult, list[Effect]]:
    return set_mailbox(node, req, now, no_via)


def mailbox_status(node: Node, req: rq.MailboxStatus, now: float) -> tuple[rs.MailboxStatusResult, list[Effect]]:
    return mailbox_views(node, no_via), []


def set_mailbox(node: Node, req: rq.MailboxSet, now: float, via: Via) -> tuple[rs.MailboxSetResult, list[Effect]]:
    """``mailbox.set``, with how links run told by ``via`` (the daemon's shell knows)."""
    circles = [node.registry.find(req.circle)] if req.circle is not None else list(node.registry.circles.values())
    chosen = _find(circles, req.member)
    if chosen == node.registry.me:
        raise BadInput("that is this node itself: a mailbox is another, always-on node (a Pi that is a relay "
                       "in your circles)")
    mailboxes = node.state.mailboxes
    replaced = sorted(mailboxes - {chosen}) if not req.add else []
    if req.add and chosen not in mailboxes and len(mailboxes) >= MAX_MAILBOXES:
        raise BadInput(f"you have {MAX_MAILBOXES} mailboxes already: clear one first (`meshcare mailbox clear "
                       "NAME`)")
    node.state.mailboxes = (set(mailboxes) if req.add else set()) | {chosen}
    effects = node.mailboxes_changed(now)
    return rs.MailboxSetResult(mailbox=view(node, chosen, via), mailboxes=_ids(node.state.mailboxes),
                               replaced=_ids(replaced)), effects


def mailbox_clear(node: Node, req: rq.MailboxClear, now: float) -> tuple[rs.MailboxClearResult, list[Effect]]:
    mailboxes = node.state.mailboxes
    if req.member is None:
        cleared = set(mailboxes)
    else:
        cleared = {_pick(req.member, mailboxes, node.registry.names())}
    effects: list[Effect] = []
    if cleared:
        node.state.mailboxes = mailboxes - cleared
        effects = node.mailboxes_changed(now)
    return rs.MailboxClearResult(cleared=_ids(cleared), mailboxes=_ids(node.state.mailboxes)), effects


def mailbox_views(node: Node, via: Via) -> rs.MailboxStatusResult:
    """``mailbox.status``'s answer, with how links run told by ``via``."""
    names = node.registry.names()
    ordered = sorted(node.state.mailboxes, key=lambda m: (names.get(m, "~"), m))
    return rs.MailboxStatusResult(mailboxes=tuple(view(node, m, via) for m in ordered))


# --- the view ----------------------------------------------------------------------------------------


def view(node: Node, mailbox: bytes, via: Via = no_via) -> rs.Mailbox:
    """One mailbox as ``mailbox.status`` shows it: where it serves, whether and how it is linked, and what
    it cannot do for this person."""
    me = node.registry.me
    name: str | None = None
    relay_in: list[str] = []
    warnings: list[str] = []
    for circle in sorted(node.registry.circles.values(), key=lambda c: (c.roster.name, c.topic)):
        if not circle.roster.exists or circle.roster.role(me) is None:
            continue                                  # not (or no longer) this person's circle
        member = circle.roster.members.get(mailbox)
        if member is not None:
            name = name or member.name
        warning = _warning(circle, member.role if member is not None else None)
        if warning is None:
            relay_in.append(circle.roster.name)
        else:
            warnings.append(warning)
    opened = node.engine.linked_node(mailbox)
    if opened is None and not node.engine.addresses_of(mailbox):
        warnings.append("no address of it is known yet: it is found on the LAN (mDNS), at its onion address "
                        "once it shares one in a circle, or with `--peer HOST:PORT`")
    seen = node.mailbox_seen.get(mailbox)
    return rs.Mailbox(node_id=mailbox.hex(), name=name, circles=tuple(relay_in), linked=opened is not None,
                      via=via(mailbox) if opened is not None else None,
                      since=int(opened) if opened is not None else None,
                      last_synced=int(seen) if seen is not None else None, warnings=tuple(warnings))


def _warning(circle: Circle, role: str | None) -> str | None:
    """Why the mailbox does not hold ``circle`` for this person, in words (None: it is a relay there)."""
    name = circle.roster.name
    if role == "relay":
        return None
    if role is None:
        return (f"it is not in {name}: what is posted there while you are away does not wait on it (a "
                f"facilitator runs `meshcare circle invite '{name}' --role relay`, then `meshcare circle join` "
                "on the mailbox)")
    return (f"in {name} it is a {role}, not a relay: it holds that circle as a person's node does and reads "
            "it; a mailbox needs no more than the relay role")


# --- finding the mailbox -----------------------------------------------------------------------------


def _find(circles: Iterable[Circle], ref: str) -> bytes:
    """A node in ``circles``' rosters (member or relay) by name or start of its id: one, or a refusal."""
    ref = ref.strip()
    exact: set[bytes] = set()
    prefix: set[bytes] = set()
    for circle in circles:
        for member in circle.roster.members.values():
            if member.name == ref:
                exact.add(member.id)
            elif ref and member.id.hex().startswith(ref.lower()):
                prefix.add(member.id)
    found = exact or prefix
    if not found:
        raise NotFound(f"nobody called {ref!r} in your circles: a mailbox must be a relay (or a member) in one "
                       "of them first; `meshcare circle members CIRCLE` lists who is there")
    if len(found) > 1:
        raise BadInput(f"{ref!r} matches several nodes; use more of the id, or name the circle with --circle")
    return next(iter(found))


def _pick(ref: str, mailboxes: set[bytes], names: dict[bytes, str]) -> bytes:
    """One of this person's mailboxes by name or start of its node id."""
    ref = ref.strip()
    found = [m for m in mailboxes if names.get(m) == ref] or [m for m in mailboxes if m.hex().startswith(ref.lower())]
    if not found:
        raise NotFound(f"{ref!r} is not one of your mailboxes; `meshcare mailbox status` lists them")
    if len(found) > 1:
        raise BadInput(f"{ref!r} matches several of your mailboxes; use more of the id")
    return found[0]


def _ids(nodes: Iterable[bytes]) -> tuple[str, ...]:
    return tuple(sorted(n.hex() for n in nodes))
