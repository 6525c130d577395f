"""The asyncio control client and the session loop, against the fake daemon (no Textual here)."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from meshcare.control import api
from meshcare.errors import DaemonNotRunning, DaemonUnavailable, RequestFailed
from meshcare.tui.client import Client, Connection, probe
from meshcare.tui.session import Backoff, follow, wants_snapshot

from .fakedaemon import BEN, ELM, FakeDaemon, make_call
from .harness import run


@asynccontextmanager
async def daemon() -> AsyncIterator[FakeDaemon]:
    where = Path(tempfile.mkdtemp(prefix="mc-tui-", dir="/tmp"))
    fake = FakeDaemon(where / "control.sock")
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
        shutil.rmtree(where, ignore_errors=True)


async def until(done: Callable[[], object], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_ask_is_typed_and_refusals_are_request_failed() -> None:
    async def scenario() -> None:
        async with daemon() as fake:
            conn = await Connection.open(fake.path)
            status = await conn.ask(api.Status())
            assert isinstance(status, api.StatusResult) and status.name == "Sam"
            fake.fail["call.claim"] = ("bad-request", "someone else already has it")
            with pytest.raises(RequestFailed) as refused:
                await conn.ask(api.CallClaim(call="abcd"))
            assert refused.value.kind == "bad-request" and "already has it" in refused.value.message
            await probe(fake.path)
            await conn.close()
            assert conn.closed
    run(scenario)


def test_no_daemon_is_daemon_not_running_and_a_drop_is_daemon_unavailable() -> None:
    async def scenario() -> None:
        where = Path(tempfile.mkdtemp(prefix="mc-tui-", dir="/tmp"))
        try:
            with pytest.raises(DaemonNotRunning, match="no meshcare daemon is running"):
                await Connection.open(where / "control.sock")
        finally:
            shutil.rmtree(where)
        async with daemon() as fake:
            conn = await Connection.open(fake.path)
            fake.delay = 5.0
            asking = asyncio.ensure_future(conn.ask(api.Status()))
            await until(lambda: fake.asked)
            await fake.stop()
            with pytest.raises(DaemonUnavailable):
                await asking
            with pytest.raises(DaemonUnavailable):
                await conn.next_events()
            await conn.close()
    run(scenario)


def test_a_silent_daemon_times_out() -> None:
    async def scenario() -> None:
        async with daemon() as fake:
            conn = await Connection.open(fake.path, timeout=0.2)
            fake.delay = 2.0
            with pytest.raises(DaemonUnavailable, match="did not answer 'status' in 0.2 s"):
                await conn.ask(api.Status())
            await conn.close()
    run(scenario)


def test_a_burst_of_events_comes_as_few_batches_in_order() -> None:
    async def scenario() -> None:
        async with daemon() as fake:
            conn = await Connection.open(fake.path)
            await conn.subscribe()
            await until(lambda: fake.subscribers == 1)
            for i in range(300):
                fake.push(api.SyncEvent(circle=ELM, state="catching_up" if i % 2 else "caught_up"))
            got: list[api.Event] = []
            batches = 0
            while len(got) < 300:
                got += await conn.next_events()
                batches += 1
            assert [e.seq for e in got] == list(range(1, 301))
            assert batches < 30
            await conn.close()
    run(scenario)


def test_the_request_client_reconnects_after_the_daemon_came_back() -> None:
    async def scenario() -> None:
        async with daemon() as fake:
            async def connect() -> Connection:
                return await Connection.open(fake.path)
            client = Client(connect)
            assert (await client.ask(api.Status())).name == "Sam"
            await fake.stop()
            with pytest.raises(DaemonUnavailable):
                await client.ask(api.Status())
            await fake.start()
            assert (await client.ask(api.Status())).name == "Sam"
            await client.close()
    run(scenario)


def test_the_session_resubscribes_and_takes_a_snapshot_after_every_loss() -> None:
    async def scenario() -> None:
        async with daemon() as fake:
            snapshots: list[api.SnapshotResult] = []
            events: list[api.Event] = []
            lost: list[str] = []

            async def connect() -> Connection:
                return await Connection.open(fake.path)
            task = asyncio.ensure_future(follow(connect, snapshots.append, events.extend, lost.append,
                                                backoff=Backoff(0.02, 0.1)))
            await until(lambda: snapshots and fake.subscribers == 1)
            fake.push(api.SyncEvent(circle=ELM, state="catching_up"))
            await until(lambda: events)
            assert events[0].seq == snapshots[0].seq + 1
            await fake.stop()
            await until(lambda: lost)
            away = make_call("while-away", BEN, "came while the UI was away", urgency="now")
            fake.set_call(away, "new")                      # nobody hears it: it is in the next snapshot
            await fake.start(restart_seq=True)
            await until(lambda: len(snapshots) == 2)
            assert away.id in {c.id for c in snapshots[1].calls}
            assert "closed the connection" in lost[0] or "no meshcare daemon" in lost[0]
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    run(scenario)


def test_a_join_welcome_takes_a_new_snapshot() -> None:
    welcome = api.JoinEvent(circle=ELM, name="Elm St", outcome="welcome", reason=None)
    assert wants_snapshot([welcome]) and not wants_snapshot([dataclasses.replace(welcome, outcome="refused",
                                                                                   reason="used")])

    async def scenario() -> None:
        async with daemon() as fake:
            snapshots: list[api.SnapshotResult] = []

            async def connect() -> Connection:
                return await Connection.open(fake.path)
            task = asyncio.ensure_future(follow(connect, snapshots.append, lambda _e: None, lambda _r: None))
            await until(lambda: snapshots and fake.subscribers == 1)
            fake.push(welcome)
            await until(lambda: len(snapshots) == 2)
            assert snapshots[1].seq == 1
            task.cancel()
    run(scenario)


def test_run_says_when_no_daemon_is_there(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from meshcare.config import Settings
    from meshcare.tui.app import run as run_tui

    with pytest.raises(DaemonNotRunning, match="start one with `meshcare daemon`"):
        run_tui(Settings(home=tmp_path))
