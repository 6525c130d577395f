"""The fake tor's own tests (tests/fake_tor.py), spoken to in raw bytes, so that a test built on the fake
fails for the code under test and not for the fake. Budget: under 1 s.
"""

from __future__ import annotations

import struct

import trio

from meshcare.crypto.onion_key import OnionKey
from tests.fake_tor import FakeTor, echo_server, fake_tor


async def read_until(stream: trio.abc.Stream, end: bytes) -> bytes:
    data = b""
    with trio.fail_after(5):
        while not data.endswith(end):
            chunk = await stream.receive_some(4096)
            assert chunk, data
            data += chunk
    return data


async def control_session(tor: FakeTor) -> trio.abc.Stream:
    host, port = tor.control.split(":")
    stream = await trio.open_tcp_stream(host, int(port))
    await stream.send_all(f"AUTHENTICATE {tor.cookie.hex()}\r\n".encode())
    assert await read_until(stream, b"\r\n") == b"250 OK\r\n"
    return stream


async def socks_connect(tor: FakeTor, host: str, port: int, *, user: bytes | None = None) -> tuple[trio.abc.Stream, int]:
    stream = await trio.open_tcp_stream(*tor.socks)
    if user is None:
        await stream.send_all(b"\x05\x01\x00")
        assert await read_until(stream, b"\x00") == b"\x05\x00"
    else:
        await stream.send_all(b"\x05\x01\x02")
        assert await read_until(stream, b"\x02") == b"\x05\x02"
        await stream.send_all(b"\x01" + bytes([len(user)]) + user + b"\x01x")
        assert await read_until(stream, b"\x00") == b"\x01\x00"
    name = host.encode()
    await stream.send_all(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack("!H", port))
    reply = b""
    with trio.fail_after(5):
        while len(reply) < 10:
            reply += await stream.receive_some(10 - len(reply))
    return stream, reply[1]


async def test_unauthenticated_commands_are_refused(tmp_path):
    async with fake_tor(tmp_path) as tor:
        host, port = tor.control.split(":")
        stream = await trio.open_tcp_stream(host, int(port))
        await stream.send_all(b"GETINFO version\r\n")
        assert await read_until(stream, b"\r\n") == b"514 Authentication required.\r\n"
        assert await stream.receive_some(10) == b""


async def test_add_onion_publishes_and_socks_splices_to_the_target(tmp_path):
    key = OnionKey.generate()
    async with trio.open_nursery() as nursery, fake_tor(tmp_path) as tor:
        port = await echo_server(nursery)
        control = await control_session(tor)
        await control.send_all(b"SETEVENTS HS_DESC\r\n")
        assert await read_until(control, b"\r\n") == b"250 OK\r\n"
        await control.send_all(f"ADD_ONION ED25519-V3:{key.expanded_b64()} Port=7447,127.0.0.1:{port}\r\n".encode())
        assert await read_until(control, b"250 OK\r\n") == f"250-ServiceID={key.service_id}\r\n250 OK\r\n".encode()
        events = await read_until(control, b"UPLOADED " + key.service_id.encode() + b" UNKNOWN $" + b"A" * 40 + b"~fakehsdir\r\n")
        assert events.startswith(b"650 HS_DESC UPLOAD ")
        assert tor.published(key.service_id)

        stream, code = await socks_connect(tor, key.address, 7447, user=b"attempt-1")
        assert code == 0
        await stream.send_all(b"hello")
        assert await read_until(stream, b"hello") == b"hello"
        assert tor.socks_requests[-1].username == "attempt-1"
        await stream.aclose()

        _, code = await socks_connect(tor, OnionKey.generate().address, 7447)
        assert code == 0xF0
        _, code = await socks_connect(tor, key.address, 1)
        assert code == 0x05
        _, code = await socks_connect(tor, "example.com", 80)
        assert code == 0x04
        tor.socks_fail_next = [0xF2]
        _, code = await socks_connect(tor, key.address, 7447)
        assert code == 0xF2
        stream, code = await socks_connect(tor, key.address, 7447)
        assert code == 0
        await stream.aclose()

        await control.aclose()          # not detached: the service ends with the connection
        with trio.fail_after(5):
            while tor.services:
                await trio.sleep(0.01)
        _, code = await socks_connect(tor, key.address, 7447)
        assert code == 0xF0
        nursery.cancel_scope.cancel()


async def test_detached_services_outlive_their_connection_but_not_a_restart(tmp_path):
    async with fake_tor(tmp_path) as tor:
        control = await control_session(tor)
        await control.send_all(b"ADD_ONION NEW:ED25519-V3 Flags=Detach Port=7447,127.0.0.1:9\r\n")
        reply = await read_until(control, b"250 OK\r\n")
        service_id = reply.split(b"=")[1].split(b"\r\n")[0].decode()
        await control.aclose()
        await trio.sleep(0.1)
        assert tor.published(service_id)
        control = await control_session(tor)
        await control.send_all(b"SIGNAL NEWNYM\r\nGETINFO status/bootstrap-phase onions/current\r\n")
        reply = await read_until(control, b".\r\n250 OK\r\n")
        assert b"PROGRESS=100" in reply and b"250+onions/current=\r\n.\r\n" in reply
        assert tor.newnym_count == 1
        assert tor.connections == 1
        await tor.restart()
        assert await control.receive_some(10) == b""
        assert tor.services == {} and tor.connections == 0
