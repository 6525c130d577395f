"""The daemon presents the node's facts as events in a task of their own (transport/daemon.py,
``_present``): one view built at a time, so a hundred changed calls never hold every link and client
for tens of milliseconds; a bug presenting one fact loses that event only; a presenter far behind ends
the subscriptions instead of holding facts without bound."""

from __future__ import annotations

from typing import Any

import trio

from meshcare.transport import daemon as daemon_module
from meshcare.transport.presenter import LIMIT

from .helpers import founded, wait_for


async def _collect(events: Any, into: list[tuple[str, dict[str, Any]]]) -> None:
    async for name, data in events:
        into.append((name, data))


async def test_facts_become_events_after_the_write_and_one_at_a_time(autojump_clock, monkeypatch) -> None:
    async with trio.open_nursery() as nursery:
        ann = await founded(nursery)
        got: list[tuple[str, dict[str, Any]]] = []
        nursery.start_soon(_collect, ann.subscribe(), got)
        tasks: list[str] = []
        stored: list[bool] = []
        real = daemon_module.event_of

        def watched(fact: Any, node: Any, now: float) -> Any:
            tasks.append(trio.lowlevel.current_task().name)       # who builds the view
            stored.append(all(ann.store.has(bytes.fromhex(d["id"])) for n, d in got if n == "envelope"))
            return real(fact, node, now)
        monkeypatch.setattr(daemon_module, "event_of", watched)
        for i in range(5):
            await ann.request("call.create", {"circle": "Elm St", "text": f"call {i}"})
        await wait_for(lambda: sum(1 for name, _ in got if name == "call.changed") == 5)
        assert len(tasks) >= 5 and all(name.endswith("Presenter.run") for name in tasks), set(tasks)
        assert all(stored)
        nursery.cancel_scope.cancel()


async def test_a_bug_presenting_one_fact_loses_that_event_only(autojump_clock, monkeypatch) -> None:
    async with trio.open_nursery() as nursery:
        ann = await founded(nursery)
        got: list[tuple[str, dict[str, Any]]] = []
        nursery.start_soon(_collect, ann.subscribe(), got)
        real = daemon_module.event_of
        calls = [0]

        def flaky(fact: Any, node: Any, now: float) -> Any:
            calls[0] += 1
            if calls[0] == 1:
                raise RuntimeError("injected presenter bug")
            return real(fact, node, now)
        monkeypatch.setattr(daemon_module, "event_of", flaky)
        before = ann.faults.count
        await ann.request("call.create", {"circle": "Elm St", "text": "first"})
        await ann.request("call.create", {"circle": "Elm St", "text": "second"})
        await wait_for(lambda: any(name == "call.changed" for name, _ in got))
        assert ann.faults.count == before + 1
        assert (await ann.request("status", {}))["name"] == "ann"
        nursery.cancel_scope.cancel()


async def test_a_presenter_far_behind_ends_the_subscriptions(autojump_clock) -> None:
    async with trio.open_nursery() as nursery:
        ann = await founded(nursery)
        events = ann.subscribe()
        ann.presenter.limit = 3
        ann.presenter.add([object()] * 4)  # type: ignore[list-item]  # stand-ins for facts not presented yet
        assert not ann.events.subscribed and not ann.presenter.waiting
        with trio.fail_after(5):
            async for _ in events:                   # the subscription ends (the client resubscribes)
                pass
        assert LIMIT >= 1000
        nursery.cancel_scope.cancel()
