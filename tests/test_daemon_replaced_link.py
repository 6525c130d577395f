"""Two daemons dialling each other at once: the link that loses (``LinkServer._admit``,
transport/link_serving.py) takes its bytes with it.

The cause of a bug seen under load (both links dropped with "unexpected Hello frame while live", then 60 s
of misbehaviour backoff): trio hands back data a socket has already read even when the reading task was
cancelled meanwhile (a successful ``recv`` ends in a shielded checkpoint). So the reader of a link that
``_admit`` had just replaced could deliver one last read, and since data went to the node by node id, the
old connection's Hello reached the NEW link's session, which then saw a second Hello and called the peer a
misbehaver. ``LateStream`` below holds such a read across the replacement, as the kernel's timing may.
"""

from __future__ import annotations

import random

import pytest
import trio
import trio.testing

from meshcare.transport.daemon import Daemon

from .helpers import wait_for
from .test_daemon import SECRET, await_ids, make, start


class LateStream(trio.abc.Stream):
    """A stream whose reads, from the ``free``-th on, return only once ``release`` is set, or after a
    random delay: shielded, so a cancelled reader still gets what was read (trio's socket semantics)."""

    def __init__(self, inner: trio.abc.Stream, release: trio.Event | None = None, *, free: int = 0,
                 delays: random.Random | None = None) -> None:
        self.inner, self.release, self.free, self.delays = inner, release, free, delays
        self.reads = 0

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        data = await self.inner.receive_some(max_bytes)
        self.reads += 1
        with trio.CancelScope(shield=True):
            if self.release is not None and self.reads > self.free:
                await self.release.wait()
            if self.delays is not None:
                await trio.sleep(self.delays.choice((0.0, 0.0, 0.001, 0.003, 0.01)))
        return bytes(data)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.inner.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self.inner.aclose()


def misbehaved(*daemons: Daemon) -> int:
    return sum(d.node.engine.stats["links_dropped_misbehaved"] + d.node.engine.stats["protocol_errors"]
               for d in daemons)


@pytest.mark.parametrize("old_via", ["direct", "onion"])
async def test_a_read_finished_by_a_replaced_link_never_reaches_the_new_links_session(autojump_clock, old_via):
    """The old link loses to the new one by the dialler rule (direct), or as a link through Tor that a
    direct one replaces (onion): either way its last read is dropped, not handed to the new session."""
    async with trio.open_nursery() as nursery:
        small, big = sorted([make(), make()], key=lambda d: d.identity.node_id)
        await start(nursery, [small, big])
        # first the connection the bigger node dialled: it loses to the one the smaller node dials next
        release = trio.Event()
        old_small, old_big = trio.testing.memory_stream_pair()
        held = LateStream(old_big, release, free=1)   # (read 1: the handshake's reply; then small's Hello)
        nursery.start_soon(lambda: big.run_link(held, "10.0.0.1", initiator=True, key=("10.0.0.1", 7447),
                                                via=old_via))
        nursery.start_soon(lambda: small.run_link(old_small, "10.0.0.2", initiator=False, via=old_via))
        await wait_for(lambda: held.reads >= 2)       # big has read small's Hello on the old connection
        old = big.links[small.identity.node_id]
        new_small, new_big = trio.testing.memory_stream_pair()
        nursery.start_soon(lambda: small.run_link(new_small, "10.0.0.2", initiator=True, key=("10.0.0.2", 7447)))
        nursery.start_soon(lambda: big.run_link(new_big, "10.0.0.1", initiator=False))
        await wait_for(lambda: big.links.get(small.identity.node_id, old) is not old)
        release.set()                                 # the old reader hands over its last read now
        await trio.sleep(1)
        assert misbehaved(small, big) == 0
        kept = big.links[small.identity.node_id]
        assert len(small.links) == len(big.links) == 1 and kept.initiator is False and kept.via == "direct"
        sent = await big.request("topic.publish", {"secret": SECRET, "text": "still linked"})
        await wait_for(lambda: sent["id"] in await_ids(small))
        nursery.cancel_scope.cancel()


async def test_simultaneous_connections_again_and_again_leave_one_link_and_no_misbehaver(autojump_clock):
    """Each round: two fresh daemons open both connections at the same moment, reads delayed at random."""
    delays = random.Random(15)
    for _ in range(12):
        async with trio.open_nursery() as nursery:
            a, b = make(), make()
            await start(nursery, [a, b])
            ab_a, ab_b = trio.testing.memory_stream_pair()     # a dials b
            ba_b, ba_a = trio.testing.memory_stream_pair()     # b dials a
            nursery.start_soon(lambda: a.run_link(LateStream(ab_a, delays=delays), "10.0.0.2", initiator=True,
                                                  key=("10.0.0.2", 7447)))
            nursery.start_soon(lambda: b.run_link(LateStream(ab_b, delays=delays), "10.0.0.1", initiator=False))
            nursery.start_soon(lambda: b.run_link(LateStream(ba_b, delays=delays), "10.0.0.1", initiator=True,
                                                  key=("10.0.0.1", 7447)))
            nursery.start_soon(lambda: a.run_link(LateStream(ba_a, delays=delays), "10.0.0.2", initiator=False))
            await wait_for(lambda: len(a.links) == 1 and len(b.links) == 1)
            await trio.sleep(2)
            assert misbehaved(a, b) == 0
            assert len(a.links) == len(b.links) == 1
            link_a, link_b = a.links[b.identity.node_id], b.links[a.identity.node_id]
            assert link_a.initiator != link_b.initiator     # both kept the same connection
            nursery.cancel_scope.cancel()
