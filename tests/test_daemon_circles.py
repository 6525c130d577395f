"""Circles between real daemons in one trio run over loopback TCP: the control ops end to end."""

from __future__ import annotations

import pytest
import trio

from meshcare.crypto.keys import Identity
from meshcare.errors import BadInput, NotFound
from meshcare.transport.daemon import Daemon

from .helpers import circle_of_three, founded, make_daemon, member_names, wait_for


async def test_invite_join_call_claim_resolve_between_three_daemons(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        made = await cat.request("call.create", {"circle": "Elm St", "text": "Rough night, could someone come by?",
                                                 "urgency": "now", "needs": ["company"]})
        call = made["call"]["id"]

        def seen(d: Daemon) -> bool:
            return any(call in [c["id"] for c in d.perform("calls.list", {})["calls"]] for _ in [0])
        await wait_for(lambda: seen(ann) and seen(bob))
        # receipts: cat sees it reached both others
        await wait_for(lambda: cat.perform("call.show", {"call": call})["call"]["reached"] == 2)
        offer = await bob.request("call.offer", {"call": call, "kind": "come_over", "text": "10 minutes"})
        await bob.request("call.claim", {"call": call})
        await wait_for(lambda: all(d.perform("call.show", {"call": call})["call"]["claimer"] == bob.identity.node_id.hex()
                                   for d in (ann, cat)))       # ann must know of bob's claim to be told so
        with pytest.raises(BadInput):
            await ann.request("call.claim", {"call": call[:10]})   # bob has it: ann is told so
        await cat.request("call.accept", {"call": call, "offer": offer["id"][:8]})
        await cat.request("call.resolve", {"call": call})
        for d in (ann, bob, cat):
            await wait_for(lambda d=d: d.perform("call.show", {"call": call})["call"]["status"] == "resolved")
            shown = d.perform("call.show", {"call": call})["call"]
            assert shown["offers"][0]["accepted"] is True
        assert [c["id"] for c in ann.perform("calls.list", {})["calls"]] == []
        assert [c["id"] for c in ann.perform("calls.list", {"all": True})["calls"]] == [call]
        nursery.cancel_scope.cancel()


async def test_removed_member_is_cut_off_and_sees_nothing_new(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        await ann.request("circle.remove", {"circle": "Elm St", "member": "cat"})
        for d in (ann, bob):
            await wait_for(lambda d=d: member_names(d, "Elm St") == {"ann", "bob"})
        await wait_for(lambda: cat.node.registry.find("Elm St").roster.role(cat.node.registry.me) is None)
        topic = ann.node.registry.find("Elm St").topic

        def cut_off() -> bool:   # no link to cat carries the circle: nothing posted now can reach it
            return all(topic not in d.node.engine.shared_topics(key) for d in (ann, bob)
                       for key, link in d.links.items() if link.node_id == cat.identity.node_id)
        await wait_for(cut_off)
        made = await bob.request("call.create", {"circle": "Elm St", "text": "Anyone around tonight?"})
        call = made["call"]["id"]
        await wait_for(lambda: call in [c["id"] for c in ann.perform("calls.list", {})["calls"]])
        assert call not in [c["id"] for c in cat.perform("calls.list", {"all": True})["calls"]]
        circle = cat.node.registry.find("Elm St")
        assert bytes.fromhex(call) not in circle.content_ids()     # not even the ciphertext reached it
        # bob's link to cat no longer carries the circle
        for key, link in bob.links.items():
            if link.node_id == cat.identity.node_id:
                assert topic not in bob.node.engine.shared_topics(key)
        nursery.cancel_scope.cancel()


async def test_checkin_tally_and_not_answered(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann, bob, cat = await circle_of_three(nursery)
        made = await ann.request("checkin.create", {"circle": "Elm St", "prompt": "How is everyone this week?"})
        checkin = made["checkin"]["id"]
        await wait_for(lambda: checkin in [c["id"] for c in bob.perform("checkin.list", {})["checkins"]])
        reply = await bob.request("checkin.reply", {"checkin": checkin[:8], "option": "3", "text": "rough"})
        assert reply["suggest_call"] is True and reply["option"] == "need support now"
        await wait_for(lambda: ann.perform("checkin.show", {"checkin": checkin})["checkin"]["tally"]["need support now"] == 1)
        shown = ann.perform("checkin.show", {"checkin": checkin})["checkin"]
        assert shown["not_answered"] == [cat.identity.node_id.hex()]
        # facilitators-only: cat sees that bob answered, not what
        await wait_for(lambda: checkin in [c["id"] for c in cat.perform("checkin.list", {})["checkins"]])
        await wait_for(lambda: bob.identity.node_id.hex() not in
                       cat.perform("checkin.show", {"checkin": checkin})["checkin"]["not_answered"])
        assert cat.perform("checkin.show", {"checkin": checkin})["checkin"]["tally"]["need support now"] == 0
        with pytest.raises(BadInput):
            await bob.request("checkin.create", {"circle": "Elm St", "prompt": "members cannot"})
        nursery.cancel_scope.cancel()


async def test_errors_name_the_problem(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann = make_daemon("ann")
        await nursery.start(ann.run)
        with pytest.raises(NotFound):
            await ann.request("call.create", {"circle": "nowhere", "text": "hello"})
        with pytest.raises(BadInput, match="MC1"):
            await ann.request("circle.join", {"token": "hello"})
        await ann.request("circle.create", {"name": "Elm St"})
        with pytest.raises(BadInput, match="already"):
            await ann.request("circle.create", {"name": "Elm St"})
        with pytest.raises(BadInput):
            await ann.request("call.create", {"circle": "Elm St", "text": "x", "urgency": "yesterday"})
        nursery.cancel_scope.cancel()


async def test_a_member_admits_when_the_inviter_is_offline(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann = make_daemon("ann")
        with trio.CancelScope() as ann_scope:
            async with trio.open_nursery() as ann_nursery:
                await ann_nursery.start(ann.run)
                await ann.request("circle.create", {"name": "Elm St"})
                bob = make_daemon("bob", [("127.0.0.1", ann.port)])
                await nursery.start(bob.run)
                await bob.request("circle.join", {"token": (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]})
                await wait_for(lambda: bob.node.registry.circles and member_names(bob, "Elm St") == {"ann", "bob"})
                token = (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]
                await wait_for(lambda: len(bob.node.registry.find("Elm St").roster.invites) == 2)
                ann_scope.cancel()          # the inviter goes offline before anyone uses the token
        cat = make_daemon("cat", [("127.0.0.1", bob.port)])
        await nursery.start(cat.run)
        await cat.request("circle.join", {"token": token})
        await wait_for(lambda: cat.node.registry.circles and member_names(cat, "Elm St") == {"ann", "bob", "cat"},
                       timeout=40)
        admitted_by = {op.author for op in cat.node.registry.find("Elm St")._ops.values() if op.kind == "admit"
                       and op.body["member"] == cat.identity.node_id}
        assert admitted_by == {bob.identity.node_id}
        nursery.cancel_scope.cancel()


async def test_new_members_read_from_their_join_on_unless_history_is_shared(autojump_clock):
    for share in (False, True):
        async with trio.open_nursery() as nursery:
            ann = make_daemon("ann")
            await nursery.start(ann.run)
            await ann.request("circle.create", {"name": "Elm St", "share_history": share})
            before = (await ann.request("call.create", {"circle": "Elm St", "text": "said before bob joined"}))["call"]["id"]
            bob = make_daemon("bob", [("127.0.0.1", ann.port)])
            await nursery.start(bob.run)
            await bob.request("circle.join", {"token": (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]})
            await wait_for(lambda: bob.node.registry.circles and member_names(bob, "Elm St") == {"ann", "bob"})
            after = (await ann.request("call.create", {"circle": "Elm St", "text": "said after"}))["call"]["id"]
            await wait_for(lambda: after in [c["id"] for c in bob.perform("calls.list", {"all": True})["calls"]])
            await wait_for(lambda: bytes.fromhex(before) in bob.node.registry.find("Elm St").content_ids())
            readable = [c["id"] for c in bob.perform("calls.list", {"all": True})["calls"]]
            assert (before in readable) is share
            nursery.cancel_scope.cancel()


async def test_a_relay_carries_the_circle_without_reading_it(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann = await founded(nursery)
        pi = make_daemon("pi", [("127.0.0.1", ann.port)])
        await nursery.start(pi.run)
        await pi.request("circle.join", {"token": (await ann.request("circle.invite", {"circle": "Elm St", "role": "relay"}))["token"]})
        await wait_for(lambda: pi.node.registry.circles and pi.node.registry.find("Elm St").roster.role(pi.node.registry.me) == "relay")
        bob = make_daemon("bob", [("127.0.0.1", pi.port)])        # bob reaches ann only through the relay
        await nursery.start(bob.run)
        await bob.request("circle.join", {"token": (await ann.request("circle.invite", {"circle": "Elm St"}))["token"]})
        await wait_for(lambda: bob.node.registry.circles and member_names(bob, "Elm St") == {"ann", "bob", "pi"}, timeout=40)
        call = (await bob.request("call.create", {"circle": "Elm St", "text": "through the mailbox"}))["call"]["id"]
        await wait_for(lambda: call in [c["id"] for c in ann.perform("calls.list", {})["calls"]])
        circle = pi.node.registry.find("Elm St")
        assert bytes.fromhex(call) in circle.content_ids()          # stored and forwarded...
        assert pi.perform("calls.list", {"all": True})["calls"] == []       # ...never readable
        with pytest.raises(BadInput, match="relay"):
            await pi.request("call.create", {"circle": "Elm St", "text": "relays cannot post"})
        nursery.cancel_scope.cancel()


async def test_retention_deletes_expired_calls_from_store_and_state(autojump_clock):
    async with trio.open_nursery() as nursery:
        ann = make_daemon("ann")
        await nursery.start(ann.run)
        await ann.request("circle.create", {"name": "Elm St", "retention_days": 1})
        call = (await ann.request("call.create", {"circle": "Elm St", "text": "short-lived"}))["call"]["id"]
        assert ann.store.has(bytes.fromhex(call))
        ann._apply(ann.node.handle_deadline(ann.now() + 2 * 86_400))   # the retention sweep, two days on
        assert not ann.store.has(bytes.fromhex(call))
        assert ann.perform("calls.list", {"all": True})["calls"] == []
        assert ann.node.registry.find("Elm St").roster.name == "Elm St"   # membership outlives retention
        nursery.cancel_scope.cancel()


async def test_the_circle_state_survives_a_restart(tmp_path, autojump_clock):
    from meshcare.transport.state_file import LocalStateFile
    from meshcare.store.sqlite import SqliteStore
    ident = Identity.generate("ann")
    for round_ in range(2):
        store = SqliteStore(tmp_path / "store.sqlite")
        async with trio.open_nursery() as nursery:
            ann = Daemon(ident, store, listen=("127.0.0.1", 0), state=LocalStateFile(tmp_path, ident))
            await nursery.start(ann.run)
            if round_ == 0:
                await ann.request("circle.create", {"name": "Elm St"})
                made = await ann.request("call.create", {"circle": "Elm St", "text": "still here after restart"})
            else:
                calls = ann.perform("calls.list", {})["calls"]
                assert [c["id"] for c in calls] == [made["call"]["id"]]
                assert ann.perform("circle.list", {})["circles"][0]["role"] == "facilitator"
                again = await ann.request("call.create", {"circle": "Elm St", "text": "and posting works"})
                assert again["call"]["id"] != made["call"]["id"]
            nursery.cancel_scope.cancel()
        store.close()
    assert oct((tmp_path / "circles.state").stat().st_mode & 0o777) == "0o600"
