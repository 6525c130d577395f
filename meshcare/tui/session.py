"""The event stream: subscribe, snapshot, follow; on loss, say so, wait, and do it all again.

Theory of operation
-------------------
One coroutine, ``follow``, owns the subscribe connection for the life of the UI (the app runs it in
one exclusive Textual worker). Each round: connect, ``subscribe``, ``snapshot`` (all calls, resolved ones
too), hand the snapshot on, then hand on events in batches (``Connection.next_events`` takes every event
already queued behind the first, so a catch-up burst of hundreds is applied once, under one
``batch_update``). The model applies only events numbered after the snapshot (docs/control.md), so
nothing is missed and nothing is applied twice, however the connection ended: the daemon restarted,
dropped this client for being slow (rule 6), or went away.

When a round ends, ``on_lost`` gets the reason (the status line says "reconnecting..."), and the next
round starts after a backoff that doubles from ``first`` to ``most`` seconds and starts over once a
snapshot arrived. A ``join`` welcome asks for a fresh snapshot on the same connection: what the circle
held before this node joined is not told one event at a time.

A ``care.changed`` event names a care object without its view (docs/control.md): for the objects of
``CARE_LISTS`` the session reads that object's list op again on the same connection, after the batch,
and hands the answer to ``on_care`` (a daemon without that op is left alone).

Nothing polls: between events the coroutine waits on the socket. Callbacks keep this module free of
Textual, so the tests drive it against the fake daemon directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from ..control import api
from ..errors import DaemonUnavailable, ProtocolError, RequestFailed
from .client import Connection, Connector


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds between reconnection attempts: ``first``, doubling up to ``most``."""

    first: float = 0.25
    most: float = 5.0

    def next(self, delay: float) -> float:
        return min(max(delay * 2, self.first), self.most)


def wants_snapshot(events: list[api.Event]) -> bool:
    """A batch holding a ``join`` welcome: take a new snapshot (the circle's past comes only in one)."""
    return any(isinstance(e, api.JoinEvent) and e.outcome == "welcome" for e in events)


#: Care objects (``vocab.CARE_OBJECTS``) whose list the TUI keeps: what a ``care.changed`` names -> the
#: request that reads it again (its answer goes to ``on_care``).
CARE_LISTS: Final[Mapping[str, Callable[[], api.Request[Any]]]] = {
    "needs": lambda: api.NeedList(all=True),
}


def care_to_read(events: list[api.Event]) -> list[str]:
    """The care lists a batch says changed (each read once per batch, in a fixed order)."""
    return sorted({e.what for e in events if isinstance(e, api.CareChangedEvent) and e.what in CARE_LISTS})


async def _read_care(conn: Connection, whats: list[str], on_care: Callable[[api.Result], None]) -> None:
    for what in whats:
        try:
            on_care(await conn.ask(CARE_LISTS[what]()))
        except RequestFailed:
            continue              # an older daemon without that op: its objects are not shown


async def follow(connect: Connector,
                 on_snapshot: Callable[[api.SnapshotResult], None],
                 on_events: Callable[[list[api.Event]], None],
                 on_lost: Callable[[str], None],
                 *, on_care: Callable[[api.Result], None] | None = None, backoff: Backoff = Backoff(),
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
    """Follow the daemon's event stream until cancelled (see the module docstring). Never returns."""
    delay = backoff.first
    while True:
        conn: Connection | None = None
        try:
            conn = await connect()
            await conn.subscribe()
            on_snapshot(await conn.ask(api.Snapshot(all_calls=True)))
            delay = backoff.first
            while True:
                events = await conn.next_events()
                on_events(events)
                if wants_snapshot(events):
                    on_snapshot(await conn.ask(api.Snapshot(all_calls=True)))
                if on_care is not None:
                    await _read_care(conn, care_to_read(events), on_care)
        except (DaemonUnavailable, ProtocolError) as exc:
            on_lost(str(exc))
        finally:
            if conn is not None:
                await conn.close()
        await sleep(delay)
        delay = backoff.next(delay)
