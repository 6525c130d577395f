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
from meshcare.ops.bench import BENCH_OPS
from meshcare.store.memory import MemoryStore
from meshcare.transport import links
from meshcare.transport.daemon import Daemon

from .helpers import wait_for

SECRET = "ef" * 16


def make(**kw) -> Daemon:
    return Daemon(Identity.generate("n"), MemoryStore(), listen=("127.0.0.1", 0), extra_ops=BENCH_OPS, **kw)


def ids_of(d: Daemon) -> set[str]:
    return {k.id.hex() for k in d.store.keys(next(iter(d.node.plain_topics)), (0, b""), (2**63, b""), int(time.time()) + 10)}


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


async def test_42_byte_packet_leaves_the_daemon_running(autojump_clock):
    async with trio.open_nursery() as nursery:
        a, b = await honest_pair(nursery)
        stream = await trio.open_tcp_stream("127.0.0.1", a.port)
        await stream.send_all(_forty_two_bytes())
        with trio.fail_after(10):
            assert await stream.receive_some(100) in (b"",)  # a closes that connection at once
        await delivers(b, a, "still here")
        await delivers(a, b, "and back")
        nursery.cancel_scope.cancel()


# --- item 1 (backstop): a bug while serving one link closes that link only ----------------------------

def key_of(d: Daemon, other: Daemon):
    return next(k for k, link in d.links.items() if link.node_id == other.identity.node_id)


async def test_engine_fault_on_one_links_data_closes_that_link_only(caplog, autojump_clock):
    caplog.set_level(logging.INFO)
    async with trio.open_nursery() as nursery:
        a, b = await honest_pair(nursery)
        c = make()
        await nursery.start(c.run)
        await c.request("topic.join", {"secret": SECRET})
        c.discovered(("127.0.0.1", a.port), "lo")
        await wait_for(lambda: len(a.links) == 2)
        bad = key_of(a, c)
        real_handle = a.node.engine.handle

        def handle(event, now):
            if getattr(event, "peer", None) == bad and type(event).__name__ == "DataReceived":
                raise RuntimeError("injected engine fault")
            return real_handle(event, now)
        a.node.engine.handle = handle
        c_link = a.links[bad]
        await c.request("topic.publish", {"secret": SECRET, "text": "from c"})
        await wait_for(lambda: c_link not in a.links.values())
        await delivers(b, a, "b still delivers")
        await delivers(a, b, "and a to b")
        faults = [r for r in caplog.records if "injected engine fault" in r.getMessage() and r.levelno >= logging.ERROR]
        assert len(faults) == 1 and "Traceback (most recent call last)" in faults[0].getMessage()
        nursery.cancel_scope.cancel()


async def test_duty_fault_is_logged_once_and_postponed(autojump_clock, caplog):
    caplog.set_level(logging.INFO)
    async with trio.open_nursery() as nursery:
        a = make()
        await nursery.start(a.run)
        calls = []

        def duties(now):
            calls.append(now)
            raise RuntimeError("injected duty fault")
        a.node.duties.next_time = lambda now: now
        a.node.duties.due = duties
        a._timers_changed.set()
        await trio.sleep(3600)
        status = await a.request("status", {})      # the daemon is still serving
        assert status["node_id"] == a.identity.node_id.hex()
        assert 1 <= len(calls) <= 30                  # postponed with a growing backoff, not a busy loop
        faults = [r for r in caplog.records if "injected duty fault" in r.getMessage() and r.levelno >= logging.ERROR]
        assert len(faults) == 1 and "Traceback (most recent call last)" in faults[0].getMessage()
        nursery.cancel_scope.cancel()


# --- item 13 (log side): a peer's Close reason reaches the log escaped and bounded --------------------

async def test_close_reason_is_logged_escaped_on_one_bounded_line(caplog, autojump_clock):
    from meshcare.sync.frames import CODEC
    from meshcare.sync.frames import Close

    caplog.set_level(logging.DEBUG)
    async with trio.open_nursery() as nursery:
        a, b = await honest_pair(nursery)
        stranger = Identity.generate("stranger")
        stream = await trio.open_tcp_stream("127.0.0.1", a.port)
        channel, _ = await links.handshake(stream, stranger, True, 9)
        await wait_for(lambda: len(a.links) == 2)
        reason = "\nmeshcare INFO forged line\x1b[2J\x1b]0;title\x07\r" + "x" * 200_000
        await stream.send_all(channel.seal(CODEC.encode(Close(0, reason))))
        await wait_for(lambda: len(a.links) == 1)
        await delivers(b, a, "after the close")
        for record in caplog.records:
            text = record.getMessage()
            assert "\n" not in text and "\r" not in text and "\x1b" not in text and "\x07" not in text
            assert len(text) < 2000
        assert any("forged line" in r.getMessage() for r in caplog.records)
        nursery.cancel_scope.cancel()


# --- item 12: links are keyed by the authenticated node id ----------------------------------------------

async def test_stranger_claiming_a_peers_port_from_its_ip_leaves_that_link_alone(autojump_clock):
    async with trio.open_nursery() as nursery:
        a, b = await honest_pair(nursery)           # b dialled a: at a, b's link came from 127.0.0.1
        original = next(iter(a.links.values()))
        assert original.node_id == b.identity.node_id
        stranger = Identity.generate("stranger")
        stream = await trio.open_tcp_stream("127.0.0.1", a.port)
        channel, early = await links.handshake(stream, stranger, True, b.port)  # claims b's listening port
        plaintext = early
        with trio.fail_after(10):
            while not plaintext:                     # a's Hello: a admitted the stranger's link
                plaintext = channel.open(await stream.receive_some(65536))
        assert original in a.links.values() and len(a.links) == 2
        await delivers(b, a, "b is still linked")
        await delivers(a, b, "and hears a")
        assert original in a.links.values()
        peers = (await a.request("peers", {}))["peers"]
        assert {p["node_id"] for p in peers if p["linked"]} == {b.identity.node_id.hex(), stranger.node_id.hex()}
        for p in peers:
            assert set(p) <= {"node_id", "address", "linked", "initiator", "since", "topics", "source", "via"}
        nursery.cancel_scope.cancel()


async def test_dialling_an_address_whose_node_is_linked_settles_the_dial(autojump_clock):
    async with trio.open_nursery() as nursery:
        a, b = await honest_pair(nursery)           # b dialled a
        a.discovered(("127.0.0.1", b.port), "lo")   # a now also knows b's address: it dials, meets b again
        await wait_for(lambda: not a.node.engine._neighbours.dialing)
        assert len(a.links) == 1 and len(b.links) == 1
        await delivers(a, b, "one link, still delivering")
        # the engine knows that address is b's node and does not dial it while b is linked
        assert ("127.0.0.1", b.port) in a.node.engine._neighbours.busy()
        nursery.cancel_scope.cancel()


# --- item 4: connections that never finish a handshake are bounded ---------------------------------------

def test_admission_caps_total_per_source_and_links():
    from meshcare.transport.admission import Admission, AdmissionLimits

    adm = Admission(AdmissionLimits(max_handshakes=5, per_source=2))
    assert adm.enter("10.0.0.1", 0, 10) and adm.enter("10.0.0.1", 0, 10)
    assert adm.enter("10.0.0.1", 0, 10) is None                     # per source
    slots = [adm.enter(f"10.0.0.{i}", 0, 10) for i in (2, 3, 4)]
    assert all(slots) and adm.in_handshake == 5
    assert adm.enter("10.0.0.9", 0, 10) is None                     # total
    adm.leave(slots[0])
    assert adm.enter("10.0.0.9", 9, 9) is None                      # the node holds all the links it may
    assert adm.enter("10.0.0.9", 0, 10) is not None                 # a freed slot is taken again
    stats = adm.statistics()
    assert stats["refused_connections"] == 3 and stats["in_handshake"] == 5
    v6 = Admission(AdmissionLimits(max_handshakes=5, per_source=2))
    assert v6.enter("2001:db8::1", 0, 10) and v6.enter("2001:db8::2", 0, 10)
    assert v6.enter("2001:db8::3", 0, 10) is None                   # one IPv6 /64 is one source
    assert v6.enter("2001:db8:0:1::1", 0, 10) is not None


async def test_hundreds_of_idle_connections_are_bounded_and_an_honest_peer_still_links():
    async with trio.open_nursery() as nursery:
        a, b = await honest_pair(nursery)
        sources = [f"127.0.0.{i}" for i in range(2, 7)]
        idle = []
        for i in range(300):
            idle.append(await trio.open_tcp_stream("127.0.0.1", a.port, local_address=sources[i % len(sources)]))
        limits = a.admission.limits
        await wait_for(lambda: a.admission.statistics().get("refused_connections", 0)
                       >= 300 - len(sources) * limits.per_source)
        assert a.admission.in_handshake <= len(sources) * limits.per_source
        c = make()
        await nursery.start(c.run)
        await c.request("topic.join", {"secret": SECRET})
        c.discovered(("127.0.0.1", a.port), "lo")
        await wait_for(lambda: len(a.links) == 2)
        await delivers(c, a, "an honest newcomer")
        await delivers(b, a, "and the old friend")
        status = await a.request("status", {})
        assert status["statistics"]["refused_connections"] >= 300 - len(sources) * limits.per_source
        for s in idle:
            await trio.aclose_forcefully(s)
        nursery.cancel_scope.cancel()


# --- item 1 (backstop): discovery callbacks ----------------------------------------------------------------

def test_discovery_callback_fault_is_logged_once_and_contained(caplog):
    from zeroconf import ServiceStateChange

    from meshcare.transport.discovery import Discovery

    class Broken:
        def get_service_info(self, *args, **kw):
            raise RuntimeError("injected discovery fault")

    caplog.set_level(logging.INFO)
    d = Discovery(b"\x01" * 32, 7447)
    for _ in range(5):   # the zeroconf browser thread would die (or log nothing useful) without the backstop
        d._on_state_change(Broken(), "_meshcare._tcp.local.", "x._meshcare._tcp.local.", ServiceStateChange.Added)
    d._deliver(object())  # before the trio side exists: must not raise into trio's run_sync_soon
    faults = [r for r in caplog.records if "injected discovery fault" in r.getMessage()]
    assert len(faults) == 1 and "Traceback" in faults[0].getMessage()
    assert d._counts["callback_errors"] == 6
