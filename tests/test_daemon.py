"""Several daemons in one trio run: loopback TCP and in-memory streams (the shell around the engine)."""

from __future__ import annotations

import time

import trio
import trio.testing

from meshcare.crypto.keys import Identity
from meshcare.ops.bench import BENCH_OPS
from meshcare.store.memory import MemoryStore
from meshcare.transport.daemon import Daemon

from .helpers import wait_for

SECRET = "ab" * 16


def make(peers=()) -> Daemon:
    return Daemon(Identity.generate("n"), MemoryStore(), listen=("127.0.0.1", 0), peers=peers, extra_ops=BENCH_OPS)


async def start(nursery, daemons):
    for d in daemons:
        await nursery.start(d.run)
        await d.request("topic.join", {"secret": SECRET})


async def test_three_daemons_over_loopback_tcp_deliver_everywhere(autojump_clock):
    async with trio.open_nursery() as nursery:
        a = make()
        await start(nursery, [a])
        b, c = make([("127.0.0.1", a.port)]), make([("127.0.0.1", a.port)])
        await start(nursery, [b, c])
        await wait_for(lambda: len(a.links) == 2 and len(b.links) >= 1 and len(c.links) >= 1)
        sent = await b.request("topic.publish", {"secret": SECRET, "text": "call for support", "urgent": True})
        for d in (a, c):
            await wait_for(lambda d=d: sent["id"] in (await_ids(d)))
        peers = (await a.request("peers", {}))["peers"]
        assert {p["node_id"] for p in peers if p["linked"]} == {b.identity.node_id.hex(), c.identity.node_id.hex()}
        status = await a.request("status", {})
        assert status["links"] == 2 and status["envelopes"] == 1
        nursery.cancel_scope.cancel()


def await_ids(d: Daemon) -> set[str]:
    keys = d.store.keys(next(iter(d.node.plain_topics)), (0, b""), (2**63, b""), int(time.time()))
    return {k.id.hex() for k in keys}


async def test_simultaneous_dials_leave_one_link(autojump_clock):
    async with trio.open_nursery() as nursery:
        a, b = make(), make()
        await start(nursery, [a, b])
        a.discovered(("127.0.0.1", b.port), "lan")
        b.discovered(("127.0.0.1", a.port), "lan")
        await wait_for(lambda: len(a.links) == 1 and len(b.links) == 1)
        # both dials have been settled (joined or refused) and still exactly one link each
        await wait_for(lambda: not a.node.engine._neighbours.dialing and not b.node.engine._neighbours.dialing)
        assert len(a.links) == len(b.links) == 1
        nursery.cancel_scope.cancel()


async def test_restarted_node_catches_up_from_its_store(autojump_clock):
    store = MemoryStore()
    ident = Identity.generate("returning")
    async with trio.open_nursery() as nursery:
        a = make()
        await start(nursery, [a])
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as inner:
                b = Daemon(ident, store, listen=("127.0.0.1", 0), peers=[("127.0.0.1", a.port)], extra_ops=BENCH_OPS)
                await start(inner, [b])
                first = await a.request("topic.publish", {"secret": SECRET, "text": "one"})
                await wait_for(lambda: first["id"] in await_ids(b))
                scope.cancel()
        later = [await a.request("topic.publish", {"secret": SECRET, "text": f"m{i}"}) for i in range(20)]
        b2 = Daemon(ident, store, listen=("127.0.0.1", 0), peers=[("127.0.0.1", a.port)], extra_ops=BENCH_OPS)
        await start(nursery, [b2])
        await wait_for(lambda: {m["id"] for m in later} <= await_ids(b2))
        nursery.cancel_scope.cancel()


async def test_link_over_memory_streams_and_garbage_closes_only_that_link(autojump_clock):
    async with trio.open_nursery() as nursery:
        a, b = make(), make()
        await start(nursery, [a, b])
        left, right = trio.testing.memory_stream_pair()
        nursery.start_soon(lambda: a.run_link(left, "10.0.0.2", initiator=True, key=("10.0.0.2", 1)))
        nursery.start_soon(lambda: b.run_link(right, "10.0.0.1", initiator=False))
        await wait_for(lambda: len(a.links) == 1 and len(b.links) == 1)
        sent = await a.request("topic.publish", {"secret": SECRET, "text": "over memory"})
        await wait_for(lambda: sent["id"] in await_ids(b))
        # a third party speaks garbage to b: that handshake fails, b keeps its link to a
        bad_left, bad_right = trio.testing.memory_stream_pair()
        await bad_left.send_all(b"\x00\x10" + b"\xff" * 16)  # too short to hold an ephemeral key
        await b.run_link(bad_right, "10.0.0.9", initiator=False)  # returns once the handshake failed
        assert len(b.links) == 1
        nursery.cancel_scope.cancel()
