"""Social recovery end to end between in-process daemons on 127.0.0.1 (virtual time: trio's autojump
clock): ann sets up 2-of-3 recovery with bob, cat and dan; her device is lost (its daemon and memory
gone); a new device requests; one release opens nothing, a second opens her backup; the new device
comes back as ann, in her circle, and catches up with what was said meanwhile."""

from __future__ import annotations

import pytest
import trio

from meshcare.backup.bundle import Bundle
from meshcare.crypto.keys import Identity
from meshcare.errors import BadInput, NotFound
from meshcare.store.memory import MemoryStore
from meshcare.transport.daemon import Daemon
from meshcare.transport.state_file import MemoryStateFile
from tests.helpers import make_daemon, member_names, wait_for

pytestmark = pytest.mark.timeout(120)


def hexid(d: Daemon) -> str:
    return bytes(d.identity.node_id).hex()


async def _circle_of_four(nursery: trio.Nursery, ann_scope: trio.Nursery) -> tuple[Daemon, ...]:
    ann = make_daemon("ann")
    await ann_scope.start(ann.run)
    await ann.request("circle.create", {"name": "Elm St"})
    others = []
    for name in ("bob", "cat", "dan"):
        d = make_daemon(name, [("127.0.0.1", ann.port)] + [("127.0.0.1", o.port) for o in others])
        await nursery.start(d.run)
        token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
        await d.request("circle.join", {"token": token})
        others.append(d)
    everyone = (ann, *others)
    await wait_for(lambda: all(member_names(d, "Elm St") == {"ann", "bob", "cat", "dan"} for d in everyone))
    return everyone


async def test_two_of_three_holders_bring_ann_back(autojump_clock) -> None:
    async with trio.open_nursery() as nursery:
        async with trio.open_nursery() as ann_scope:
            ann, bob, cat, dan = await _circle_of_four(nursery, ann_scope)
            with pytest.raises(BadInput, match="threshold"):
                await ann.request("recovery.setup", {"circle": "Elm St", "members": ["bob", "cat"], "threshold": 3})
            with pytest.raises(BadInput, match="your own"):
                await ann.request("recovery.setup", {"circle": "Elm St", "members": ["ann", "cat"], "threshold": 2})
            first = await ann.request("recovery.setup", {"circle": "Elm St", "members": ["bob", "cat", "dan"],
                                                         "threshold": 2})
            # a second setup replaces the first: the holders keep only the new share
            setup = await ann.request("recovery.setup", {"circle": "Elm St", "members": ["bob", "cat", "dan"],
                                                         "threshold": 2})
            assert setup["replaced"] == first["setup"]["rid"]
            assert [h["name"] for h in setup["setup"]["holders"]] == ["bob", "cat", "dan"]
            rid = setup["setup"]["rid"]
            for d in (bob, cat, dan):
                await wait_for(lambda d=d: [h["rid"] for h in d.perform("recovery.status", {})["holding"]] == [rid])
            status = ann.perform("recovery.status", {})
            assert status["setup"]["rid"] == rid and not status["holding"]
            await ann.request("call.create", {"circle": "Elm St", "text": "before the loss"})
            ann_scope.cancel_scope.cancel()             # ann's device is gone, and everything on it

        await bob.request("call.create", {"circle": "Elm St", "text": "while ann was away"})
        new = Daemon(Identity.generate("ann"), MemoryStore(), listen=("127.0.0.1", 0))
        await nursery.start(new.run)
        request = await new.request("recovery.request", {})
        assert request["request"].startswith("MCR1") and len(request["fingerprint"].split()) == 6
        again = await new.request("recovery.request", {})
        assert again["request"] == request["request"]       # the same until it is done
        progress = new.perform("recovery.collect", {})["progress"]
        assert progress["complete"] is False and progress["owner"] is None

        # a holder checks whose it is (and the fingerprint) first; a node that holds nothing refuses
        check = await bob.request("recovery.release", {"request": request["request"], "check_only": True})
        assert check["name"] == "ann" and check["owner"] == hexid(ann) and check["released"] is False
        assert check["fingerprint"] == request["fingerprint"]
        with pytest.raises(NotFound, match="holds no recovery share"):
            await new.request("recovery.release", {"request": request["request"]})
        with pytest.raises(BadInput, match="MCR1"):
            await bob.request("recovery.release", {"request": "MC1AAAA"})

        # one share: nothing opens, the status says one more is needed
        released = await bob.request("recovery.release", {"request": request["request"]})
        assert released["released"] is True and released["until"] is not None
        await wait_for(lambda: len(new.perform("recovery.collect", {})["progress"]["released"]) == 1)
        one = new.perform("recovery.collect", {})
        assert one["bundle"] is None
        assert one["progress"]["needed"] == 1 and one["progress"]["threshold"] == 2
        assert one["progress"]["owner"] == hexid(ann) and not one["progress"]["refused"]

        # the second share opens ann's backup: her identity, her circle
        await cat.request("recovery.release", {"request": request["request"]})
        await wait_for(lambda: new.perform("recovery.collect", {})["progress"]["complete"])
        done = new.perform("recovery.collect", {})
        assert done["progress"]["needed"] == 0 and len(done["progress"]["released"]) == 2
        bundle = Bundle.from_bytes(bytes.fromhex(done["bundle"]))
        assert bytes(bundle.identity().node_id) == bytes(ann.identity.node_id)

        # the new device restarts into ann (here: a daemon from the bundle's identity and state) and catches up
        state = MemoryStateFile()
        state.state = bundle.to_state()
        back = Daemon(bundle.identity(), MemoryStore(), listen=("127.0.0.1", 0),
                      peers=[("127.0.0.1", dan.port)], state=state)
        await nursery.start(back.run)
        await wait_for(lambda: member_names(back, "Elm St") == {"ann", "bob", "cat", "dan"})
        await wait_for(lambda: {c["text"] for c in back.perform("calls.list", {"all": True})["calls"]}
                       >= {"while ann was away"})
        await back.request("call.create", {"circle": "Elm St", "text": "I'm back"})
        await wait_for(lambda: "I'm back" in {c["text"] for c in bob.perform("calls.list", {"all": True})["calls"]})
        nursery.cancel_scope.cancel()
