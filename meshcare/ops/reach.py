"""Finding each other over Tor: ``circle.reach`` and the hints an invite names. Pure.

This node's own onion address ("xxx.onion:PORT") comes from the shell (``TorChanged``, kept as
``node.tor``); whether the circle sees it is the person's choice per circle (``LocalState.unshared``),
and the ``onion`` duty (circles/duties.py) posts the ``reach`` roster operation that makes the roster
agree. The op only records the choice: the duty acts on it within a timer pass.
"""

from __future__ import annotations

from ..circles.circle import Circle
from ..circles.invites import MAX_HINTS
from ..circles.reach import hint_onions
from ..control import requests_reach as rq
from ..control import results_reach as rs
from ..errors import BadInput
from ..node import Node
from ..node_events import Effect, SaveState


def shares(node: Node, circle: Circle) -> bool:
    """The person shares this node's onion address in ``circle`` (the default)."""
    return bytes(circle.topic) not in node.registry.state.unshared


def invite_hints(node: Node, circle: Circle) -> tuple[str, ...]:
    """Where an invite to ``circle`` says someone may be reachable: this node's onion address (when it
    has one and shares it there), then its own direct addresses, then up to three members who gave an
    onion address in the circle (relays first: the always-on mailbox), at most ``MAX_HINTS`` in all."""
    own = [node.tor.onion] if node.tor.onion and shares(node, circle) else []
    roles = {m: v.role for m, v in circle.roster.members.items()}
    members = hint_onions(circle.roster.reach, roles, node.registry.me)
    out: list[str] = []
    for hint in [*own, *node.hints, *members]:
        if hint not in out:
            out.append(hint)
    return tuple(out[:MAX_HINTS])


def circle_reach(node: Node, req: rq.CircleReach, now: float) -> tuple[rs.CircleReachResult, list[Effect]]:
    """Keep the person's choice for the circle; the ``onion`` duty tells the circle."""
    circle = node.registry.find(req.circle)
    if circle.roster.role(node.registry.me) is None:
        raise BadInput(f"this node is not a member or relay of {circle.roster.name!r} (yet): once it is, "
                       "run this again")
    unshared = node.registry.state.unshared
    effects: list[Effect] = []
    if req.share == (bytes(circle.topic) in unshared):
        if req.share:
            unshared.discard(bytes(circle.topic))
        else:
            unshared.add(bytes(circle.topic))
        effects.append(SaveState(node.state))
    shown = circle.roster.reach.get(node.registry.me) or None
    return rs.CircleReachResult(circle=circle.topic.hex(), share=req.share, onion=node.tor.onion,
                                shown=shown), effects
