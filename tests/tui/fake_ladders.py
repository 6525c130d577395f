"""The fake daemon's ladder and "who not to involve" ops (tests/tui/fakedaemon.py merges them in).

State: Sam's ladders (``rungs``: request id -> the request Sam made), the requests others made to Sam
(``incoming``), and Sam's avoid list. Every change publishes ``care.changed`` (what "ladders"), as the
daemon does for ladder posts; ``ask_sam`` plays someone asking Sam for a place on their ladder.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from meshcare.control import api
from meshcare.errors import BadInput, NotFound

if TYPE_CHECKING:
    from tests.tui.fakedaemon import FakeDaemon

Handler = Callable[[Any], Awaitable[tuple[api.Result, list[api.Event]]]]


@dataclasses.dataclass
class FakeLadders:
    mine: dict[str, api.LadderRequest] = dataclasses.field(default_factory=dict)
    incoming: dict[str, api.LadderRequest] = dataclasses.field(default_factory=dict)
    avoid: dict[tuple[str, str], api.AvoidEntry] = dataclasses.field(default_factory=dict)


def _changed(request: api.LadderRequest, change: str) -> api.Event:
    return api.CareChangedEvent(circle=request.circle, what="ladders", id=request.id, change=change)


def ask_sam(d: FakeDaemon, who: str, *, ladder: str = "calls", step: int = 0, text: str = "") -> api.LadderRequest:
    """Someone (``who``, an id of fakedaemon's) asks Sam for a place on their ladder; subscribers are told."""
    from tests.tui.fakedaemon import ELM, NAMES, NOW, hid
    s = d.state
    request = api.LadderRequest(id=hid(f"ask-{who}-{ladder}-{len(d.ladders.incoming)}"), circle=ELM,
                                circle_name="Elm St", requester=who, requester_name=NAMES[who], member=s.node_id,
                                member_name=s.name, ladder=ladder, step=step, text=text, state="pending",
                                created=NOW - 60, mine=False)
    d.ladders.incoming[request.id] = request
    d.push(_changed(request, "new"))
    return request


def ladder_ops(d: FakeDaemon) -> dict[str, Handler]:
    from tests.tui.fakedaemon import NAMES, NOW, hid
    s, lad = d.state, d.ladders

    def member_id(snap: api.CircleSnapshot, ref: str) -> str:
        found = [m.id for m in snap.members if m.name == ref or m.id.startswith(ref)]
        if len(found) != 1:
            raise NotFound(f"nobody called {ref!r} in {snap.circle.name!r}")
        return found[0]

    def find(ref: str) -> api.LadderRequest:
        found = [r for r in (*lad.mine.values(), *lad.incoming.values()) if r.id.startswith(ref)]
        if len(found) != 1:
            raise NotFound(f"no ladder request {ref!r}")
        return found[0]

    def ladders() -> tuple[api.MyLadder, ...]:
        names: dict[tuple[str, str], list[api.LadderRung]] = {}
        for r in lad.mine.values():
            if r.state != "withdrawn":
                names.setdefault((r.circle, r.ladder), []).append(api.LadderRung(
                    request=r.id, member=r.member, name=r.member_name, step=r.step, state=r.state))
        return tuple(api.MyLadder(circle=c, circle_name="Elm St", name=n, rungs=tuple(sorted(rungs, key=lambda x: x.step)))
                     for (c, n), rungs in names.items())

    async def add(r: api.LadderAdd) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        who = member_id(snap, r.member)
        if who == s.node_id:
            raise BadInput("you cannot put yourself on your own ladder")
        request = api.LadderRequest(id=hid(f"ladder-{who}-{r.ladder}-{len(lad.mine)}"), circle=snap.circle.id,
                                    circle_name=snap.circle.name, requester=s.node_id, requester_name=s.name,
                                    member=who, member_name=NAMES.get(who), ladder=r.ladder, step=r.step,
                                    text=r.note, state="pending", created=NOW, mine=True)
        lad.mine[request.id] = request
        return api.LadderAddResult(request=request, linked=1), [_changed(request, "new")]

    async def list_(_r: api.LadderList) -> tuple[api.Result, list[api.Event]]:
        return api.LadderListResult(ladders=ladders()), []

    async def requests(_r: api.LadderRequests) -> tuple[api.Result, list[api.Event]]:
        return api.LadderRequestsResult(requests=tuple(x for x in lad.incoming.values() if x.state != "withdrawn")), []

    async def answer(r: api.LadderAnswer) -> tuple[api.Result, list[api.Event]]:
        request = find(r.request)
        if request.mine:
            raise BadInput("that request was not made to you")
        request = lad.incoming[request.id] = dataclasses.replace(
            request, state="accepted" if r.answer == "accept" else "declined")
        return api.LadderAnswerResult(id=hid("answer" + request.id), request=request, linked=1), [
            _changed(request, "updated")]

    async def remove(r: api.LadderRemove) -> tuple[api.Result, list[api.Event]]:
        request = find(r.request)
        if not request.mine:
            raise BadInput("that request is someone else's")
        request = lad.mine[request.id] = dataclasses.replace(request, state="withdrawn")
        return api.LadderRemoveResult(id=hid("withdraw" + request.id), request=request, linked=1), [
            _changed(request, "updated")]

    async def avoid_add(r: api.AvoidAdd) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        who = member_id(snap, r.member)
        entry = api.AvoidEntry(circle=snap.circle.id, circle_name=snap.circle.name, member=who, name=NAMES.get(who))
        added = (entry.circle, who) not in lad.avoid
        lad.avoid[(entry.circle, who)] = entry
        return api.AvoidAddResult(entry=entry, added=added), []

    async def avoid_remove(r: api.AvoidRemove) -> tuple[api.Result, list[api.Event]]:
        snap = s.circle(r.circle)
        who = member_id(snap, r.member)
        entry = lad.avoid.pop((snap.circle.id, who), None)
        shown = entry or api.AvoidEntry(circle=snap.circle.id, circle_name=snap.circle.name, member=who,
                                        name=NAMES.get(who))
        return api.AvoidRemoveResult(entry=shown, removed=entry is not None), []

    async def avoid_list(_r: api.AvoidList) -> tuple[api.Result, list[api.Event]]:
        return api.AvoidListResult(avoid=tuple(lad.avoid.values())), []

    return {"ladder.add": add, "ladder.list": list_, "ladder.requests": requests, "ladder.answer": answer,
            "ladder.remove": remove, "avoid.add": avoid_add, "avoid.remove": avoid_remove, "avoid.list": avoid_list}
