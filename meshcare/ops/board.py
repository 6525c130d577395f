"""The mutual-aid board's ops: post a need or an offer, list the boards, take, release, done, and the
facilitators' setting for anonymous posts. Pure.

Every rule of who may do what lives in the fold (circles/board.py); these ops refuse early, in a
person's words, what the fold would ignore, so nobody posts something that counts for nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..circles import board as bd
from ..circles.circle import Circle
from ..control import requests_board as rq
from ..control import results_board as rs
from ..control.views_board import Board, Need
from ..errors import BadInput, NotFound
from ..node import Node
from ..node_events import Effect, SaveState
from ..vocab import MAX_REACH_KEPT, MIN_ID_PREFIX, PERSON_ROLES
from .common import linked, post, validated

__all__ = ["board_set", "board_view", "need_create", "need_done", "need_list", "need_release",
           "need_take", "need_view"]


# --- views -------------------------------------------------------------------------------------------


def need_view(node: Node, circle: Circle, state: bd.NeedState, names: Mapping[bytes, str] | None = None) -> Need:
    """One item as this person may see it: no author when anonymous; how to reach the poster only for
    the taker and the poster."""
    me = node.registry.me
    known = node.registry.names() if names is None else names
    author = None if state.anonymous else state.author
    # an anonymous poster who closes their own item must not be named by it either
    done_by = None if state.anonymous and state.done_by == state.author else state.done_by
    people = [p for p in (author, state.taker, done_by) if p is not None]
    reach = None
    if state.author == me:
        reach = node.state.reach.get(state.id) or state.reach
    elif state.taker == me:
        reach = state.reach
    return Need(id=state.id.hex(), circle=circle.topic.hex(), circle_name=circle.roster.name, kind=state.kind,
                category=state.category, text=state.text, when=state.when, status=state.status,
                anonymous=state.anonymous, author=None if author is None else author.hex(), mine=state.author == me,
                taker=None if state.taker is None else state.taker.hex(), taken_by_me=state.taker == me,
                done_by=None if done_by is None else done_by.hex(), reach=reach, created=state.created,
                names={p.hex(): known.get(p, "someone") for p in people})


def board_view(node: Node, circle: Circle) -> Board:
    """A circle's board settings, and what this person may do with them."""
    view = node.registry.view(circle)
    needs = view.needs
    return Board(circle=circle.topic.hex(), circle_name=circle.roster.name,
                 anonymous=bd.anonymous_allowed(view.board_settings),
                 facilitator=circle.roster.role(node.registry.me) == "facilitator",
                 open=sum(1 for s in needs.values() if s.status in ("open", "taken")))


def find_need(node: Node, ref: str) -> tuple[Circle, bd.NeedState]:
    """One item this person can see, across all circles, by the start of its id."""
    ref = ref.strip().lower()
    hint = "`meshcare needs --all` lists them"
    if len(ref) < MIN_ID_PREFIX:
        raise BadInput(f"name an item by at least {MIN_ID_PREFIX} characters of its id ({hint})")
    me = node.registry.me
    found = [(c, s) for c in node.registry.circles.values() for nid, s in node.registry.view(c).needs.items()
             if nid.hex().startswith(ref) and bd.visible_to(s, me)]
    if not found:
        raise NotFound(f"no board item {ref!r} that this node can read; {hint}")
    if len(found) > 1:
        raise BadInput(f"{ref!r} matches several items; use more of the id")
    return found[0]


def _member_circle(node: Node, ref: str) -> Circle:
    circle = node.registry.find(ref)
    if circle.roster.role(node.registry.me) not in PERSON_ROLES:
        raise BadInput("this node is not a member of that circle (a relay carries messages but cannot post)")
    return circle


# --- ops ---------------------------------------------------------------------------------------------


def need_create(node: Node, req: rq.NeedCreate, now: float) -> tuple[rs.NeedCreateResult, list[Effect]]:
    circle = _member_circle(node, req.circle)
    if req.anonymous and not bd.anonymous_allowed(node.registry.view(circle).board_settings):
        raise BadInput(f"{circle.roster.name!r} does not allow anonymous posts; a facilitator may allow them "
                       f"(`meshcare board {circle.roster.name} --anonymous on`), or post with your name")
    reach = req.reach.strip()
    if reach:
        _forget_gone(node)
        if len(node.state.reach) >= MAX_REACH_KEPT:
            raise BadInput("this node keeps too many ways to be reached for open items; mark some done first")
    body = validated("need", {"kind": req.kind, "category": req.category, "text": req.text, "when": req.when,
                              "anonymous": req.anonymous})
    e, effects = post(node, circle, "need", body, now)
    if reach:
        node.state.reach[e.id] = reach
        effects = [*effects, SaveState(node.state)]
    state = node.registry.view(circle).needs[e.id]
    return rs.NeedCreateResult(need=need_view(node, circle, state), reach_kept=bool(reach),
                               linked=linked(node, circle)), effects


def need_list(node: Node, req: rq.NeedList, now: float) -> tuple[rs.NeedListResult, list[Effect]]:
    circles = [node.registry.find(req.circle)] if req.circle else list(node.registry.circles.values())
    me = node.registry.me
    names = node.registry.names()
    shown = ("open", "taken", "done", "withheld") if req.all else ("open", "taken", "withheld")
    out = [need_view(node, c, s, names) for c in circles for s in node.registry.view(c).needs.values()
           if s.status in shown and bd.visible_to(s, me)]
    out.sort(key=lambda v: -v.created)
    boards = tuple(board_view(node, c) for c in circles if c.roster.role(me) in PERSON_ROLES)
    return rs.NeedListResult(needs=tuple(out), boards=boards), []


def need_take(node: Node, req: rq.NeedTake, now: float) -> tuple[rs.NeedTakeResult, list[Effect]]:
    circle, state = find_need(node, req.need)
    me = node.registry.me
    if state.author == me:
        raise BadInput("this is your own item; others take it (you can mark it done)")
    if state.status == "taken":
        who = "you" if state.taker == me else node.registry.names().get(state.taker or b"", "someone")
        raise BadInput(f"{who} took it already")
    _still_open(state)
    post_id, view, links, effects = _thread(node, circle, state, "need_take", now)
    return rs.NeedTakeResult(id=post_id, need=view, linked=links), effects


def need_release(node: Node, req: rq.NeedRelease, now: float) -> tuple[rs.NeedReleaseResult, list[Effect]]:
    circle, state = find_need(node, req.need)
    me = node.registry.me
    if state.status != "taken":
        raise BadInput("nobody has taken it" if state.status == "open" else f"it is {state.status}")
    if me not in (state.taker, state.author):
        raise BadInput("only whoever took it, or its poster, can give it back")
    post_id, view, links, effects = _thread(node, circle, state, "need_release", now)
    return rs.NeedReleaseResult(id=post_id, need=view, linked=links), effects


def need_done(node: Node, req: rq.NeedDone, now: float) -> tuple[rs.NeedDoneResult, list[Effect]]:
    circle, state = find_need(node, req.need)
    me = node.registry.me
    _still_open(state)
    if me != state.author and not (state.status == "taken" and state.taker == me):
        raise BadInput("only its poster, or whoever took it, can mark it done")
    post_id, view, links, effects = _thread(node, circle, state, "need_done", now)
    if node.state.reach.pop(state.id, None) is not None:
        effects = [*effects, SaveState(node.state)]
    return rs.NeedDoneResult(id=post_id, need=view, linked=links), effects


def board_set(node: Node, req: rq.BoardSet, now: float) -> tuple[rs.BoardSetResult, list[Effect]]:
    circle = node.registry.find(req.circle)
    if circle.roster.role(node.registry.me) != "facilitator":
        raise BadInput("only facilitators choose whether the board allows anonymous posts")
    e, effects = post(node, circle, "board_settings", validated("board_settings", {"anonymous": req.anonymous}), now)
    return rs.BoardSetResult(id=e.id.hex(), board=board_view(node, circle), linked=linked(node, circle)), effects


# --- helpers -----------------------------------------------------------------------------------------


def _still_open(state: bd.NeedState) -> None:
    if state.status == "done":
        raise BadInput("it is done already")
    if state.status == "withheld":
        raise BadInput("it is not on the board: the circle did not allow anonymous posts when it was posted")


def _thread(node: Node, circle: Circle, state: bd.NeedState, kind: str,
            now: float) -> tuple[str, Need, int, list[Effect]]:
    """Post ``kind`` in the item's thread: the post's id, the item as it is now, links, effects."""
    e, effects = post(node, circle, kind, validated(kind, {"need": state.id}), now)
    view = need_view(node, circle, node.registry.view(circle).needs[state.id])
    return e.id.hex(), view, linked(node, circle), effects


def _forget_gone(node: Node) -> None:
    """Forget the ways to be reached kept for items that are done or gone (expired) from every board."""
    live: dict[bytes, bd.NeedState] = {}
    for circle in node.registry.circles.values():
        live.update(node.registry.view(circle).needs)
    for nid in [nid for nid in node.state.reach if nid not in live or live[nid].status == "done"]:
        del node.state.reach[nid]
