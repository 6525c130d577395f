"""Hostile links against a real daemon on loopback (issue 9: items 1, 4, 12, 13).

A stranger, a garbage sender or a bug in one link's handling must close that link only: the daemon keeps
running and an honest link keeps delivering.
"""

from __future__ import annotations

import logging
import struct
import time

import pytest
import trio
import trio.testing

from meshcare.crypto.channel import Handshake
from meshcare.crypto.keys import Identity
from meshcare.errors import RemoteProtocolError
from meshcare.store import MemoryStore
from meshcare.transport import links
from meshcare.transport.daemon import Daemon

SECRET = "ef" * 16


def make(**kw) -> Daemon:
    return Daemon(Identity.generate("n"), MemoryStore(), listen=("127.0.0.1", 0), **kw)


def ids_of(d: Daemon) -> set[str]:
    return {k.id.hex() for k in d.store.keys(next(iter(d.topics)), (0, b""), (2**63, b""), int(time.time()) + 10)}


async def wait_for(predicate, timeout: float = 20.0) -> None:
    with trio.fail_after(timeout):
        while not predicate():
            await trio.sleep(0.01)


async def honest_pair(nursery) -> tuple[Daemon, Daemon]:
    a, b = make(), make()
    for d in (a, b):
        await nursery.start(d.run)
        await d.request("topic.join", {"secret": SECRET})
    b.discovered(("127.0.0.1", a.port), "lo")
    await wait_for(lambda: len(a.links) == 1 and len(b.links) == 1)
    return a, b


async def delivers(src: Daemon, dst: Daemon, text: str) -> None:
    sent = await src.request("topic.publish", {"secret": SECRET, "text": text})
    await wait_for(lambda: sent["id"] in ids_of(dst))


# --- item 1: the handshake never asserts on peer input ------------------------------------------------

def _forty_two_bytes() -> bytes:
    """Length 40, a 32-byte ephemeral key, then 8 bytes the responder would read as payload before it
    knows the initiator's static key."""
    return struct.pack(">H", 40) + b"\x09" * 32 + b"payload!"


def test_handshake_payload_before_static_key_is_a_remote_protocol_error():
    responder = Handshake(Identity.generate("r"), False, 7447)
    responder.start()
    with pytest.raises(RemoteProtocolError):
        responder.receive(_forty_two_bytes())


async def test_42_byte_packet_leaves_the_daemon_running():
    async with trio.open_nursery() as nursery:
        a, b = await honest_pair(nursery)
        stream = await trio.open_tcp_stream("127.0.0.1", a.port)
        await stream.send_all(_forty_two_bytes())
        with trio.fail_after(10):
            assert await stream.receive_some(100) in (b"",)  # a closes that connection at once
        await delivers(b, a, "still here")
        await delivers(a, b, "and back")
        nursery.cancel_scope.cancel()
