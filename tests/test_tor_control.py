"""tor's control protocol (transport/tor/control_protocol.py) and the trio client (control.py) against the
fake tor (tests/fake_tor.py). Budget: about 2 s.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from meshcare.crypto.onion_key import OnionKey
from meshcare.errors import TorControlError
from meshcare.transport.tor import control_protocol as proto
from meshcare.transport.tor.control import open_control, parse_where
from meshcare.transport.tor.control_protocol import Reply, ReplyParser
from tests.fake_tor import fake_tor

SAMPLE = (b"250-PROTOCOLINFO 1\r\n"
          b'250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/run/tor/control.authcookie"\r\n'
          b'250-VERSION Tor="0.4.9.11"\r\n'
          b"250 OK\r\n"
          b"650 HS_DESC UPLOADED abc UNKNOWN $AAAA~relay\r\n"
          b"250+config-text=\r\n"
          b"SocksPort 9050\r\n"
          b"..dotted\r\n"
          b".\r\n"
          b"250 OK\r\n"
          b'552 Unrecognized key "nope"\r\n')


def parse_all(chunks: list[bytes], **bounds: int) -> list[Reply]:
    parser = ReplyParser(**bounds)
    out = []
    for chunk in chunks:
        parser.receive_data(chunk)
        while (reply := parser.next_reply()) is not None:
            out.append(reply)
    return out


def test_the_parser_reads_replies_events_and_data_blocks():
    info, event, data, error = parse_all([SAMPLE])
    assert info.ok and info.status == 250 and len(info.lines) == 4
    assert proto.parse_protocolinfo(info) == proto.ProtocolInfo(frozenset({"COOKIE", "SAFECOOKIE"}),
                                                                 "/run/tor/control.authcookie", "0.4.9.11")
    assert event.is_event and proto.parse_hs_desc(proto.parse_event(event)).action == "UPLOADED"
    assert data.lines[0].data == "SocksPort 9050\n.dotted"
    assert proto.parse_getinfo(data, ("config-text",)) == {"config-text": "SocksPort 9050\n.dotted"}
    assert not error.ok and error.message == 'Unrecognized key "nope"'
    with pytest.raises(TorControlError, match="552"):
        proto.parse_getinfo(error, ("nope",))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, len(SAMPLE)), max_size=12))
def test_any_chunking_gives_the_same_replies(cuts):
    points = sorted(set(cuts))
    chunks = [SAMPLE[a:b] for a, b in zip([0, *points], [*points, len(SAMPLE)])]
    assert parse_all(chunks) == parse_all([SAMPLE])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_raises_only_tor_control_error(data):
    try:
        parse_all([data], max_line=100, max_lines=5, max_reply=400)
    except TorControlError:
        pass


@pytest.mark.parametrize("stream, match", [
    (b"25 OK\r\n", "malformed"),
    (b"250xOK\r\n", "malformed"),
    (b"250-a\r\n251 b\r\n", "changed status"),
    (b"250-" + b"x" * 200 + b"\r\n", "longer than 100"),
    (b"x" * 300, "longer than 100"),
    (b"250-a\r\n" * 10, "more than 5 lines"),
    (b"250+k=\r\n" + b"d\r\n" * 10, "more than 5 lines"),
    (b"250-" + b"x" * 90 + b"\r\n" + b"250-" + b"x" * 90 + b"\r\n" + b"250-" + b"x" * 90 + b"\r\n", "longer than 200"),
])
def test_malformed_or_huge_input_raises(stream, match):
    with pytest.raises(TorControlError, match=match):
        parse_all([stream], max_line=100, max_lines=5, max_reply=200)


def test_commands_refuse_line_breaks_and_quote_text():
    assert proto.command("GETINFO", "version", "status/bootstrap-phase") == b"GETINFO version status/bootstrap-phase\r\n"
    for bad in ["a\r\nSIGNAL HALT", "a\nb", "a\x00", "a b", ""]:
        with pytest.raises(TorControlError, match="printable ASCII"):
            proto.command("GETINFO", bad)
    with pytest.raises(TorControlError):
        proto.command("getinfo\r\nX")
    assert proto.quote('a "b" \\c') == '"a \\"b\\" \\\\c"'
    with pytest.raises(TorControlError):
        proto.quote("a\r\nb")
    assert proto.parse_arguments(r'AUTH METHODS=A,B COOKIEFILE="/x \"y\"" Z') == (
        ["AUTH", "Z"], {"METHODS": "A,B", "COOKIEFILE": '/x "y"'})
    with pytest.raises(TorControlError, match="unterminated"):
        proto.parse_arguments('K="open')


def test_small_parsers():
    assert proto.parse_bootstrap('NOTICE BOOTSTRAP PROGRESS=85 TAG=ap_conn_done SUMMARY="Connected to a relay to build circuits"') == 85
    with pytest.raises(TorControlError, match="progress"):
        proto.parse_bootstrap("NOTICE BOOTSTRAP TAG=done")
    key = OnionKey.generate()
    reply = parse_all([f"250-ServiceID={key.service_id}\r\n250 OK\r\n".encode()])[0]
    assert proto.parse_add_onion(reply) == key.service_id
    for bad in [b"250-ServiceID=short\r\n250 OK\r\n", b"250 OK\r\n"]:
        with pytest.raises(TorControlError, match="ServiceID"):
            proto.parse_add_onion(parse_all([bad])[0])
    cookie, cn, sn = b"c" * 32, b"n" * 32, b"s" * 32
    server, client = proto.safecookie_hashes(cookie, cn, sn)
    assert server == hmac.new(b"Tor safe cookie authentication server-to-controller hash", cookie + cn + sn,
                              hashlib.sha256).digest()
    assert client != server
    challenge = parse_all([f"250 AUTHCHALLENGE SERVERHASH={server.hex()} SERVERNONCE={sn.hex()}\r\n".encode()])[0]
    assert proto.parse_authchallenge(challenge) == (server, sn)
    assert parse_where("127.0.0.1:9051") == ("127.0.0.1", 9051)
    assert parse_where("[::1]:9051") == ("::1", 9051)
    assert str(parse_where("/run/tor/control")) == "/run/tor/control"
    for bad in ["9051", "host:", "host:70000", "relative/path"]:
        with pytest.raises(TorControlError, match="HOST:PORT"):
            parse_where(bad)


# --- the client against the fake --------------------------------------------------------------------------

@pytest.mark.parametrize("auth", ["safecookie", "cookie", "null"])
async def test_authenticates_each_way_and_reads_info(tmp_path, auth):
    async with fake_tor(tmp_path, auth=auth, bootstrap=45) as tor:
        control = await open_control(tor.control, timeout=5)
        async with control:
            assert control.version == "0.4.9.11 (fake)"
            assert await control.bootstrap() == 45
            tor.bootstrap = 100
            assert await control.bootstrap() == 100
            info = await control.get_info("version", "net/listeners/socks")
            assert info == {"version": "0.4.9.11 (fake)", "net/listeners/socks": f'"{tor.socks[0]}:{tor.socks[1]}"'}
            with pytest.raises(TorControlError, match="552"):
                await control.get_info("no/such/key")
            assert await control.bootstrap() == 100          # the connection is still good after an error
        authenticate = [c for c in tor.commands if c.startswith("AUTHENTICATE")]
        assert tor.cookie.hex() not in " ".join(authenticate) or auth == "cookie"


async def test_a_unix_socket_control_port(tmp_path):
    async with fake_tor(tmp_path, unix_socket=True) as tor:
        assert tor.control_socket is not None and tor.control_socket.startswith("/")
        async with await open_control(tor.control_socket, timeout=5) as control:
            assert await control.bootstrap() == 100
            assert control.where == tor.control_socket


async def test_password_only_and_refused_auth_say_what_to_do(tmp_path):
    async with fake_tor(tmp_path, auth="password") as tor:
        with pytest.raises(TorControlError, match="CookieAuthentication 1"):
            await open_control(tor.control, timeout=5)
    async with fake_tor(tmp_path / "b") as tor:
        tor.refuse_auth = True
        with pytest.raises(TorControlError, match="refused meshcare's authentication.*515"):
            await open_control(tor.control, timeout=5)
        tor.refuse_auth = False
        tor.cookie_path.write_bytes(b"short")
        with pytest.raises(TorControlError, match="holds 5 bytes"):
            await open_control(tor.control, timeout=5)


async def test_nothing_listening_and_silence_are_bounded(tmp_path):
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        async def accept_and_say_nothing() -> None:
            stream = await listeners[0].accept()
            async with stream:
                await trio.sleep_forever()
        nursery.start_soon(accept_and_say_nothing)
        with pytest.raises(TorControlError, match="did not answer PROTOCOLINFO within 0.2 s"):
            await open_control(f"127.0.0.1:{port}", timeout=0.2)
        nursery.cancel_scope.cancel()
    await listeners[0].aclose()
    with pytest.raises(TorControlError, match="cannot reach tor's control port"):
        await open_control(f"127.0.0.1:{port}", timeout=2)
    with pytest.raises(TorControlError, match="cannot reach"):
        await open_control(str(tmp_path / "no-such-socket"), timeout=2)


async def test_add_onion_is_published_and_ends_with_the_connection(tmp_path):
    key = OnionKey.generate()
    async with fake_tor(tmp_path) as tor:
        control = await open_control(tor.control, timeout=5)
        service_id = await control.add_onion(key, 7447, ("127.0.0.1", 40000))
        assert service_id == key.service_id
        assert tor.services[service_id].ports == {7447: ("127.0.0.1", 40000)}
        assert not tor.services[service_id].detached
        await control.wait_published(service_id, timeout=5)
        assert tor.published(key.address)
        add = [c for c in tor.commands if c.startswith("ADD_ONION")][0]
        assert "Detach" not in add and key.expanded_b64() in add
        await control.aclose()
        with trio.fail_after(5):
            while tor.services:
                await trio.sleep(0.01)


async def test_del_onion_newnym_and_a_second_service(tmp_path):
    async with fake_tor(tmp_path) as tor:
        async with await open_control(tor.control, timeout=5) as control:
            one, two = OnionKey.generate(), OnionKey.generate()
            await control.add_onion(one, 7447, ("127.0.0.1", 40000))
            await control.add_onion(two, 7447, ("127.0.0.1", 40001))
            await control.wait_published(two.service_id, timeout=5)
            await control.wait_published(one.service_id, timeout=5)   # kept although two's came first
            await control.del_onion(one.service_id)
            assert list(tor.services) == [two.service_id]
            with pytest.raises(TorControlError, match="552"):
                await control.del_onion(one.service_id)
            with pytest.raises(TorControlError, match="ServiceID"):
                await control.del_onion("x\r\nSIGNAL HALT")
            await control.newnym()
            await control.newnym()
            assert tor.newnym_count == 2


async def test_unpublished_service_times_out(tmp_path):
    async with fake_tor(tmp_path) as tor:
        tor.publish = False
        async with await open_control(tor.control, timeout=5) as control:
            key = OnionKey.generate()
            await control.add_onion(key, 7447, ("127.0.0.1", 40000))
            with pytest.raises(TorControlError, match="no HS_DESC event within 0.3 s"):
                await control.wait_published(key.service_id, timeout=0.3)


async def test_concurrent_requests_and_an_event_wait_share_the_connection(tmp_path):
    async with fake_tor(tmp_path) as tor:
        tor.publish_delay = 0.2
        async with await open_control(tor.control, timeout=5) as control:
            key = OnionKey.generate()
            await control.add_onion(key, 7447, ("127.0.0.1", 40000))
            results: list[int] = []
            async with trio.open_nursery() as nursery:
                nursery.start_soon(control.wait_published, key.service_id)

                async def poll() -> None:
                    for _ in range(20):
                        results.append(await control.bootstrap())
                for _ in range(3):
                    nursery.start_soon(poll)
            assert results == [100] * 60


async def test_tor_restart_is_an_error_every_waiter_sees(tmp_path):
    async with fake_tor(tmp_path) as tor:
        tor.publish = False
        control = await open_control(tor.control, timeout=5)
        key = OnionKey.generate()
        await control.add_onion(key, 7447, ("127.0.0.1", 40000))
        errors: list[str] = []

        async def wait() -> None:
            try:
                await control.wait_published(key.service_id, timeout=5)
            except TorControlError as exc:
                errors.append(str(exc))
        async with trio.open_nursery() as nursery:
            nursery.start_soon(wait)
            await trio.sleep(0.05)
            await tor.restart()
        assert errors and "tor stopped or restarted" in errors[0]
        assert control.closed
        with pytest.raises(TorControlError, match="restarted"):
            await control.bootstrap()
        await control.aclose()
        tor.refuse_connections = True
        with pytest.raises(TorControlError):
            await open_control(tor.control, timeout=5)
        tor.refuse_connections = False
        async with await open_control(tor.control, timeout=5) as again:
            assert await again.add_onion(key, 7447, ("127.0.0.1", 40000)) == key.service_id


async def test_a_cancelled_request_leaves_the_connection_in_step(tmp_path):
    async with fake_tor(tmp_path) as tor:
        async with await open_control(tor.control, timeout=5) as control:
            with trio.move_on_after(0):
                await control.get_info("version")
            with trio.CancelScope() as scope:
                scope.cancel()
                await control.newnym()
            assert await control.get_info("version") == {"version": "0.4.9.11 (fake)"}
            assert await control.bootstrap() == 100


async def test_wait_closed_tells_why_and_events_flow_meanwhile(tmp_path):
    async with fake_tor(tmp_path) as tor:
        control = await open_control(tor.control, timeout=5)
        key = OnionKey.generate()
        reasons: list[str] = []

        async def watch() -> None:
            reasons.append(await control.wait_closed())
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            await control.add_onion(key, 7447, ("127.0.0.1", 40000))
            await control.wait_published(key.service_id, timeout=5)
            assert reasons == []
            await tor.restart()
        assert "tor stopped or restarted" in reasons[0]
        await control.aclose()
        assert "closed" in await control.wait_closed()


async def test_a_service_added_again_waits_for_its_new_upload(tmp_path):
    async with fake_tor(tmp_path) as tor:
        async with await open_control(tor.control, timeout=5) as control:
            key = OnionKey.generate()
            await control.add_onion(key, 7447, ("127.0.0.1", 40000))
            await trio.sleep(0.2)                     # the UPLOAD/UPLOADED events are sent, not yet taken
            assert await control.bootstrap() == 100   # ... and read (queued) while this answer is read
            await control.del_onion(key.service_id)
            tor.publish = False
            await control.add_onion(key, 7447, ("127.0.0.1", 40000))
            with pytest.raises(TorControlError, match="no HS_DESC event"):
                await control.wait_published(key.service_id, timeout=0.2)
