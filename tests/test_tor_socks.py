"""Dialling through tor's SOCKS port: the sans-I/O exchange (transport/tor/socks_protocol.py) and the trio
shell (socks.py) against the fake tor (tests/fake_tor.py). Budget: about 1 s.
"""

from __future__ import annotations

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.crypto.onion_key import OnionKey
from meshcare.errors import TorDialError
from meshcare.transport.tor.control import open_control
from meshcare.transport.tor.socks import open_via_socks
from meshcare.transport.tor.socks_protocol import REPLY_WORDS, SocksConnect, describe_reply
from tests.fake_tor import echo_server, fake_tor, serve_local

HOST = OnionKey.from_seed(b"\x01" * 32).address
OK_REPLY = b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"


def run_exchange(exchange: SocksConnect, answers: bytes, cuts: list[int]) -> bytes:
    """Feed ``answers`` in the pieces ``cuts`` allows (never more than ``needed``); return what was sent."""
    sent = exchange.data_to_send()
    rest = answers
    cuts = list(cuts)
    while not exchange.done:
        assert rest, "the exchange wants more bytes than the test gave"
        size = min(exchange.needed, cuts.pop(0) if cuts else len(rest))
        piece, rest = rest[:size], rest[size:]
        exchange.receive_data(piece)
        sent += exchange.data_to_send()
    assert rest == b""
    return sent


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 12), max_size=10), st.booleans())
def test_the_exchange_in_any_pieces(cuts, isolated):
    exchange = SocksConnect(HOST, 7447, isolation="attempt-7" if isolated else None)
    method = b"\x05\x02" + b"\x01\x00" if isolated else b"\x05\x00"
    sent = run_exchange(exchange, method + OK_REPLY, cuts)
    name = HOST.encode()
    connect = b"\x05\x01\x00\x03" + bytes([len(name)]) + name + (7447).to_bytes(2, "big")
    if isolated:
        assert sent == b"\x05\x01\x02" + b"\x01\x09attempt-7\x08meshcare" + connect
    else:
        assert sent == b"\x05\x01\x00" + connect
    assert exchange.needed == 0


def test_a_reply_with_a_domain_or_ipv6_address_is_read_whole():
    for reply in [b"\x05\x00\x00\x03\x03abc\x00\x50", b"\x05\x00\x00\x04" + b"\x00" * 16 + b"\x00\x50"]:
        exchange = SocksConnect(HOST, 7447)
        run_exchange(exchange, b"\x05\x00" + reply, [])
        assert exchange.done


@pytest.mark.parametrize("code", sorted(REPLY_WORDS))
def test_every_failure_code_is_told_in_words(code):
    exchange = SocksConnect(HOST, 7447)
    with pytest.raises(TorDialError) as caught:
        run_exchange(exchange, b"\x05\x00\x05" + bytes([code]) + b"\x00\x01" + b"\x00" * 6, [])
    assert caught.value.code == code
    assert str(caught.value) == f"cannot reach {HOST}:7447 through tor: {REPLY_WORDS[code]}"
    assert "0x" not in str(caught.value)
    assert "not published" in describe_reply(0xF0)
    assert describe_reply(0x99) == "tor answered with the unknown SOCKS5 error 0x99"


@pytest.mark.parametrize("answers, match", [
    (b"HTTP/1.0 400", "did not answer in SOCKS5"),
    (b"\x05\xff", "accepts none of the authentication methods"),
    (b"\x05\x02", "accepts none"),                       # a password asked for, none offered
    (b"\x05\x00\x05\x00\x00\x09\x00", "unknown address type"),
    (b"\x05\x07", "malformed"),
])
def test_broken_answers_raise(answers, match):
    exchange = SocksConnect(HOST, 7447)
    with pytest.raises(TorDialError, match=match) as caught:
        run_exchange(exchange, answers, [])
    assert caught.value.code is None


def test_refused_isolation_and_bad_arguments():
    exchange = SocksConnect(HOST, 7447, isolation="x")
    with pytest.raises(TorDialError, match="refused the isolation"):
        run_exchange(exchange, b"\x05\x02\x01\x01", [])
    for host, port, isolation in [("", 1, None), (HOST, 0, None), (HOST, 70000, None), ("é.onion", 1, None),
                                  (HOST, 1, ""), (HOST, 1, "x" * 256)]:
        with pytest.raises(TorDialError):
            SocksConnect(host, port, isolation=isolation)
    with pytest.raises(TorDialError, match="more than was asked"):
        SocksConnect(HOST, 1).receive_data(b"\x05\x00\x05")


# --- the shell against the fake ---------------------------------------------------------------------------

async def test_dial_an_onion_service_end_to_end(tmp_path):
    key = OnionKey.generate()
    async with trio.open_nursery() as nursery, fake_tor(tmp_path) as tor:
        port = await echo_server(nursery)
        async with await open_control(tor.control, timeout=5) as control:
            with pytest.raises(TorDialError, match="not published") as caught:
                await open_via_socks(tor.socks, key.address, 7447, timeout=5)
            assert caught.value.code == 0xF0
            await control.add_onion(key, 7447, ("127.0.0.1", port))
            await control.wait_published(key.service_id, timeout=5)
            stream = await open_via_socks(tor.socks, key.address, 7447, timeout=5, isolation="attempt-1")
            async with stream:
                await stream.send_all(b"ping")
                assert await stream.receive_some(4) == b"ping"
            assert [(r.host, r.port, r.username) for r in tor.socks_requests] == [
                (key.address, 7447, None), (key.address, 7447, "attempt-1")]
            tor.socks_fail_next = [0xF3]
            with pytest.raises(TorDialError, match="rendezvous") as caught:
                await open_via_socks(tor.socks, key.address, 7447, timeout=5, isolation="attempt-2")
            assert caught.value.code == 0xF3
            stream = await open_via_socks(tor.socks, key.address, 7447, timeout=5, isolation="attempt-3")
            await stream.aclose()
        nursery.cancel_scope.cancel()


async def test_a_silent_tor_and_a_missing_tor_are_bounded(tmp_path):
    async with fake_tor(tmp_path) as tor:
        tor.socks_delay = 10
        with trio.fail_after(3):
            with pytest.raises(TorDialError, match="no connection within 0.2 s") as caught:
                await open_via_socks(tor.socks, HOST, 7447, timeout=0.2)
        assert caught.value.code is None
        socks = tor.socks
    with pytest.raises(TorDialError, match="cannot reach tor's SOCKS port at 127.0.0.1:") as caught:
        await open_via_socks(socks, HOST, 7447, timeout=2)
    assert caught.value.code is None


async def test_a_proxy_that_hangs_up_is_a_dial_error():
    async def hang_up(stream: trio.abc.Stream) -> None:
        await stream.receive_some(3)
        await stream.aclose()
    async with trio.open_nursery() as nursery:
        port = await serve_local(nursery, hang_up)
        with pytest.raises(TorDialError, match="closed the SOCKS connection without an answer|broke"):
            await open_via_socks(("127.0.0.1", port), HOST, 7447, timeout=2)
        nursery.cancel_scope.cancel()
