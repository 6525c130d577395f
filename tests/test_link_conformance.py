"""Link conformance: the same behaviour over in-memory streams and over real loopback TCP.

Every test runs in virtual time (MockClock with autojump, also over real loopback TCP): it drives
keep-alives and dead-peer timeouts, so nothing here sleeps on the real clock.
"""

from __future__ import annotations

import pytest
import trio
import trio.testing

from meshcare.sync.engine import SyncConfig
from meshcare.crypto.keys import Identity
from meshcare.ops.bench import BENCH_OPS
from meshcare.store.memory import MemoryStore
from meshcare.transport import links
from meshcare.transport.daemon import Daemon

from .helpers import wait_for

SECRET = "cd" * 16
CONFIG = SyncConfig(ping_interval=5.0, dead_after=15.0)


@pytest.fixture(params=["memory", "tcp"])
def kind(request):
    return request.param


def ids_of(d: Daemon) -> set[str]:
    return {k.id.hex() for k in d.store.keys(next(iter(d.node.plain_topics)), (0, b""), (2**63, b""), int(d.now()))}


async def linked_pair(nursery, kind: str, config: SyncConfig = CONFIG):
    a = Daemon(Identity.generate("a"), MemoryStore(), listen=("127.0.0.1", 0), config=config, extra_ops=BENCH_OPS)
    b = Daemon(Identity.generate("b"), MemoryStore(), listen=("127.0.0.1", 0), config=config, extra_ops=BENCH_OPS)
    for d in (a, b):
        await nursery.start(d.run)
        await d.request("topic.join", {"secret": SECRET})
    if kind == "tcp":
        a.discovered(("127.0.0.1", b.port), "lo")
    else:
        left, right = trio.testing.memory_stream_pair()
        nursery.start_soon(lambda: a.run_link(left, "b", initiator=True, key=("b", b.port)))
        nursery.start_soon(lambda: b.run_link(right, "a", initiator=False))
    await wait_for(lambda: len(a.links) == 1 and len(b.links) == 1)
    return a, b


async def test_identities_are_bound(kind, autojump_clock):
    async with trio.open_nursery() as nursery:
        a, b = await linked_pair(nursery, kind)
        assert next(iter(a.links.values())).node_id == b.identity.node_id
        assert next(iter(b.links.values())).node_id == a.identity.node_id
        nursery.cancel_scope.cancel()


async def test_both_directions_and_large_batches(kind, autojump_clock):
    async with trio.open_nursery() as nursery:
        a, b = await linked_pair(nursery, kind)
        sent_a = [(await a.request("topic.publish", {"secret": SECRET, "text": "x" * 3000}))["id"] for _ in range(60)]
        sent_b = [(await b.request("topic.publish", {"secret": SECRET, "text": f"b{i}"}))["id"] for i in range(5)]
        await wait_for(lambda: set(sent_a) <= ids_of(b) and set(sent_b) <= ids_of(a))
        nursery.cancel_scope.cancel()


async def test_peer_going_away_is_noticed(kind, autojump_clock):
    async with trio.open_nursery() as nursery:
        a, b = await linked_pair(nursery, kind)
        original = next(iter(a.links.values()))
        next(iter(b.links.values())).scope.cancel()  # b closes its end
        await wait_for(lambda: original not in a.links.values())  # (a may redial b at once over tcp)
        nursery.cancel_scope.cancel()


async def silent_peer_stream(nursery, kind: str, a: Daemon):
    """A peer that completes the handshake and then never sends or reads another byte."""
    ghost = Identity.generate("ghost")

    async def go_silent(stream) -> None:
        await links.handshake(stream, ghost, False, 9)
        await trio.sleep_forever()

    if kind == "memory":
        left, right = trio.testing.memory_stream_pair()
        nursery.start_soon(go_silent, right)
        nursery.start_soon(lambda: a.run_link(left, "ghost", initiator=True, key=("ghost", 9)))
    else:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]

        async def accept_one() -> None:
            stream = await listeners[0].accept()
            await go_silent(stream)
        nursery.start_soon(accept_one)
        a.discovered(("127.0.0.1", port), "lo")
    await wait_for(lambda: a.links)
    return next(iter(a.links.values()))


async def test_silent_peer_times_out_in_virtual_time(kind, autojump_clock):
    async with trio.open_nursery() as nursery:
        a = Daemon(Identity.generate("a"), MemoryStore(), listen=("127.0.0.1", 0), config=CONFIG, extra_ops=BENCH_OPS)
        await nursery.start(a.run)
        await a.request("topic.join", {"secret": SECRET})
        link = await silent_peer_stream(nursery, kind, a)
        start = trio.current_time()
        await wait_for(lambda: link not in a.links.values(), timeout=300)
        waited = trio.current_time() - start
        assert CONFIG.dead_after - 1 <= waited <= CONFIG.dead_after + 2 * CONFIG.tick + 1
        nursery.cancel_scope.cancel()


async def test_garbage_after_handshake_closes_only_that_link(kind, autojump_clock):
    async with trio.open_nursery() as nursery:
        a, b = await linked_pair(nursery, kind)
        original = next(iter(a.links.values()))
        link = next(iter(b.links.values()))
        await link.stream.send_all(b"\x00\x40" + b"\x00" * 64)  # a Noise message with a bad MAC, to a
        await wait_for(lambda: original not in a.links.values())
        assert a.node.engine.statistics().get("links_dropped_misbehaved", 0) == 1
        nursery.cancel_scope.cancel()
