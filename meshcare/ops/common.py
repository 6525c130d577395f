"""What every op module shares: argument parsing, finding things by name or id prefix, writing through
the node, and the JSON shapes of a circle, a call and a check-in. Pure.

The argument helpers (``text``, ``flag``, ``int_or_none``, ``items``) are the only place an op reads its
``args``: typed request classes can replace them one op at a time. Result shapes are a contract
(docs/cli.md, docs/control.md): extend them, never rename keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias, TypeVar

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

_T = TypeVar("_T")
Args: TypeAlias = dict[str, Any]
Result: TypeAlias = dict[str, Any]
#: One op: (node, request args, now) -> (result for the client, effects for the shell to carry out).
Operation: TypeAlias = Callable[[Node, Args, float], tuple[Result, list[Effect]]]


# --- arguments -------------------------------------------------------------------------------------


def text(args: Args, key: str, *, required: bool = True, default: str = "") -> str:
    value = args.get(key, None)
    if value is None:
        if required:
            raise BadInput(f"missing {key!r}")
        return default
    if not isinstance(value, str):
        raise BadInput(f"{key!r} must be text")
    return value


def flag(args: Args, key: str) -> bool:
    value = args.get(key, False)
    if type(value) is not bool:
        raise BadInput(f"{key!r} must be true or false")
    return value


def int_or_none(args: Args, key: str) -> int | None:
    value = args.get(key)
    if value is None:
        return None
    if type(value) is not int:
        raise BadInput(f"{key!r} must be an integer")
    return value


def items(args: Args, key: str) -> list[Any]:
    value = args.get(key) or []
    if not isinstance(value, list):
        raise BadInput(f"{key!r} must be a list")
    return value


def validated(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Check a post body built from a request by the rules every node applies; a person's mistake is
    BadInput (``fault``), not a peer's protocol error."""
    return ps.validate(kind, body, fault=BadInput)


# --- finding things --------------------------------------------------------------------------------


def circle_of(node: Node, args: Args) -> Circle:
    """The circle ``args["circle"]`` names (its name or the start of its id)."""
    return node.registry.find(text(args, "circle"))


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
    """One call or check-in, across all circles, by the start of its id (at least 4 hex digits)."""
    ref = ref.strip().lower()
    if len(ref) < 4:
        raise BadInput(f"name a {what} by at least 4 characters of its id ({hint})")
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


def post(node: Node, circle: Circle, kind: str, body: dict[str, Any], now: float,
         audience: Iterable[bytes] = ()) -> tuple[env.Envelope, list[Effect]]:
    """One post in ``circle`` (after a rotation, if the roster needs one): the post and the effects."""
    envelopes = node.registry.post(circle, kind, body, int(now), audience=audience)
    return envelopes[-1], publish(node, [(circle.topic, e) for e in envelopes], now)


def roster(node: Node, circle: Circle, kind: str, fields: dict[str, Any],
           now: float) -> tuple[env.Envelope, list[Effect]]:
    """One roster operation in ``circle``; the node ripples the change (topics, access) itself."""
    e = node.registry.roster_op(circle, kind, fields, int(now))
    return e, publish(node, [(circle.topic, e)], now)


# --- messages ----------------------------------------------------------------------------------------


def resolved_by(node: Node, state: cl.CallState) -> str:
    """``by ann`` (or ``by you``) for a resolved call's message."""
    if state.resolved_by == node.registry.me:
        return "by you"
    return f"by {node.registry.names().get(state.resolved_by, 'someone') if state.resolved_by else 'someone'}"
