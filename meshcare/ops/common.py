"""What every op module shares: finding things by name or id prefix, writing through the node, and
the validity rules a person's request meets before anything is written. Pure.

Arguments arrive as typed requests, already checked for type and bounds (``control.requests``); what
is left to check here needs the node's state (does that member exist, which call does that prefix
name) and says so in a person's words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NewType, TypeVar

from .. import envelope as env
from ..circles import calls as cl
from ..circles import checkins as ck
from ..circles import posts as ps
from ..circles.circle import Circle
from ..circles.registry import View
from ..errors import BadInput, NotFound
from ..ids import TopicId
from ..node import Node
from ..node_events import Authored, Effect
from ..vocab import MIN_ID_PREFIX

_T = TypeVar("_T")


#: A post body that ``validated`` checked: ``post`` takes only these, and seals it without checking again.
Valid = NewType("Valid", dict[str, Any])


def validated(kind: str, body: dict[str, Any]) -> Valid:
    """Check a post body built from a request by the rules every node applies; a person's mistake is
    BadInput (``fault``), not a peer's protocol error."""
    return Valid(ps.validate(kind, body, fault=BadInput))


# --- finding things --------------------------------------------------------------------------------


def member_of(circle: Circle, ref: str) -> bytes:
    """A member of ``circle`` by name or unique id prefix."""
    ref = ref.strip()
    members = circle.roster.members.values()
    exact = [m.id for m in members if m.name == ref]
    if len(exact) == 1:
        return exact[0]
    prefix = [m.id for m in members if ref and m.id.hex().startswith(ref.lower())]
    found = exact or prefix
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(f"nobody called {ref!r} in {circle.roster.name!r}; "
                       f"`meshcare circle members {circle.roster.name}` lists them")
    raise BadInput(f"{ref!r} matches several members; use more of their id")


def find_call(node: Node, ref: str) -> tuple[Circle, View, cl.CallState]:
    return _find(node, ref, "call", lambda v: v.calls, "`meshcare calls --all` lists them")


def find_checkin(node: Node, ref: str) -> tuple[Circle, View, ck.CheckinState]:
    return _find(node, ref, "check-in", lambda v: v.checkins, "`meshcare checkins` lists them")


def _find(node: Node, ref: str, what: str, pick: Callable[[View], Mapping[bytes, _T]],
          hint: str) -> tuple[Circle, View, _T]:
    """One call or check-in, across all circles, by the start of its id (``MIN_ID_PREFIX`` hex digits or more)."""
    ref = ref.strip().lower()
    if len(ref) < MIN_ID_PREFIX:
        raise BadInput(f"name a {what} by at least {MIN_ID_PREFIX} characters of its id ({hint})")
    found = []
    for circle in node.registry.circles.values():
        view = node.registry.view(circle)
        found += [(circle, view, item) for key, item in pick(view).items() if key.hex().startswith(ref)]
    if not found:
        raise NotFound(f"no {what} {ref!r} that this node can read; {hint}")
    if len(found) > 1:
        raise BadInput(f"{ref!r} matches several of them; use more of the id")
    return found[0]


# --- writing through the node ------------------------------------------------------------------------
# Ops check everything a person can get wrong before they write: once a post is made, its effects must
# reach the shell (a post built but never published would leave a gap in this node's chain).


def publish(node: Node, made: Iterable[tuple[TopicId, env.Envelope]], now: float) -> list[Effect]:
    """Hand envelopes this node made to the node: persisted, gossiped, the state that counted them saved."""
    return node.handle(Authored(tuple(made)), now)


def post(node: Node, circle: Circle, kind: str, body: Valid, now: float,
         audience: Iterable[bytes] = ()) -> tuple[env.Envelope, list[Effect]]:
    """One post in ``circle`` (after a rotation, if the roster needs one): the post and the effects.
    ``body`` comes from ``validated``, so it is validated once, not again when it is sealed."""
    envelopes = node.registry.post(circle, kind, body, int(now), audience=audience, checked=True)
    return envelopes[-1], publish(node, [(circle.topic, e) for e in envelopes], now)


def roster_op(node: Node, circle: Circle, kind: str, fields: dict[str, Any],
              now: float) -> tuple[env.Envelope, list[Effect]]:
    """One roster operation in ``circle``; the node ripples the change (topics, access) itself."""
    e = node.registry.roster_op(circle, kind, fields, int(now))
    return e, publish(node, [(circle.topic, e)], now)


def linked(node: Node, *circles: Circle) -> int:
    """Links open now that carry one of ``circles`` (to their members' and relays' nodes): what a result
    says so a person hears whether their post can leave this node yet (``not linked to anyone yet``)."""
    engine = node.engine
    topics = {c.topic for c in circles}
    return sum(1 for peer in engine.linked_peers if topics & engine.shared_topics(peer))


# --- messages ----------------------------------------------------------------------------------------


def resolved_by(node: Node, state: cl.CallState) -> str:
    """``by ann`` (or ``by you``) for a resolved call's message."""
    if state.resolved_by == node.registry.me:
        return "by you"
    return f"by {node.registry.names().get(state.resolved_by, 'someone') if state.resolved_by else 'someone'}"
