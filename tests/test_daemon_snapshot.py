"""A client that goes away and comes back misses nothing: it subscribes, takes a ``snapshot``, and applies
the events numbered after it (the rule ``SnapshotResult`` states).

An in-process daemon on loopback, the real control server on a Unix socket, trio's autojump clock.
"""

from __future__ import annotations

import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio

from meshcare.control import api
from meshcare.control.protocol import Event, Reply
from meshcare.transport.control_server import serve_control

from .helpers import founded, make_daemon, member_names, wait_for
from .test_control_server import RawClient

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def sock_path():
    path = Path(tempfile.mkdtemp(dir="/tmp", prefix="mc-"))
    yield path / "control.sock"
    shutil.rmtree(path, ignore_errors=True)


class Client(RawClient):
    """A raw client that keeps the events it reads while it waits for a reply (typed, in order)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.events: list[api.Event] = []

    async def ask(self, request: api.Request[Any]) -> Any:
        request_id, data = self.conn.send_request(request.OP, request.to_data())
        await self.stream.send_all(data)
        with trio.fail_after(30):
            return await self._reply(request, request_id)

    async def _reply(self, request: api.Request[Any], request_id: int) -> Any:
        while True:
            message = await self.next_message()
            if isinstance(message, Reply) and message.id == request_id:
                assert message.ok, message
                return request.read_result(message.result)
            self.keep(message)

    def keep(self, message: object) -> None:
        if isinstance(message, Event):
            event = api.read_event(message.name, message.data)
            assert event is not None and event.to_data() == message.data, message
            self.events.append(event)

    async def read_until(self, done: Any, timeout: float = 30.0) -> None:
        """Read events until ``done()``; fail after ``timeout`` seconds of trio's clock."""
        with trio.fail_after(timeout):
            while not done():
                self.keep(await self.next_message())


def calls_of(daemon: Any) -> dict[str, api.Call]:
    return {c.id: c for c in api.CallsListResult.from_data(daemon.perform("calls.list", {"all": True})).calls}


async def test_a_client_that_reconnects_sees_everything_that_happened_while_it_was_away(sock_path, autojump_clock):
    async with trio.open_nursery() as nursery:
        ann = await founded(nursery)
        await nursery.start(partial(serve_control, sock_path, ann))
        first = await Client.open(sock_path)
        await first.ask(api.Subscribe())
        before = await first.ask(api.Snapshot())
        assert [(c.circle.name, [m.name for m in c.members]) for c in before.circles] == [("Elm St", ["ann"])]
        assert before.calls == () and before.peers == ()
        await first.stream.aclose()                                         # the client goes away

        # meanwhile: bob joins and says he is available, asks for support, ann claims it, ann asks how
        # everyone is and bob answers
        bob = make_daemon("bob", [("127.0.0.1", ann.port)])
        await nursery.start(bob.run)
        token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
        await bob.request("circle.join", {"token": token})
        await wait_for(lambda: member_names(ann, "Elm St") == member_names(bob, "Elm St") == {"ann", "bob"})
        await bob.request("presence.set", {"status": "available", "cap": 2})
        call = (await bob.request("call.create", {"circle": "Elm St", "text": "could someone call"}))["call"]["id"]
        await wait_for(lambda: call in calls_of(ann))
        await ann.request("call.claim", {"call": call})
        made = await ann.request("checkin.create", {"circle": "Elm St", "prompt": "How is everyone?"})
        checkin_id = made["checkin"]["id"]
        await wait_for(lambda: any(c["id"] == checkin_id for c in bob.perform("checkin.list", {})["checkins"]))
        await bob.request("checkin.reply", {"checkin": checkin_id, "option": 1})
        await wait_for(lambda: ann.perform("checkin.show", {"checkin": checkin_id})["checkin"]["answered"] == 1
                       and calls_of(bob)[call].claimer is not None)
        await trio.sleep(5)                                                 # and it stays away a while

        # back: subscribe first, then the snapshot; ann's own change in between is queued on the connection
        second = await Client.open(sock_path)
        await second.ask(api.Subscribe())
        ann.perform("presence.set", {"status": "away"})
        snap = await second.ask(api.Snapshot())
        assert before.seq < snap.seq <= ann.event_seq
        (elm,) = snap.circles
        assert {m.name: m.role for m in elm.members} == {"ann": "facilitator", "bob": "member"}
        assert {(r.name, r.status, r.cap) for r in elm.roster} == {("ann", "away", None), ("bob", "available", 2)}
        assert [i.used_by_name for i in elm.invites] == ["bob"] and elm.sync == "caught_up"
        (shown,) = snap.calls
        assert (shown.id, shown.caller, shown.status, shown.claimer) == (call, bob.identity.node_id.hex(), "claimed",
                                                                          ann.identity.node_id.hex())
        (asked,) = snap.checkins
        assert (asked.id, asked.answered, asked.not_answered) == (checkin_id, 1, ())
        assert [(p.node_id, p.linked) for p in snap.peers] == [(bob.identity.node_id.hex(), True)]
        # ... and each part is what its op answers
        assert snap.calls == tuple(calls_of(ann).values())
        assert [c.circle for c in snap.circles] == list(api.CircleListResult.from_data(
            ann.perform("circle.list", {})).circles)
        assert snap.checkins == api.CheckinListResult.from_data(ann.perform("checkin.list", {})).checkins

        # then: the events numbered after the snapshot, applied in order, keep the client where the daemon is
        await bob.request("call.update", {"call": call, "text": "thanks, talk soon"})
        await wait_for(lambda: calls_of(ann)[call].updates)
        await ann.request("call.resolve", {"call": call})
        calls = {c.id: c for c in snap.calls}
        applied: list[api.Event] = []

        def apply() -> bool:
            """Apply the events read since the last call; True once the client shows what ann's node does."""
            for event in second.events[len(applied):]:
                applied.append(event)
                if isinstance(event, api.CallChangedEvent) and (event.seq or 0) > snap.seq:
                    if event.view is None:
                        calls.pop(event.call, None)
                    else:
                        calls[event.call] = event.view
            return calls == calls_of(ann) and calls[call].status == "resolved"
        await second.read_until(apply)
        assert [u.text for u in calls[call].updates] == ["thanks, talk soon"]
        seqs = [e.seq or 0 for e in second.events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))           # in order, none missing
        assert seqs[0] <= snap.seq < seqs[-1]                               # some queued before it, some after
        nursery.cancel_scope.cancel()
