"""The rename op: a person changes their name, on this node and in every circle they are in. Pure.

A name lives in two places: the node's own (``node.identity.name``, kept in the keystore by the shell:
what new circles and join requests get) and each circle's roster (what members see: the ``member_name``
of ``create``, the ``name`` of ``admit``, then the last counted ``rename``). ``node_rename`` changes both:
a ``rename`` roster operation in every circle this node is a member (or relay) of where the name differs,
and the node's name in memory. The shell (``transport/daemon.py``) writes the keystore first, so a name
that could not be kept on disk is not told to anyone.

``rename_circles`` checks every circle before anything is written: a name someone else in one of them
has or had is refused as a whole (one name everywhere, or the person picks another), as is a circle
where this person renamed themself too often; the roster fold applies the same rule on every node.
"""

from __future__ import annotations

from dataclasses import replace

from ..circles.circle import Circle
from ..control import requests as rq
from ..control import results as rs
from ..crypto.keys import check_name
from ..errors import BadInput
from ..node import Node
from ..node_events import Effect
from .common import roster_op


def rename_circles(node: Node, name: str) -> list[Circle]:
    """The circles a rename to ``name`` (already checked by ``check_name``) goes to: those this node is in
    where its name is another. Raises BadInput naming the circle when the roster would not count it."""
    me = node.registry.me
    out = []
    for circle in sorted(node.registry.circles.values(), key=lambda c: (c.roster.name, c.topic)):
        member = circle.roster.members.get(me)
        if member is None or member.name == name:
            continue
        why = circle.roster.rename_refused(me, name)
        if why is not None:
            raise BadInput(f"cannot take the name {name!r} in {circle.roster.name!r}: {why}; pick another name")
        out.append(circle)
    return out


def node_rename(node: Node, req: rq.Rename, now: float) -> tuple[rs.RenameResult, list[Effect]]:
    """Rename this person everywhere. The node's name changes in memory only: the shell keeps it on disk."""
    name = check_name(req.name)
    circles = rename_circles(node, name)
    effects: list[Effect] = []
    for circle in circles:
        effects += roster_op(node, circle, "rename", {"name": name}, now)[1]
    node.identity = replace(node.identity, name=name)
    return rs.RenameResult(name=name, circles=tuple(c.topic.hex() for c in circles)), effects
