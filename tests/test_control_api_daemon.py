"""The typed control API against what really talks: the daemon's ops answer exactly the result records'
data, and the CLI sends only registered requests and shows any valid answer without failing.

The daemon half runs three in-process daemons on loopback (``circle_of_three``) and sends every op as
``request.to_data()``: the daemon takes what the API writes, and what it answers reads back into a
record whose ``to_data`` is the very same dict. The CLI half replaces the control client with one that
records what is sent and answers with results drawn from the records' own strategies.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshcare import cli
from meshcare.client import ControlClient
from meshcare.control import api
from meshcare.control.events import EVENTS
from meshcare.control.requests import REQUESTS, Request
from meshcare.control.results import RESULTS
from tests.test_control_api import records
from tests.helpers import circle_of_three, wait_for
from tests.helpers import make_daemon as make

pytestmark = pytest.mark.timeout(180)


async def ask(daemon: Any, request: Request[Any]) -> Any:
    """Send ``request`` as the API writes it; its answer must be exactly what its result record writes."""
    sent = request.to_data()
    assert REQUESTS[request.OP].from_data(sent) == request
    data = await daemon.request(request.OP, sent)
    result = request.read_result(data)
    assert result.to_data() == data, request.OP
    return result


async def test_every_op_answers_exactly_what_its_result_record_writes():
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        events: list[tuple[str, Any]] = []

        async def listen(channel: Any) -> None:
            async for item in channel:
                events.append(item)
        for d in (ann, bob, cat):
            nursery.start_soon(listen, d.subscribe())
        await ask(ann, api.Status())
        await ask(ann, api.Peers())
        await ask(ann, api.NodeHealth())
        await ask(ann, api.CircleList())
        invite = await ask(ann, api.CircleInvite(circle="Elm St", valid_hours=2))
        await ask(ann, api.CircleInvites(circle="Elm St"))
        await ask(ann, api.CircleRevoke(circle="Elm St", invite=invite.invite[:8]))
        await ask(ann, api.CircleMembers(circle="Elm St"))
        await ask(bob, api.CircleVerify(circle="Elm St", member="ann", confirm=True))
        await ask(ann, api.CircleRole(circle="Elm St", member="bob", role="member"))
        await ask(cat, api.PlanEdit(helps="tea and a quiet room"))
        await ask(cat, api.PlanShow())
        ladder = (api.LadderStepArg(after=0, to="chosen", members=("bob",)), api.LadderStepArg(after=10, to="circle"))
        made = await ask(cat, api.CallCreate(circle="Elm St", text="Rough night", urgency="now", needs=("company",),
                                             consent=("no_police",), reach="flat 3B", ladder=ladder))
        call = made.call.id
        await wait_for(lambda: any(c["id"] == call for c in bob.perform("calls.list", {})["calls"]))
        await ask(bob, api.CallsList(all=True, circle="Elm St"))
        await ask(bob, api.CallShow(call=call[:8]))
        offer = await ask(bob, api.CallOffer(call=call, kind="come_over", text="in 10 minutes"))
        await ask(bob, api.CallClaim(call=call))
        await ask(bob, api.CallRelease(call=call))
        claimed = await ask(bob, api.CallClaim(call=call))
        assert claimed.have_it
        await wait_for(lambda: cat.perform("call.show", {"call": call})["call"]["claimer"] == claimed.call.claimer
                       and cat.perform("call.show", {"call": call})["call"]["offers"])
        await ask(cat, api.CallAccept(call=call, offer=offer.id[:8]))
        await ask(bob, api.CallUpdate(call=call, text="on my way"))
        share = await ask(cat, api.PlanShare(call=call))
        await ask(cat, api.PlanShow())
        await ask(cat, api.PlanRetract(share=share.share[:8]))
        await ask(cat, api.PlanShare(circle="Elm St"))
        item = (await ask(cat, api.NeedCreate(circle="Elm St", text="a ride on Tuesday", category="ride",
                                              reach="call 555-0100"))).need.id
        await wait_for(lambda: any(n["id"] == item for n in bob.perform("need.list", {})["needs"]))
        await ask(bob, api.NeedTake(need=item[:8]))
        await ask(bob, api.NeedRelease(need=item))
        await ask(cat, api.NeedDone(need=item))
        await ask(ann, api.BoardSet(circle="Elm St", anonymous=True))
        await ask(bob, api.NeedList(all=True, circle="Elm St"))
        resolved = await ask(cat, api.CallResolve(call=call, followup_at=int(time.time()) + 3600))
        assert not resolved.already_resolved
        again = await ask(cat, api.CallResolve(call=call))
        assert again.already_resolved and again.id is None
        checkin = (await ask(ann, api.CheckinCreate(circle="Elm St", prompt="How is everyone?"))).checkin
        await wait_for(lambda: any(c["id"] == checkin.id for c in bob.perform("checkin.list", {})["checkins"]))
        replied = await ask(bob, api.CheckinReply(checkin=checkin.id[:8], option=3, text="rough week"))
        assert replied.suggest_call
        await ask(bob, api.CheckinReply(checkin=checkin.id[:8], option="could"))
        await ask(ann, api.CheckinCreate(circle="Elm St", prompt="Dinner?", options=("yes", "no"), visibility="circle"))
        await ask(ann, api.CheckinShow(checkin=checkin.id))
        await ask(ann, api.CheckinList())
        await ask(bob, api.PresenceSet(status="available", cap=2))
        await ask(cat, api.PresenceSet(status="away", circle="Elm St", until=int(time.time()) + 600))
        # told before cat is removed and bob leaves: a change to someone who is gone by the next look is not told
        await wait_for(lambda: any(name == "presence" for name, _ in events))
        await ask(ann, api.Roster(circle="Elm St"))
        await ask(ann, api.Roster())
        renamed = await ask(bob, api.Rename(name="Bo"))
        assert renamed.name == "Bo" and len(renamed.circles) == 1
        await ask(ann, api.Snapshot())
        await ask(cat, api.Snapshot(circle="Elm St", all_calls=True))
        await ask(ann, api.CircleRemove(circle="Elm St", member="cat"))
        await ask(bob, api.CircleLeave(circle="Elm St"))
        await ask(bob, api.CircleList())
        dan = make("dan")                                       # alone: its join waits
        await nursery.start(dan.run)
        token = (await ask(ann, api.CircleInvite(circle="Elm St"))).token
        await ask(dan, api.CircleJoin(token=token, name="Dan"))
        listed = await ask(dan, api.CircleList())
        assert [j.status for j in listed.joining] == ["waiting"]
        await ask(dan, api.CircleCreate(name="Oak Rd", member_name="Dan", retention_days=14, rotate_days=0,
                                        share_history=True))
        # the changes of the last quarter second come together: wait for them
        told = {"envelope", "circle", "member", "invite", "presence", "call.changed", "checkin.changed", "care.changed"}
        await wait_for(lambda: {name for name, _ in events} >= told)
        for name, data in events:
            event = api.read_event(name, data)
            assert event is not None and event.to_data() == data, name
        nursery.cancel_scope.cancel()


# --- the CLI --------------------------------------------------------------------------------------------

#: Every command that asks the daemon, as a person types it.
COMMANDS = [
    ("status",), ("peers",), ("snapshot", "--all"),
    ("circle", "create", "Elm St", "--my-name", "Ana"), ("circle", "list"), ("circle", "invite", "Elm St", "--qr"),
    ("circle", "invites", "Elm St"), ("circle", "revoke", "Elm St", "ee2c7a8f"),
    ("circle", "join", "MC1ABCD", "--wait", "0"), ("circle", "members", "Elm St"),
    ("circle", "remove", "Elm St", "bob"), ("circle", "leave", "Elm St"),
    ("circle", "role", "Elm St", "bob", "facilitator"), ("circle", "verify", "Elm St", "bob", "--confirm"),
    ("call", "Elm St", "Rough night", "--urgency", "now", "--need", "company", "--consent", "no-police",
     "--ladder", "chosen:ann+bob@0,circle@10"),
    ("calls", "--all"), ("call", "show", "3f2a9c1d"), ("offer", "3f2a9c1d", "come-over", "in 10"),
    ("claim", "3f2a9c1d"), ("release", "3f2a9c1d"), ("accept", "3f2a9c1d", "77b0e412"),
    ("update", "3f2a9c1d", "on my way"), ("resolve", "3f2a9c1d", "--followup-in", "24"),
    ("checkin", "Elm St", "How?", "--option", "yes", "--option", "no"), ("checkin", "reply", "5c1e0b7a", "1", "ok"),
    ("checkin", "show", "5c1e0b7a"), ("checkins",),
    ("available", "--until", "22:30", "--cap", "2"), ("away", "--circle", "Elm St"), ("roster",),
    ("plan", "edit", "--helps", "tea"), ("plan", "show"), ("plan", "share", "--circle", "Elm St"),
    ("plan", "retract", "9d8e7f6a"), ("name", "Ana"),
    ("ask", "Elm St", "ann", "Could we talk?", "--also", "bob", "--about", "debrief"), ("requests", "--open"),
    ("request", "show", "3f2a9c1d"), ("request", "reply", "3f2a9c1d", "Thursday?"), ("request", "close", "3f2a9c1d"),
    ("library", "Elm St"), ("library", "Elm St", "House agreements", "--versions"),
    ("library", "edit", "Elm St", "House agreements", "--text", "We listen."), ("library", "edit", "Elm St", "--starter"),
    ("library", "remove", "Elm St", "House agreements"),
    ("gathering", "Elm St", "Tuesday group", "--when", "2027-01-19 18:30", "--host", "bob", "--agreement", "pass"),
    ("gatherings", "--all"), ("gathering", "show", "5c1e0b7a"), ("gathering", "cancel", "5c1e0b7a"),
    ("rsvp", "5c1e0b7a", "maybe"), ("agreements", "Elm St"), ("agreements", "Elm St", "--set", "Be kind"),
    ("ladder", "add", "Elm St", "bob", "--step", "1", "--ladder", "practical", "--note", "you know me"),
    ("ladder", "list"), ("ladder", "requests", "--circle", "Elm St"), ("ladder", "accept", "5c1e09aa"),
    ("ladder", "decline", "5c1e09aa"), ("ladder", "remove", "5c1e09aa"),
    ("avoid", "Elm St", "bob"), ("avoid",), ("avoid", "--remove", "Elm St", "bob"),
    ("call", "Elm St", "Rough night", "--ladder-name", "calls", "--ladder-every", "5", "--ladder-then", "circle"),
    ("followup", "ask", "3f2a9c1d", "--who", "bob", "--again", "4"), ("followup", "done", "3f2a9c1d"),
    ("followups", "--all"), ("off-tonight",), ("load", "--days", "7"),
    ("safety", "start", "Elm St", "--every", "15", "--note", "at Sam's"), ("safety", "there"), ("safety", "ok"),
    ("safety", "end", "--timer", "ab12cd34"), ("safety", "list", "--all"),
    ("need", "Elm St", "a ride", "--category", "ride", "--when", "Tue", "--reach", "call me"), ("needs", "--all"),
    ("take", "3f2a9c1d"), ("done", "3f2a9c1d"), ("board", "Elm St", "--anonymous", "on"),
    ("recovery", "setup", "Elm St", "--members", "bob,cat,dan", "--threshold", "2"), ("recovery", "status"),
    ("recovery", "request", "--name", "ann"), ("recovery", "release", "MCR1ABCDEFGH", "--yes"),
    ("circle", "reach", "Elm St", "off"), ("circle", "reach", "Elm St", "on"),
    ("mailbox", "set", "ann-pi", "--circle", "Elm St", "--add"), ("mailbox", "clear", "ann-pi"), ("mailbox", "clear"),
    ("mailbox", "status"),
]
#: Keys the CLI adds to the daemon's answer in --json (docs/cli.md says where).
CLI_KEYS = {"qr", "status", "refused", "daemon"}


class _Fake:
    """A control client that records what it is asked and answers from ``answer(op)``."""

    def __init__(self, sent: list[tuple[str, dict[str, Any]]], answer: Any) -> None:
        self.sent, self.answer = sent, answer

    def __enter__(self) -> _Fake:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def request(self, op: str, /, **args: Any) -> dict[str, Any]:
        self.sent.append((op, args))
        data: dict[str, Any] = self.answer(op)
        return data


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_the_cli_sends_registered_requests_and_shows_any_answer(command: tuple[str, ...], tmp_path: Path) -> None:
    @settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.data(), st.booleans())
    def run(data: st.DataObject, as_json: bool) -> None:
        sent: list[tuple[str, dict[str, Any]]] = []
        answers: list[dict[str, Any]] = []

        def answer(op: str) -> dict[str, Any]:
            answers.append(data.draw(records(RESULTS[op]), label=op).to_data())
            return answers[-1]

        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ControlClient, "connect", classmethod(lambda cls, *a, **k: _Fake(sent, answer)))
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = cli.main(["--home", str(tmp_path), *command, *(["--json"] if as_json else [])])
        assert code == 0, err.getvalue()
        assert sent
        for op, args in sent:
            assert op in REQUESTS, op
            REQUESTS[op].from_data(args)
        if as_json:
            printed = json.loads(out.getvalue())
            assert {k: v for k, v in printed.items() if k not in CLI_KEYS} == \
                {k: v for k, v in json.loads(json.dumps(answers[0])).items() if k not in CLI_KEYS}
    run()


def test_every_cli_command_that_asks_is_covered_here():
    ops = {REQUESTS[op].OP for op in REQUESTS} - {"subscribe"}
    covered = {"status", "peers", "snapshot", "circle.create", "circle.list", "circle.invite", "circle.invites",
               "circle.revoke", "circle.join", "circle.members", "circle.remove", "circle.leave", "circle.role", "circle.verify",
               "call.create", "calls.list", "call.show", "call.offer", "call.claim", "call.release", "call.accept",
               "call.update", "call.resolve", "checkin.create", "checkin.reply", "checkin.show", "checkin.list",
               "presence.set", "roster", "plan.edit", "plan.show", "plan.share", "plan.retract", "node.rename",
               "request.create", "request.list", "request.show", "request.reply", "request.close",
               "library.list", "library.show", "library.edit", "library.remove", "library.starters",
               "gathering.create", "gathering.list", "gathering.show", "gathering.cancel", "gathering.rsvp",
               "agreements.show", "agreements.set",
               "ladder.add", "ladder.list", "ladder.requests", "ladder.answer", "ladder.remove", "avoid.add",
               "avoid.remove", "avoid.list",
               "followup.ask", "followup.done", "followup.list", "safety.start", "safety.ping", "safety.list",
               "me.load",
               "need.create", "need.list", "need.take", "need.release", "need.done", "board.set",
               "node.health",   # meshcare doctor reads it: tests/test_doctor_daemon.py
               "recovery.setup", "recovery.status", "recovery.request", "recovery.collect", "recovery.release",
               "mailbox.set", "mailbox.clear", "mailbox.status"}
    # `backup export` asks backup.bundle, whose answer must be a real bundle (not any record the shape
    # allows): tests/test_backup_rejoin.py runs it against a real daemon
    covered |= {"backup.bundle"}
    covered |= {"circle.reach"}      # issue 15: sharing this node's onion address (tests/test_reach_ops.py)
    assert covered == ops
    assert set(EVENTS) == {"peer", "envelope", "circle", "call", "member", "invite", "join", "presence", "sync",
                           "notice", "call.changed", "checkin.changed", "care.changed", "gathering.reminder"}
