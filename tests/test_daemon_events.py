"""A client subscribed on the daemon's control socket receives what the node tells, typed: every event
it reads is a record of ``control.api`` (``read_event``), with exactly the data that record writes.

In-process daemons on loopback and the real control server on a Unix socket, on trio's autojump clock.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
import trio

from meshcare.control import api
from meshcare.control.protocol import Event
from meshcare.crypto.keys import fingerprint
from meshcare.transport.control_server import serve_control

from .helpers import founded, make_daemon, member_names, wait_for
from .test_control_server import RawClient

pytestmark = pytest.mark.timeout(120)


#: What each event shows of the state besides what it says happened (views, names), by event.
SHOWN = {api.MemberEvent: ("circle_name", "view"), api.InviteEvent: ("circle_name",), api.JoinEvent: ("view",),
         api.PresenceEvent: ("name", "circle_name"), api.SyncEvent: ("circle_name",), api.CallChangedEvent: ("view",),
         api.CheckinChangedEvent: ("view",)}


def bare(event: api.Event) -> api.Event:
    """``event`` without what it shows of the state, to compare what it says happened."""
    return replace(event, seq=None, **{f: None for f in SHOWN.get(type(event), ())})


@pytest.fixture
def sock_path():
    path = Path(tempfile.mkdtemp(dir="/tmp", prefix="mc-"))
    yield path / "control.sock"
    shutil.rmtree(path, ignore_errors=True)


async def test_a_subscribed_client_receives_the_changes_typed(sock_path, autojump_clock):
    async with trio.open_nursery() as nursery:
        ann = await founded(nursery)
        await nursery.start(partial(serve_control, sock_path, ann))
        client = await RawClient.open(sock_path)
        assert (await client.request("subscribe")).ok
        got: list[api.Event] = []

        async def read() -> None:
            while (message := await client.next_message()) is not None:
                if isinstance(message, Event):
                    event = api.read_event(message.name, message.data)
                    assert event is not None and event.to_data() == message.data, message
                    got.append(event)
        nursery.start_soon(read)

        bob = make_daemon("bob", [("127.0.0.1", ann.port)])
        await nursery.start(bob.run)
        token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
        await bob.request("circle.join", {"token": token})
        await wait_for(lambda: member_names(ann, "Elm St") == {"ann", "bob"})
        await bob.request("presence.set", {"status": "available", "cap": 2})
        call = (await bob.request("call.create", {"circle": "Elm St", "text": "could someone call"}))["call"]["id"]
        await wait_for(lambda: any(isinstance(e, api.CallChangedEvent) and e.change == "new" for e in got))
        await ann.request("call.claim", {"call": call})
        await wait_for(lambda: any(isinstance(e, api.CallChangedEvent) and "claim" in e.parts for e in got))
        await trio.sleep(5)
        # numbered in the order sent, none missing
        assert [e.seq for e in got] == list(range(got[0].seq or 0, (got[0].seq or 0) + len(got)))

        bob_id, circle = bob.identity.node_id.hex(), ann.node.registry.find("Elm St").topic.hex()
        # ann's own receipt (the only one in a circle of two) comes with the call, or just after it
        reached = [e for e in got if isinstance(e, api.CallChangedEvent) and e.parts == ("reach",)]
        assert len(reached) <= 1
        # whether ann's node counts as catching up on the circle for a moment depends on how the link's
        # first frames are scheduled (a loaded machine interleaves them differently): sync events come
        # or not, so they are checked apart from the order of the others
        syncs = [e for e in got if isinstance(e, api.SyncEvent)]
        assert all(e.circle == circle for e in syncs)
        changes = [bare(e) for e in got
                   if not isinstance(e, (api.EnvelopeEvent, api.CircleEvent, api.SyncEvent)) and e not in reached]
        assert changes[0] == api.PeerEvent(address=changes[0].address, node_id=bob_id, linked=True)
        assert changes[1:] == [
            api.MemberEvent(circle=circle, change="joined", member=bob_id, name="bob", role="member", was=None),
            api.InviteEvent(circle=circle, change="used", invite=changes[2].invite, by=ann.identity.node_id.hex(),
                            mine=True, member=bob_id, name="bob"),
            api.PresenceEvent(circle=circle, member=bob_id, status="available", until=changes[3].until, cap=2),
            api.CallChangedEvent(circle=circle, call=call, change="new", parts=()),
            api.CallChangedEvent(circle=circle, call=call, change="updated", parts=("status", "claim"))]
        # what a screen shows comes with each event
        member, invite, presence, new, claimed = [e for e in got if e.NAME in ("member", "invite", "presence")
                                                  or (isinstance(e, api.CallChangedEvent) and e not in reached)]
        assert isinstance(member, api.MemberEvent) and member.circle_name == "Elm St" and member.view is not None
        assert (member.view.id, member.view.name, member.view.role, member.view.me) == (bob_id, "bob", "member", False)
        assert member.view.fingerprint == fingerprint(bob.identity.node_id)
        assert isinstance(invite, api.InviteEvent) and invite.circle_name == "Elm St"
        assert isinstance(presence, api.PresenceEvent) and (presence.name, presence.circle_name) == ("bob", "Elm St")
        assert isinstance(new, api.CallChangedEvent) and new.view is not None
        assert (new.view.id, new.view.caller, new.view.text, new.view.status) == (call, bob_id, "could someone call",
                                                                                  "open")
        assert isinstance(claimed, api.CallChangedEvent) and claimed.view is not None
        assert (claimed.view.status, claimed.view.claimer) == ("claimed", ann.identity.node_id.hex())
        last = [e for e in got if isinstance(e, api.CallChangedEvent)][-1]
        assert last.view == api.CallShowResult.from_data(ann.perform("call.show", {"call": call})).call
        nursery.cancel_scope.cancel()
