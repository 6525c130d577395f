"""The control socket: trio server, the blocking client against it, and `meshcare status` / `peers`.

Servers listen on a Unix socket in a short directory under /tmp (socket paths must stay under 108 bytes).
The blocking ``ControlClient`` (and the CLI that uses it) runs in a worker thread via ``trio.to_thread``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import stat
import tempfile
import threading
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import trio

from meshcare import cli
from meshcare.client import ControlClient
from meshcare.control.protocol import ControlConnection, Event, Reply, Role
from meshcare.errors import (BadInput, ConfigError, DaemonNotRunning, LocalProtocolError, NotFound,
                             RequestFailed, StoreError)
from meshcare.transport.control_server import INTERNAL_ERROR, Dispatcher, EventHub, serve_control

from .helpers import wait_for

NODE_ID = "6b1cb8d7" * 8
STATUS = {"node_id": NODE_ID, "name": "Ana", "listen": "0.0.0.0:7447", "uptime_s": 3725.5, "links": 2,
          "envelopes": 17, "topics": 1, "statistics": {"frames_in": 40, "links": {"opened": 3}}}
PEERS = {"peers": [{"node_id": "ab" * 32, "address": "192.0.2.10:7447", "linked": True, "name": "Bo"},
                   {"node_id": "cd" * 32, "address": "192.0.2.11:7447", "linked": False}]}


class FakeDaemon:
    """A ControlHandler with the real ops' shapes and a few ways to fail."""

    def __init__(self, buffer: int = 16) -> None:
        self.hub = EventHub(buffer)
        self.seen: list[tuple[str, dict]] = []
        self._dispatch = Dispatcher({"status": self.status, "peers": self.peers, "boom": self.boom,
                                     "bad": self.bad, "missing": self.missing, "broken-store": self.broken,
                                     "unsendable": self.unsendable})

    async def request(self, op, args):
        self.seen.append((op, args))
        return await self._dispatch.request(op, args)

    def subscribe(self):
        return self.hub.subscribe()

    async def status(self, args):
        return STATUS

    async def peers(self, args):
        return PEERS

    async def boom(self, args):
        raise ZeroDivisionError("a bug")

    async def bad(self, args):
        raise BadInput("limit must be a positive number")

    async def missing(self, args):
        raise NotFound(f"no peer {args.get('node_id')}")

    async def broken(self, args):
        raise StoreError("the store is damaged; restore it from a backup")

    async def unsendable(self, args):
        return {"links": (1, 2)}  # a tuple: a daemon bug caught at the isolation point


@pytest.fixture
def sock_dir():
    path = Path(tempfile.mkdtemp(dir="/tmp", prefix="mc-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sock_path(sock_dir):
    return sock_dir / "control.sock"


@asynccontextmanager
async def running(path, handler, **kw):
    async with trio.open_nursery() as nursery:
        await nursery.start(partial(serve_control, path, handler, **kw))
        yield nursery
        nursery.cancel_scope.cancel()


async def in_thread(fn, *args):
    return await trio.to_thread.run_sync(fn, *args)


def ask(path, op, **args):
    with ControlClient.connect(path, timeout=3) as client:
        return client.request(op, **args)


def failure(path, op, **args) -> RequestFailed:
    with pytest.raises(RequestFailed) as info:
        ask(path, op, **args)
    return info.value


class RawClient:
    """A trio-side client speaking the protocol by hand (to misbehave, or not to read)."""

    def __init__(self, stream):
        self.stream = stream
        self.conn = ControlConnection(Role.CLIENT)
        self.pending: list = []

    @classmethod
    async def open(cls, path):
        return cls(await trio.open_unix_socket(os.fspath(path)))

    async def next_message(self):
        while not self.pending:
            data = await self.stream.receive_some(65536)
            if not data:
                return None
            self.pending += [m for m in self.conn.receive_data(data)]
        return self.pending.pop(0)

    async def request(self, op, **args):
        request_id, data = self.conn.send_request(op, args)
        await self.stream.send_all(data)
        while True:
            message = await self.next_message()
            if isinstance(message, Reply) and message.id == request_id:
                return message

    async def read_to_eof(self):
        """Read until the server closes the connection; return the bytes read."""
        got = b""
        while data := await self.stream.receive_some(65536):
            got += data
        return got


# --- the server -----------------------------------------------------------------------------------


async def test_status_and_peers(sock_path):
    daemon = FakeDaemon()
    async with running(sock_path, daemon):
        assert await in_thread(ask, sock_path, "status") == STATUS
        assert await in_thread(partial(ask, sock_path, "peers", verbose=True)) == PEERS
    assert daemon.seen == [("status", {}), ("peers", {"verbose": True})]


async def test_socket_is_private_and_removed_on_shutdown(sock_path):
    async with running(sock_path, FakeDaemon()):
        mode = os.stat(sock_path).st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    assert not sock_path.exists()


async def test_a_leftover_socket_is_replaced(sock_path):
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(os.fspath(sock_path))  # a daemon that died without cleaning up
    dead.close()
    async with running(sock_path, FakeDaemon()):
        assert (await in_thread(ask, sock_path, "status"))["name"] == "Ana"


async def test_refuses_to_replace_a_regular_file(sock_path):
    sock_path.write_text("not a socket")
    with pytest.raises(ConfigError, match="not a socket"):
        await serve_control(sock_path, FakeDaemon())
    assert sock_path.read_text() == "not a socket"


async def test_too_long_path_is_refused_clearly(sock_dir):
    with pytest.raises(BadInput, match="at most 107"):
        await serve_control(sock_dir / ("d" * 110) / "control.sock", FakeDaemon())


async def test_error_kinds(sock_path):
    async with running(sock_path, FakeDaemon()):
        unknown = await in_thread(failure, sock_path, "reboot")
        assert unknown.kind == "unknown-op" and "'reboot'" in unknown.message and "status" in unknown.message
        bad = await in_thread(failure, sock_path, "bad")
        assert (bad.kind, bad.message) == ("bad-request", "limit must be a positive number")
        missing = await in_thread(partial(failure, sock_path, "missing", node_id="ab"))
        assert (missing.kind, missing.message) == ("not-found", "no peer ab")
        store = await in_thread(failure, sock_path, "broken-store")
        assert store.kind == "failed" and "restore it from a backup" in store.message


async def test_a_handler_bug_is_logged_and_isolated(sock_path, caplog):
    caplog.set_level(logging.ERROR, logger="meshcare.control")
    async with running(sock_path, FakeDaemon()):
        with ControlClient.connect(sock_path, timeout=3) as client:
            with pytest.raises(RequestFailed) as info:
                await in_thread(client.request, "boom")
            assert (info.value.kind, info.value.message) == ("failed", INTERNAL_ERROR)
            assert (await in_thread(client.request, "status"))["name"] == "Ana"  # same connection lives on
        assert (await in_thread(ask, sock_path, "peers")) == PEERS  # and new ones work
    bug = [r for r in caplog.records if r.exc_info and r.exc_info[0] is ZeroDivisionError]
    assert bug and "boom" in bug[0].getMessage()


async def test_an_unsendable_result_is_a_logged_bug(sock_path, caplog):
    caplog.set_level(logging.ERROR, logger="meshcare.control")
    async with running(sock_path, FakeDaemon()):
        assert (await in_thread(failure, sock_path, "unsendable")).message == INTERNAL_ERROR
        assert (await in_thread(ask, sock_path, "status"))["links"] == 2
    assert any(r.exc_info and r.exc_info[0] is LocalProtocolError for r in caplog.records)


async def test_garbage_closes_only_that_client(sock_path, caplog):
    caplog.set_level(logging.WARNING, logger="meshcare.control")
    async with running(sock_path, FakeDaemon()):
        good = await RawClient.open(sock_path)
        assert (await good.request("status")).ok
        bad = await RawClient.open(sock_path)
        await bad.stream.send_all(b"\x00\x00\x00\x03abc")
        with trio.fail_after(5):
            await bad.read_to_eof()  # the server hung up on it
        await bad.stream.aclose()
        assert (await good.request("peers")).result == PEERS
        await good.stream.aclose()
    assert any("broke the protocol" in r.getMessage() for r in caplog.records)


async def test_a_version_mismatch_closes_the_connection(sock_path, caplog):
    caplog.set_level(logging.WARNING, logger="meshcare.control")
    async with running(sock_path, FakeDaemon()):
        raw = await RawClient.open(sock_path)
        from meshcare.control.protocol import MAX_MESSAGE_SIZE
        from meshcare.wire import encode_frame, pack
        await raw.stream.send_all(encode_frame(pack({"t": "hello", "version": 99, "role": "client"}),
                                               MAX_MESSAGE_SIZE))
        with trio.fail_after(5):
            await raw.read_to_eof()
        await raw.stream.aclose()
    assert any("version 99" in r.getMessage() for r in caplog.records)


async def test_subscriber_receives_events(sock_path, autojump_clock):
    daemon = FakeDaemon()
    async with running(sock_path, daemon):
        raw = await RawClient.open(sock_path)
        assert (await raw.request("subscribe")).ok
        daemon.hub.publish("peer-linked", {"node_id": "ab"})
        daemon.hub.publish("envelope-stored", {"topic": b"\x01" * 16})
        with trio.fail_after(5):
            assert await raw.next_message() == Event("peer-linked", {"node_id": "ab"})
            assert await raw.next_message() == Event("envelope-stored", {"topic": b"\x01" * 16})
        assert not (await raw.request("subscribe")).ok  # once per connection
        await raw.stream.aclose()
        await wait_for(lambda: (daemon.hub.publish("tick", {}), daemon.hub.statistics()["subscribers"])[1] == 0)


async def test_blocking_client_follows_events(sock_path):
    daemon = FakeDaemon()
    ready = threading.Event()

    def follow():
        with ControlClient.connect(sock_path, timeout=3) as client:
            with pytest.raises(LocalProtocolError):
                next(client.events())
            client.subscribe()
            assert client.request("status")["name"] == "Ana"  # requests still work while subscribed
            ready.set()
            return [event for event in client.events(timeout=5)]

    async with running(sock_path, daemon):
        async with trio.open_nursery() as nursery:
            got: list = []

            async def run():
                got.extend(await in_thread(follow))

            nursery.start_soon(run)
            await wait_for(ready.is_set)
            for i in range(3):
                daemon.hub.publish("tick", {"n": i})
            daemon.hub.close()  # the stream ends: the server closes the connection, events() returns
    assert got == [Event("tick", {"n": i}) for i in range(3)]


def test_hub_drops_a_subscriber_that_fell_behind(caplog):
    hub = EventHub(buffer=2)
    slow, fast = hub.subscribe(), hub.subscribe()
    for i in range(3):
        hub.publish("tick", {"n": i})
        fast.receive_nowait()
    assert hub.statistics() == {"subscribers": 1, "published": 3, "dropped_subscribers": 1}
    assert [slow.receive_nowait()[1]["n"] for _ in range(2)] == [0, 1]
    with pytest.raises(trio.EndOfChannel):
        slow.receive_nowait()
    assert "fell 2 events behind" in caplog.text
    with pytest.raises(LocalProtocolError):
        hub.publish("tick", {"bad": {1, 2}})


async def test_a_client_that_stops_reading_is_dropped(sock_path, caplog, autojump_clock):
    caplog.set_level(logging.WARNING, logger="meshcare.control")
    daemon = FakeDaemon(buffer=1000)
    async with running(sock_path, daemon, send_timeout=0.2):
        raw = await RawClient.open(sock_path)
        assert (await raw.request("subscribe")).ok
        for _ in range(100):  # ~10 MB: far more than the socket buffers hold
            daemon.hub.publish("big", {"blob": b"x" * 100_000})
        await wait_for(lambda: "did not read" in caplog.text)
        assert (await in_thread(ask, sock_path, "status"))["name"] == "Ana"
        await raw.stream.aclose()


async def test_unknown_op_from_the_dispatcher_lists_what_it_knows():
    dispatcher = Dispatcher({"status": None})
    with pytest.raises(Exception, match="has no operation 'x'.*knows status, subscribe"):
        await dispatcher.request("x", {})
    assert dispatcher.ops == {"status"}


async def test_the_real_daemon_answers_an_unknown_op_with_unknown_op(sock_path):
    """docs/control.md: a daemon that lacks an op answers ``unknown-op`` (not bad-request); the
    benchmark ops are in no table unless asked for, and a bad argument is still bad-request."""
    from meshcare.crypto.keys import Identity
    from meshcare.store.memory import MemoryStore
    from meshcare.transport.daemon import Daemon
    daemon = Daemon(Identity.generate("ann"), MemoryStore(), listen=("127.0.0.1", 0))
    async with trio.open_nursery() as nursery:
        await nursery.start(daemon.run)
        async with running(sock_path, daemon):
            raw = await RawClient.open(sock_path)
            for op in ("circle.frobnicate", "topic.join"):
                reply = await raw.request(op)
                assert reply.error is not None and reply.error.kind == "unknown-op", reply
                assert f"{op!r}" in reply.error.message and "call.create" in reply.error.message
            reply = await raw.request("call.create", circle=7)
            assert reply.error is not None and reply.error.kind == "bad-request"
            assert (await raw.request("status")).ok
            await raw.stream.aclose()
        nursery.cancel_scope.cancel()


# --- the blocking client without a daemon ----------------------------------------------------------


def test_client_says_no_daemon_is_running(sock_path):
    with pytest.raises(DaemonNotRunning, match=f"no meshcare daemon is running for {sock_path.parent} "
                                               r"\(start one with `meshcare daemon`\)"):
        ControlClient.connect(sock_path)


def test_client_treats_a_dead_socket_as_no_daemon(sock_path):
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(os.fspath(sock_path))
    dead.close()
    with pytest.raises(DaemonNotRunning):
        ControlClient.connect(sock_path)


# --- the CLI --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["status", "peers"])
def test_cli_without_daemon(command, sock_dir, monkeypatch, capsys):
    monkeypatch.setenv("MESHCARE_HOME", str(sock_dir))
    assert cli.main([command, "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"meshcare {command}: no meshcare daemon is running for {sock_dir} "
                            "(start one with `meshcare daemon`)\n")


async def test_cli_status_and_peers(sock_dir, monkeypatch, capsys):
    monkeypatch.setenv("MESHCARE_HOME", str(sock_dir))
    async with running(sock_dir / "control.sock", FakeDaemon()):
        assert await in_thread(cli.main, ["status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status == STATUS
        assert set(status) >= {"node_id", "name", "listen", "uptime_s", "links", "envelopes", "topics",
                               "statistics"}

        assert await in_thread(cli.main, ["peers", "--json"]) == 0
        peers = json.loads(capsys.readouterr().out)
        assert set(peers) == {"peers"}
        assert all({"node_id", "address", "linked"} <= set(p) for p in peers["peers"])

        assert await in_thread(cli.main, ["status"]) == 0
        text = capsys.readouterr().out
        assert "Ana" in text and "up 1 h 2 min" in text and "links 2, envelopes 17, topics 1" in text
        assert "links.opened: 3" in text

        assert await in_thread(cli.main, ["peers"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split() == ["NODE", "ID", "ADDRESS", "LINKED", "NAME"]
        assert lines[1].split() == ["ab" * 8, "192.0.2.10:7447", "yes", "Bo"]
        assert lines[2].split() == ["cd" * 8, "192.0.2.11:7447", "no"]


async def test_cli_peers_when_there_are_none(sock_dir, monkeypatch, capsys):
    monkeypatch.setenv("MESHCARE_HOME", str(sock_dir))
    daemon = FakeDaemon()

    async def no_peers(args):
        return {"peers": []}

    daemon._dispatch = Dispatcher({"peers": no_peers})
    async with running(sock_dir / "control.sock", daemon):
        assert await in_thread(cli.main, ["peers"]) == 0
        assert capsys.readouterr().out == "No peers known yet.\n"
        assert await in_thread(cli.main, ["status"]) == 1
        assert "has no operation 'status'" in capsys.readouterr().err
